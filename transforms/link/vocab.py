"""Word lists for parsing 企业名称 (enterprise names): regions (行政区划), industries (行业) and legal forms (组织形式).

All entries are in simplified Chinese, lower-case, without punctuation: the form `name_key` produces.
"""

from __future__ import annotations

from typing import Final


def _words(text: str) -> list[str]:
    """A whitespace-separated word list (kept as text so the lists stay readable)."""
    return text.split()


# Provinces (省级行政区) with the official suffixes people write or drop.
_PROVINCES: Final = {
    "北京": ("市",), "天津": ("市",), "上海": ("市",), "重庆": ("市",),
    "河北": ("省",), "山西": ("省",), "辽宁": ("省",), "吉林": ("省",), "黑龙江": ("省",), "江苏": ("省",),
    "浙江": ("省",), "安徽": ("省",), "福建": ("省",), "江西": ("省",), "山东": ("省",), "河南": ("省",),
    "湖北": ("省",), "湖南": ("省",), "广东": ("省",), "海南": ("省",), "四川": ("省",), "贵州": ("省",),
    "云南": ("省",), "陕西": ("省",), "甘肃": ("省",), "青海": ("省",), "台湾": ("省",),
    "内蒙古": ("自治区",), "广西": ("壮族自治区", "自治区"), "西藏": ("自治区",), "宁夏": ("回族自治区", "自治区"),
    "新疆": ("维吾尔自治区", "自治区"), "香港": ("特别行政区",), "澳门": ("特别行政区",),
}

# Prefecture-level cities (地级市). Districts are left out on purpose: many double as trade names (金山, 长城).
_CITIES: Final = _words("""
石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁
呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳
盘锦 铁岭 葫芦岛 长春 四平 辽源 通化 白山 松原 白城 延边 哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯
七台河 牡丹江 黑河 绥化 南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 杭州 宁波 温州 嘉兴
湖州 绍兴 金华 衢州 舟山 台州 丽水 合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 滁州 阜阳 宿州 六安 亳州 池州
宣城 福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶 济南
青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡
焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州
长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名
肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 潮州 揭阳 云浮 南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色
贺州 河池 来宾 崇左 海口 三亚 儋州 成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州
雅安 巴中 资阳 贵阳 六盘水 遵义 安顺 毕节 铜仁 昆明 曲靖 玉溪 保山 昭通 普洱 临沧 拉萨 日喀则 西安 铜川 宝鸡
咸阳 渭南 延安 汉中 榆林 安康 商洛 兰州 嘉峪关 金昌 天水 武威 张掖 平凉 酒泉 庆阳 定西 西宁 银川 石嘴山 吴忠
固原 中卫 乌鲁木齐 克拉玛依 吐鲁番 哈密 苏州工业园区 雄安新区 浦东新区 滨海新区
""")


def _region_variants() -> dict[str, str]:
    """Every written form of a region → its canonical short name (北京市 → 北京, 广西壮族自治区 → 广西)."""
    variants: dict[str, str] = {"中国": "中国", "中华人民共和国": "中国"}
    for name, suffixes in _PROVINCES.items():
        variants[name] = name
        for suffix in suffixes:
            variants[name + suffix] = name
    for city in _CITIES:
        variants[city] = city
        if not city.endswith("区"):
            variants[city + "市"] = city
    return variants


REGIONS: Final[dict[str, str]] = _region_variants()
REGION_MAX_LEN: Final = max(map(len, REGIONS))

# Industry words (行业表述), matched as the longest suffix before the legal form. Compound forms come first
# so 网络科技 and 科技 stay different industries (two distinct registered names).
INDUSTRIES: Final = frozenset(_words("""
云计算技术 云计算科技 云计算 云科技 云技术 云服务 云网络 信息技术服务 信息技术 信息科技 信息服务 信息产业 信息系统
网络科技 网络技术 网络信息 网络通信 网络服务 网络传媒 数据科技 数据技术 数据服务 数据系统 大数据科技 大数据 数字科技
数字技术 智能科技 智能技术 人工智能 通信技术 通信科技 通信服务 通讯技术 通讯科技 通信 通讯 电信 电信服务
电子商务 电子科技 电子技术 电子信息 计算机技术 计算机系统 计算机服务 计算机 软件技术 软件科技 软件开发 软件
系统集成 系统工程 系统技术 互联网科技 互联网技术 互联网信息服务 互联网 物联网科技 物联网 科技发展 科技服务 科技
技术服务 技术开发 技术 信息 网络 数据 电子 实业 投资 控股 投资控股 贸易 商贸 咨询 服务 传媒 文化传媒 文化
发展 能源 数据中心 信息港 云 计算
"""))
INDUSTRY_MAX_LEN: Final = max(map(len, INDUSTRIES))

# Legal forms (组织形式), longest first. name_key already folds 有限责任公司 into 有限公司.
LEGAL_FORMS: Final = (
    "集团股份有限公司", "集团有限公司", "股份有限公司", "有限合伙企业", "普通合伙企业", "合伙企业", "股份公司",
    "集团公司", "有限公司", "有限合伙", "普通合伙", "公司", "集团",
)

# Words that end a branch name (分支机构). 办事处 and 代表处 are representative offices of the parent.
BRANCH_WORDS: Final = ("分支机构", "分公司", "支公司", "营业部", "办事处", "代表处", "分店")
