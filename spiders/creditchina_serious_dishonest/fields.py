"""Item schema of creditchina_serious_dishonest: an entry of 信用中国's 严重失信主体名单 (registries.md §1.2, §7.8)."""

from __future__ import annotations

from pipelines.schemas import Field

SERIOUS_DISHONEST_LIST = {
    # serious_dishonest_list -- 严重失信主体名单 (typeSourceSearch type=严重失信主体名单); the columns are read by
    # their Chinese labels (sencesMap), which the site sends with every row
    "subject_name": Field("name", required=True),  # 失信主体名称
    "subject_uscc": Field("uscc"),  # 统一社会信用代码
    "list_name": Field("text", required=True),  # 名单类别 (which list of the 严重失信主体名单 it is on)
    "reason": Field("long_text", required=True),  # 列入原因 / 失信行为
    "listed_on": Field("date", required=True),  # 列入日期 (认定日期)
    "document_no": Field("text"),  # 认定文书号
    "authority": Field("text"),  # 认定部门
    "data_source": Field("text"),  # 数据来源
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"serious_dishonest_list": SERIOUS_DISHONEST_LIST}
