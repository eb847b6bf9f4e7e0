"""Seeded synthetic crawl runs at registry scale (issue 8), in the real run-folder format.

    .venv/bin/python -m bench.generate OUT_DIR [--scale small|1m|10m] [--seed N]

writes two run folders under OUT_DIR (pipelines.run_folder: `<source>.parquet` with RECORD_SCHEMA, an
empty `<source>.quarantine.parquet`, `<source>.manifest.json` written last):

- `<week1 run id>/`: the full crawl — 电信业务经营许可证 licences of N operators (MIIT), 行政处罚 penalties
  (信用中国 and the 公示系统), 经营异常名录 abnormal operations and 严重违法失信名单 serious illegal list
  entries (公示系统), 不良/失信名单 list entries (MIIT) and 失信被执行人 court cases; each family is written
  as the source that declares its platform and item type (spiders/<source>/source.yml, fields.py);
- `<week2 run id>/`: next week's crawl, where 5 % of the records differ: 3 % changed, 1 % gone, 1 % new.

Every value is a pure function of (seed, row index, field): a row can be regenerated alone, so next
week's changed and added rows need no state. Strings are built column-wise with pyarrow.compute (no
Python loop over records), ids and hashes with a numpy integer mix. Operators have branches (分公司),
brand aliases and name variants (traditional script, 有限责任公司); most records name other companies.
Values are plain CJK/ASCII text without quotes or backslashes, so JSON is assembled by concatenation.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.run_folder import QUARANTINE_SCHEMA, RECORD_SCHEMA, Manifest, RunFolder, write_manifest
from spiders.source import item_fields
from spiders.source import sources as declared_sources

SEED = 20261123
AS_OF = date(2026, 11, 23)  # week 2 is crawled on this day, week 1 seven days before
WEEK1_RUN, WEEK2_RUN = "20261116T060000Z-b001", "20261123T060000Z-b002"
CHUNK = 1_000_000  # rows rendered and written per parquet row group (bounds the generator's memory)


@dataclass(frozen=True)
class Scale:
    operators: int
    records: int  # all record families together, licences included
    crawl_operators: int  # size of the replica world the crawl stage runs on


SCALES = {
    "small": Scale(6_000, 100_000, 40),
    "1m": Scale(60_000, 1_000_000, 300),
    "10m": Scale(60_000, 10_000_000, 300),
}
# Share of the non-licence records per (platform, item type); the source is the one declaring both.
FAMILIES = {
    ("creditchina", "penalty"): 0.35,
    ("gsxt", "penalty"): 0.10,
    ("gsxt", "abnormal_operation"): 0.25,
    ("gsxt", "serious_illegal_list"): 0.04,
    ("miit", "telecom_list_entry"): 0.01,
    ("court", "court_dishonest"): 0.23,
    ("creditchina", "serious_dishonest_list"): 0.005,
    ("tax", "tax_major_violation"): 0.005,
    ("gsxt", "company_annual_report"): 0.005,
    ("miit", "telecom_annual_report"): 0.005,
}
CHANGED, REMOVED, ADDED = 0.03, 0.01, 0.01  # next week: 5 % of records differ

REGIONS = ("北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "重庆", "天津", "苏州", "郑州",
           "长沙", "合肥", "济南", "青岛", "厦门", "福州", "宁波", "贵阳", "中卫", "广东", "江苏", "浙江", "四川")
REGION_CODES = ("110000", "310000", "440100", "440300", "330100", "320100", "510100", "420100", "610100",
                "500000", "120000", "320500", "410100", "430100", "340100", "370100", "370200", "350200",
                "350100", "330200", "520100", "640500", "440000", "320000", "330000", "510000")
ABBREV = ("京", "沪", "粤", "粤", "浙", "苏", "川", "鄂", "陕", "渝", "津", "苏", "豫", "湘", "皖", "鲁", "鲁", "闽",
          "闽", "浙", "黔", "宁", "粤", "苏", "浙", "川")
TRADE_CHARS = tuple("瑞祥泰鑫华达恒盛宏昌嘉博睿星辰易航腾联锐智远宇凯越德丰隆源亿卓新明光辉佳美优品诚创聚汇润和顺"
                    "利兴旺福康乐欣悦众合力飞鸿鹏龙凤金玉宝荣耀锦峰川泽江河讯迅捷云端数微视图灵思维度道途驰奥蓝"
                    "青天地人中东南北春秋风雷山石方圆正大同心安平世纪网宿信启翼通海鼎")
INDUSTRIES = ("科技", "网络科技", "信息技术", "数据科技", "云计算科技", "通信技术", "计算机系统", "网络技术",
              "电子商务", "软件", "信息科技", "智能科技", "数字科技", "互联网科技", "实业", "贸易", "文化传媒")
FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")
SURNAMES = tuple("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = tuple("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚")
BUSINESS_TYPES = ("互联网数据中心业务(仅限互联网资源协作服务)", "互联网数据中心业务(不含互联网资源协作服务)",
                  "内容分发网络业务", "互联网接入服务业务(含网站接入)", "信息服务业务(仅限互联网信息服务)")
PENALTY_KINDS = ("警告", "罚款", "罚款", "罚款;没收违法所得", "罚款;责令停产停业", "吊销许可证件", "通报批评")
FINES = ("2000", "5000", "10000", "30000", "50000", "100000", "200000", "500000")
ABNORMAL_REASONS = ("未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
                    "通过登记的住所或者经营场所无法联系的",
                    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的")
SERIOUS_REASONS = ("被列入经营异常名录届满3年仍未履行相关义务的",
                   "提交虚假材料或者采取其他欺诈手段隐瞒重要事实，取得公司登记的")
DISRUPT_TYPES = ("有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令")
PERFORMANCE = ("全部未履行", "部分未履行")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = np.array([pow(3, i, 31) for i in range(17)], dtype=np.int64)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_ALPHA = np.frombuffer(USCC_ALPHABET.encode(), dtype=np.uint8)
_EPOCH = date(1970, 1, 1)


class GenerateError(ValueError):
    pass


# -- per-row randomness: a pure function of (seed, row, salt) ---------------------------------------------
def mix(values: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a uint64 → uint64 bijection whose output looks random."""
    z = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        z += np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def draw(seed: int, rows: np.ndarray, salt: str) -> np.ndarray:
    """Uniform [0, 1) per row, the same for the same (seed, row, salt) whatever else is generated."""
    key = np.uint64(int.from_bytes(salt.encode()[:8].ljust(8, b"\0"), "little") ^ (seed * 0x2545F4914F6CDD1D)
                    & 0xFFFFFFFFFFFFFFFF)
    with np.errstate(over="ignore"):
        bits = mix(rows.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) ^ key)
    return (bits >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def pick(seed: int, rows: np.ndarray, salt: str, choices: tuple[str, ...] | pa.Array) -> pa.Array:
    """One of `choices` per row."""
    values = choices if isinstance(choices, pa.Array) else pa.array(choices, pa.string())
    index = np.minimum((draw(seed, rows, salt) * len(values)).astype(np.int64), len(values) - 1)
    return values.take(pa.array(index))


def hex_ids(seed: int, rows: np.ndarray, salt: str, width: int) -> pa.Array:
    """`width` lowercase hex characters per row (16 per uint64 word), like a truncated sha digest."""
    words = -(-width // 16)
    parts = []
    for word in range(words):
        bits = (draw(seed, rows, f"{salt}{word}") * float(1 << 53)).astype(np.uint64) << np.uint64(11)
        bits ^= mix(rows.astype(np.uint64) + np.uint64(word))
        nibbles = bits.astype(">u8").view(np.uint8).reshape(-1, 8)
        parts.append(np.stack([_HEX[nibbles >> 4], _HEX[nibbles & 15]], axis=2).reshape(-1, 16))
    chars = np.ascontiguousarray(np.concatenate(parts, axis=1)[:, :width])
    return _fixed_width_strings(chars)


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """A (rows, width) uint8 array of ASCII → a pyarrow string array, without a Python loop."""
    rows, width = chars.shape
    offsets = pa.array(np.arange(0, (rows + 1) * width, width, dtype=np.int32))
    return pa.StringArray.from_buffers(rows, offsets.buffers()[1], pa.py_buffer(chars.tobytes()))


def usccs(seed: int, rows: np.ndarray, salt: str, kind: str = "91", region: np.ndarray | None = None) -> pa.Array:
    """Valid 统一社会信用代码 (GB 32100 check character), one per row; distinct rows give distinct codes
    (the 9-character organisation code is a bijection of the row number)."""
    n = len(rows)
    region_index = region if region is not None else (draw(seed, rows, salt + "r") * len(REGION_CODES)).astype(int)
    codes = np.array([[int(c) for c in code] for code in REGION_CODES], dtype=np.int64)[region_index]
    salt_offset = int(draw(seed, np.array([0]), salt)[0] * 31**8)
    org = (rows.astype(np.int64) * 7_368_787 + salt_offset) % (31**9)  # 7368787 is coprime with 31
    digits = np.empty((n, 9), dtype=np.int64)
    for position in range(8, -1, -1):
        digits[:, position] = org % 31
        org //= 31
    first = np.column_stack([np.full(n, int(kind[0])), np.full(n, int(kind[1])), codes, digits])
    check = (31 - (first @ _USCC_WEIGHTS) % 31) % 31
    return _fixed_width_strings(_ALPHA[np.column_stack([first, check])].astype(np.uint8))


def break_check_char(codes: pa.Array) -> pa.Array:
    """The same codes with a wrong check character, as registries sometimes publish them."""
    fixed = np.array(codes.to_numpy(zero_copy_only=False), dtype="S18")
    chars = np.frombuffer(fixed.tobytes(), dtype=np.uint8).reshape(-1, 18).copy()
    position = np.searchsorted(np.sort(_ALPHA), chars[:, 17])
    index = np.argsort(_ALPHA)[position]
    chars[:, 17] = _ALPHA[(index + 1) % 31]
    return _fixed_width_strings(chars)


def dates(seed: int, rows: np.ndarray, salt: str, latest: date, span_days: int, min_days: int = 0) -> pa.Array:
    """ISO dates between `latest - span_days` and `latest - min_days`."""
    back = min_days + (draw(seed, rows, salt) * (span_days - min_days)).astype(np.int32)
    day = (latest - _EPOCH).days - back
    return pc.cast(pa.array(day.astype(np.int32)).cast(pa.date32()), pa.string())


def shift_days(days: pa.Array, offsets: np.ndarray) -> pa.Array:
    as_int = pc.cast(pc.cast(days, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False) + offsets
    return pc.cast(pa.array(as_int.astype(np.int32)).cast(pa.date32()), pa.string())


def join(*parts: pa.Array | str) -> pa.Array:
    """Concatenate strings element-wise; a NULL part makes the result NULL."""
    return pc.binary_join_element_wise(*parts, "")


def when(mask: np.ndarray, values: pa.Array | str, otherwise: pa.Array | str | None = None) -> pa.Array:
    other = otherwise if otherwise is not None else pa.scalar(None, pa.string())
    return pc.if_else(pa.array(mask), values, other)


def json_object(fields: dict[str, pa.Array | str | None], raw: frozenset[str] = frozenset()) -> pa.Array:
    """`{"k": "v", …}` per row in the order given (callers pass sorted keys, as to_json does); NULL → null.
    Keys in `raw` hold JSON already (a nested list or object)."""
    pieces: list[pa.Array | str] = []
    for number, (key, value) in enumerate(fields.items()):
        lead = ("{" if number == 0 else ", ") + f'"{key}": '
        if value is None:
            pieces.append(lead + "null")
            continue
        if isinstance(value, str):
            pieces.append(lead + (value if key in raw else f'"{value}"'))
            continue
        rendered = value if key in raw else join('"', value, '"')
        pieces.append(pc.fill_null(join(lead, rendered), lead + "null"))
    pieces.append("}")
    return join(*pieces)


# -- the world: operators and the subjects records name ----------------------------------------------------
@dataclass
class Subjects:
    """Names records are published under: operators' own (with variants, branches, aliases) and others."""

    name: pa.Array
    uscc_raw: pa.Array  # as published (may be NULL or carry a wrong check character)
    uscc: pa.Array  # NULL unless valid
    operator_side: int  # the first `operator_side` rows are about operators, the rest about others


@dataclass
class World:
    seed: int
    scale: Scale
    operator_names: pa.Array
    operator_usccs: pa.Array
    operator_region: np.ndarray
    subjects: Subjects


def company_names(seed: int, rows: np.ndarray, salt: str, region: np.ndarray | None = None) -> pa.Array:
    """Region (75 %) + trade name 字号 (2–4 characters) + industry + legal form, per row."""
    regions = pa.array(REGIONS, pa.string())
    region_name = (regions.take(pa.array(region)) if region is not None else pick(seed, rows, salt + "r", REGIONS))
    region_name = when(draw(seed, rows, salt + "R") < 0.75, region_name, "")
    trade = [pick(seed, rows, f"{salt}t{i}", TRADE_CHARS) for i in range(4)]
    length = draw(seed, rows, salt + "n")
    trade[2] = when(length < 0.8, trade[2], "")
    trade[3] = when(length < 0.3, trade[3], "")
    return join(region_name, *trade, pick(seed, rows, salt + "i", INDUSTRIES), pick(seed, rows, salt + "f", FORMS))


def make_world(scale: Scale, seed: int = SEED) -> World:
    """Operators (unique names, valid USCCs) and the subject pool records draw their names from."""
    candidates = np.arange(int(scale.operators * 1.3) + 100, dtype=np.int64)
    region = (draw(seed, candidates, "op-region") * len(REGIONS)).astype(np.int64)
    names = company_names(seed, candidates, "op", region)
    _, first = np.unique(np.asarray(names.to_numpy(zero_copy_only=False), dtype=object), return_index=True)
    keep = np.sort(first)[: scale.operators]
    if len(keep) < scale.operators:
        raise GenerateError(f"only {len(keep)} distinct operator names for {scale.operators} operators")
    rows = np.arange(scale.operators, dtype=np.int64)
    names, region = names.take(pa.array(keep)), region[keep]
    codes = usccs(seed, rows, "op-uscc", region=region)
    subjects = make_subjects(seed, scale, names, codes)
    return World(seed, scale, names, codes, region, subjects)


def make_subjects(seed: int, scale: Scale, names: pa.Array, codes: pa.Array) -> Subjects:
    import opencc

    n = len(names)
    rows = np.arange(n, dtype=np.int64)
    text = names.to_pylist()
    s2t = opencc.OpenCC("s2t")
    # Operator side: the name as registered, in traditional script, 有限责任公司, a branch, a brand alias.
    traditional = pa.array([s2t.convert(t) for t in text], pa.string())
    llc = pc.replace_substring(names, "有限公司", "有限责任公司", max_replacements=1)
    branch = join(names, pick(seed, rows, "branch", REGIONS), "分公司")
    alias = join(pc.utf8_slice_codeunits(names, 2, 4), pick(seed, rows, "alias", ("云", "数据", "网络")))
    op_names = pa.concat_arrays([names, names, names, traditional, llc, branch, alias])
    op_usccs = pa.concat_arrays([codes, codes, codes, codes, codes,
                                 usccs(seed, rows, "branch-uscc"), pa.nulls(n, pa.string())])
    # Others: companies that hold no licence, repeated across records as registries repeat them.
    others = max(scale.records // 5, 10_000)
    other_rows = np.arange(others, dtype=np.int64)
    other_names = company_names(seed, other_rows, "other")
    other_usccs = usccs(seed, other_rows, "other-uscc")
    # 个体工商户: a person's business (USCC 92…), whose records are personal data.
    persons = max(others // 50, 100)
    person_rows = np.arange(persons, dtype=np.int64)
    person_names = join(pick(seed, person_rows, "pr", REGIONS), "市", pick(seed, person_rows, "ps", SURNAMES),
                        pick(seed, person_rows, "pg", GIVEN), "网络服务部")
    all_names = pa.concat_arrays([op_names, other_names, person_names])
    valid = pa.concat_arrays([op_usccs, other_usccs, usccs(seed, person_rows, "person-uscc", kind="92")])
    everyone = np.arange(len(all_names), dtype=np.int64)
    roll = draw(seed, everyone, "published-uscc")
    missing = roll < np.where(everyone < len(op_names), 0.10, 0.45)
    wrong = ~missing & (roll < np.where(everyone < len(op_names), 0.15, 0.50))
    filled = pc.fill_null(valid, "91110000000000000X")  # placeholder only where valid is NULL (aliases)
    raw = when(wrong, break_check_char(filled), valid)
    raw = when(missing, pa.scalar(None, pa.string()), raw)
    return Subjects(all_names, raw, when(wrong | missing, pa.scalar(None, pa.string()), valid), len(op_names))


def subject_index(world: World, rows: np.ndarray, salt: str, operator_share: float) -> np.ndarray:
    """Which subject each record names: `operator_share` of them an operator (or its branch/alias)."""
    side = world.subjects.operator_side
    others = len(world.subjects.name) - side
    on_operator = draw(world.seed, rows, salt + "side") < operator_share
    which = draw(world.seed, rows, salt + "who")
    return np.where(on_operator, (which * side).astype(np.int64), side + (which * others).astype(np.int64))


# -- record families ----------------------------------------------------------------------------------------
@dataclass
class Batch:
    """Rows of one record type before rendering: natural key, url, fields (sorted keys) and raw (native keys)."""

    rows: np.ndarray
    natural_key: pa.Array
    url: pa.Array
    fields: dict[str, pa.Array | str | None]
    raw: dict[str, pa.Array | str | None]
    nested: frozenset[str] = frozenset()


def _subject_fields(world: World, rows: np.ndarray, salt: str, share: float) -> tuple[pa.Array, pa.Array, pa.Array]:
    index = pa.array(subject_index(world, rows, salt, share))
    s = world.subjects
    return s.name.take(index), s.uscc.take(index), s.uscc_raw.take(index)


def licence_ids(seed: int, rows: np.ndarray) -> pa.Array:
    """MIIT's licence uuid of licence row `rows` (the licences and their annual reports share it)."""
    return join(hex_ids(seed, rows, "lic-a", 8), "-", hex_ids(seed, rows, "lic-b", 4), "-4",
                hex_ids(seed, rows, "lic-c", 3), "-a", hex_ids(seed, rows, "lic-d", 3), "-",
                hex_ids(seed, rows, "lic-e", 12))


def licences(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """电信业务经营许可证: licence `row` belongs to operator row % operators (so 0–2 licences each)."""
    seed, ops = world.seed, world.scale.operators
    owner = pa.array(rows % ops)
    name, code = world.operator_names.take(owner), world.operator_usccs.take(owner)
    code = when(draw(seed, rows, "lic-no-uscc") < 0.03, pa.scalar(None, pa.string()), code)
    national = draw(seed, rows, "lic-national") < 0.5
    abbrev = pa.array(ABBREV, pa.string()).take(pa.array(world.operator_region[rows % ops]))
    issued = dates(seed, rows, "lic-issued", today, 365 * 5, 30)
    year = pc.utf8_slice_codeunits(issued, 0, 4)
    number = join(when(national, "", abbrev), when(national, "B1-", "B2-"), year,
                  pc.utf8_lpad(pc.cast(pa.array(rows % 10_000), pa.string()), 4, "0"))
    expiry_offset = np.where(draw(seed, rows, "lic-soon") < 0.15,
                             (draw(seed, rows, "lic-days") * 170).astype(np.int32) + 10, 365 * 5)
    expires_base = np.where(expiry_offset == 365 * 5, 0, 1)
    issued_days = pc.cast(pc.cast(issued, pa.date32()), pa.int32()).to_numpy(zero_copy_only=False)
    expires_days = np.where(expires_base == 1, (today - _EPOCH).days + expiry_offset, issued_days + 365 * 5)
    expires_days = expires_days + 365 * revision  # next week: some licences renewed
    expires = pc.cast(pa.array(expires_days.astype(np.int32)).cast(pa.date32()), pa.string())
    own_region = pa.array(REGIONS, pa.string()).take(pa.array(world.operator_region[rows % ops]))
    coverage = when(national, "全国", own_region)
    types = []
    for slot in range(3):
        label = pick(seed, rows, f"lic-type{slot}", BUSINESS_TYPES)
        item = join('{"business_type": "', label, '", "coverage": "', coverage, '", "expires_on": "', expires,
                    '", "issued_on": "', issued, '"}')
        types.append(item if slot == 0 else when(draw(seed, rows, f"lic-has{slot}") < 0.45, join(", ", item), ""))
    business_types = join("[", *types, "]")
    lic_id = licence_ids(seed, rows)
    legal_rep = join(pick(seed, rows, "lic-s", SURNAMES), pick(seed, rows, "lic-g", GIVEN))
    issuer = when(national, "工业和信息化部", join(own_region, "通信管理局"))
    return Batch(
        rows, lic_id, join("http://replica/dxzhgl.miit.gov.cn/dxxzsp/corpinfo/getreporty?lic_id=", lic_id),
        {"business_types": business_types, "company_name": name, "issuer": issuer, "legal_rep": legal_rep,
         "licence_no": number, "uscc": code, "uscc_raw": code},
        {"annual_report": None, "company_name": name, "faren": legal_rep, "fzjg": issuer, "lic_id": lic_id,
         "license_no": number, "credit_code": code, "ywzlInfos": business_types},
        frozenset({"business_types", "ywzlInfos"}),
    )


def penalties(world: World, rows: np.ndarray, revision: np.ndarray, today: date, platform: str) -> Batch:
    """行政处罚 on 信用中国 (telecom bureaus, 双公示 fields) or on the 公示系统 (market regulators)."""
    seed, salt = world.seed, f"pen-{platform}"
    name, uscc, uscc_raw = _subject_fields(world, rows, salt, 0.22)
    decided = dates(seed, rows, salt + "d", today, 365 * 3, 5)
    published = shift_days(decided, 1 + (draw(seed, rows, salt + "p") * 7).astype(np.int32) + revision)
    kinds = pick(seed, rows, salt + "k", PENALTY_KINDS)
    has_fine = pc.match_substring(kinds, "罚款").to_numpy(zero_copy_only=False)
    fine = when(has_fine, pick(seed, rows, salt + "f", FINES))
    region = pick(seed, rows, salt + "r", REGIONS)
    year = pc.utf8_slice_codeunits(decided, 0, 4)
    serial = pc.cast(pa.array(rows), pa.string())
    content = when(has_fine, join(kinds, "，罚款人民币", pc.fill_null(fine, ""), "元"), kinds)
    if platform == "creditchina":
        number = join(pick(seed, rows, salt + "a", ABBREV), "通管罚〔", year, "〕", serial, "号")
        authority = join(region, "通信管理局")
        fields = {"authority": authority, "authority_uscc": None, "basis": "《中华人民共和国网络安全法》第五十九条",
                  "confiscated_wan": None, "confiscated_yuan": None, "content": content, "data_source": authority,
                  "decided_on": decided, "decision_no": number, "domain": "telecom",
                  "facts": "未按规定履行网络与信息安全管理义务", "fine_wan": None, "fine_yuan": fine,
                  "legal_rep": None, "legal_rep_id": None, "licence_affected": None, "note": None,
                  "penalty_kinds_text": kinds, "publish_until": None, "published_on": published,
                  "subject_id_number": None, "subject_id_type": None, "subject_name": name,
                  "subject_reg_no": None, "subject_uscc": uscc, "subject_uscc_raw": uscc_raw, "valid_until": None,
                  "violation_type": None}
        raw = {"cf_wsh": number, "cf_xdr_mc": name, "cf_xdr_shxym": uscc_raw, "cf_cflb1": kinds, "cf_jg": content,
               "cf_sy": "未按规定履行网络与信息安全管理义务", "cf_yj": "《中华人民共和国网络安全法》第五十九条",
               "cf_nr_fk": fine, "cf_cfjg": authority, "cf_jdrq": decided, "cf_sjc": published}
        url = join("http://replica/public.creditchina.gov.cn/private-api/typeNameAndCountSearch?page=",
                   pc.cast(pa.array(rows // 10), pa.string()))
    else:
        number = join(pick(seed, rows, salt + "a", ABBREV), "市监处罚〔", year, "〕", serial, "号")
        authority = join(region, "市市场监督管理局")
        fields = {"authority": authority, "content": content, "decided_on": decided, "decision_no": number,
                  "fine_wan": fine, "penalty_kinds_text": kinds, "published_on": published, "subject_name": name,
                  "subject_uscc": uscc, "subject_uscc_raw": uscc_raw, "violation_type": "违反《电信条例》"}
        raw = {"penDecNo": number, "entName": name, "uniscId": uscc_raw, "penType_CN": kinds, "penContent": content,
               "penAm": fine, "penDecIssDate": decided, "publicDate": published, "penAuth_CN": authority}
        url = join("http://replica/app.gsxt.gov.cn/gsxt/corp-query-entprise-info-punishmentdetail-",
                   hex_ids(seed, rows, salt + "u", 16), ".html")
    return Batch(rows, number, url, fields, raw)


def listings(world: World, rows: np.ndarray, revision: np.ndarray, today: date, record_type: str) -> Batch:
    """经营异常名录 or 严重违法失信名单 entries from the 公示系统; next week's change is a 移出 (removal)."""
    seed, salt = world.seed, f"lst-{record_type}"
    name, uscc, uscc_raw = _subject_fields(world, rows, salt, 0.15)
    reasons = ABNORMAL_REASONS if record_type == "abnormal_operation" else SERIOUS_REASONS
    reason = pick(seed, rows, salt + "r", reasons)
    listed = dates(seed, rows, salt + "l", today, 365 * 4, 10)
    region = pick(seed, rows, salt + "g", REGIONS)
    authority = join(region, "市市场监督管理局")
    removed = (draw(seed, rows, salt + "x") < 0.2) | (revision > 0)
    removed_on = when(removed, shift_days(listed, 5 + (draw(seed, rows, salt + "y") * 200).astype(np.int32)))
    removal_reason = when(revision > 0, "已补报年度报告并公示，申请移出", when(removed, "依法履行公示义务，申请移出"))
    pripid = hex_ids(seed, rows, salt + "p", 24)
    key = join(pripid, "|", listed, "|", hex_ids(seed, rows, salt + "h", 8))
    fields = {"authority": authority, "listed_on": listed, "reason": reason, "removal_authority":
              when(removed, authority), "removal_reason": removal_reason, "removed_on": removed_on,
              "subject_name": name, "subject_uscc": uscc, "subject_uscc_raw": uscc_raw}
    raw = {"pripid": pripid, "entName": name, "uniscId": uscc_raw, "abntime": listed, "decOrg_CN": authority,
           "speCause_CN": reason, "remDate": removed_on, "remExcpRes_CN": removal_reason}
    url = join("http://replica/app.gsxt.gov.cn/gsxt/corp-query-entprise-info-entBusExcep-", pripid, ".html")
    return Batch(rows, key, url, fields, raw)


def telecom_entries(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """电信业务经营不良名单 / 失信名单 entries of MIIT notices: nearly always about licensed operators."""
    seed = world.seed
    name, uscc, uscc_raw = _subject_fields(world, rows, "tel", 0.9)
    dishonest = draw(seed, rows, "tel-kind") < 0.3
    kind = when(dishonest, "dishonest", "bad")
    published = dates(seed, rows, "tel-pub", today, 365 * 3, 20)
    decided = shift_days(published, -(5 + (draw(seed, rows, "tel-d") * 30).astype(np.int32)))
    notice = join("n", pc.utf8_slice_codeunits(published, 0, 4), pc.utf8_slice_codeunits(published, 5, 7), kind)
    notice_url = join("http://replica/www.miit.gov.cn/jgsj/xgj/gzdt/art/detail.html?id=", notice)
    title = join("关于", pc.utf8_slice_codeunits(published, 0, 4), "年纳入电信业务经营",
                 when(dishonest, "失信", "不良"), "名单企业的公告")
    reason = join(when(dishonest, "被吊销电信业务经营许可证", "未按规定报告年报信息，经责令限期改正后仍未履行"),
                  when(revision > 0, "(更正)", ""))
    unit = join(pick(seed, rows, "tel-u", REGIONS), "通信管理局")
    key = join(notice, "-", pc.cast(pa.array(rows), pa.string()))
    fields = {"decided_on": decided, "licence_no": None, "list_kind": kind, "notice_published_on": published,
              "notice_title": title, "notice_url": notice_url, "reason": reason, "subject_name": name,
              "subject_uscc": uscc, "subject_uscc_raw": uscc_raw, "unit": unit}
    raw = {"notice_id": notice, "notice_title": title, "经营者名称": name, "统一社会信用代码": uscc_raw,
           "列入事由": reason, "列入单位": unit, "处理日期": decided}
    return Batch(rows, key, notice_url, fields, raw)


def court_cases(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """失信被执行人 from 中国执行信息公开网: organisations, and 个体工商户 whose ID numbers arrive masked."""
    seed = world.seed
    name, uscc, uscc_raw = _subject_fields(world, rows, "court", 0.12)
    personal = pc.starts_with(pc.fill_null(uscc_raw, ""), "92").to_numpy(zero_copy_only=False)
    id_number = when(personal, join(pick(seed, rows, "court-id", ("310", "110", "440", "330")), "*************",
                                    pc.utf8_lpad(pc.cast(pa.array(rows % 97), pa.string()), 2, "0")))
    published = dates(seed, rows, "court-pub", today, 365 * 3, 3)
    registered = shift_days(published, -(10 + (draw(seed, rows, "court-reg") * 60).astype(np.int32)))
    region = pick(seed, rows, "court-r", REGIONS)
    abbrev = pick(seed, rows, "court-a", ABBREV)
    year = pc.utf8_slice_codeunits(registered, 0, 4)
    case = join("(", year, ")", abbrev, "0105执", pc.cast(pa.array(rows), pa.string()), "号")
    court = join(region, "市中级人民法院")
    performance = when(revision > 0, "全部已履行", pick(seed, rows, "court-p", PERFORMANCE))
    disrupt = pick(seed, rows, "court-t", DISRUPT_TYPES)
    gist = join("(", year, ")", abbrev, "0105民初", pc.cast(pa.array(rows), pa.string()), "号")
    fields = {"area": region, "case_code": case, "court": court, "disrupt_type": disrupt, "duty": "支付货款及利息",
              "gist_id": gist, "gist_unit": court, "legal_rep": None, "performance": performance,
              "published_on": published, "registered_on": registered, "subject_id_number": id_number,
              "subject_name": name, "subject_uscc": when(personal, pa.scalar(None, pa.string()), uscc)}
    raw = {"caseCode": case, "iname": name, "cardNum": pc.if_else(pa.array(personal), id_number, uscc_raw),
           "courtName": court, "areaName": region, "gistId": gist, "gistUnit": court, "duty": "支付货款及利息",
           "performance": performance, "disruptTypeName": disrupt, "regDate": registered, "publishDate": published}
    url = join("http://replica/zxgk.court.gov.cn/gkw/sx/disDetailNew?id=", pc.cast(pa.array(rows), pa.string()))
    return Batch(rows, case, url, fields, raw)


def serious_dishonest(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """信用中国 严重失信主体名单 entries: mostly companies that are not operators."""
    seed, salt = world.seed, "sdl"
    name, uscc, _ = _subject_fields(world, rows, salt, 0.1)
    listed = dates(seed, rows, salt + "l", today, 365 * 3, 10)
    authority = join(pick(seed, rows, salt + "g", REGIONS), "市发展和改革委员会")
    number = join("信严失〔", pc.utf8_slice_codeunits(listed, 0, 4), "〕", pc.cast(pa.array(rows), pa.string()), "号")
    reason = join("拒不履行法定义务，严重影响司法机关、行政机关公信力", when(revision > 0, "(更正)", ""))
    fields = {"authority": authority, "data_source": authority, "document_no": number, "list_name": "严重失信主体名单",
              "listed_on": listed, "reason": reason, "subject_name": name, "subject_uscc": uscc}
    raw = {"失信主体名称": name, "统一社会信用代码": uscc, "列入原因": reason, "认定日期": listed, "认定文书号": number,
           "认定部门": authority}
    return Batch(rows, number, join("http://replica/www.creditchina.gov.cn/xinyongxinxi/", number), fields, raw)


def tax_violations(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """重大税收违法失信主体 cases; the named people (法定代表人, 财务负责人) come masked as the site shows them."""
    seed, salt = world.seed, "tax"
    name, uscc, _ = _subject_fields(world, rows, salt, 0.05)
    reported = dates(seed, rows, salt + "r", today, 365 * 3, 30)
    period = join(pc.utf8_slice_codeunits(reported, 0, 4), "年", pc.utf8_slice_codeunits(reported, 5, 7), "月")
    nature = pick(seed, rows, salt + "n", ("偷税", "逃避追缴欠税", "骗取出口退税", "虚开增值税专用发票"))
    legal_rep = join(pick(seed, rows, salt + "s", SURNAMES), "*")
    facts = join("经检查，该单位", nature, "税款", pc.cast(pa.array(rows % 997 + 100), pa.string()), "万元",
                 when(revision > 0, "(更正)", ""))
    key = join(hex_ids(seed, rows, salt + "k", 16))
    fields = {"address": None, "basis_and_penalty": "依照《中华人民共和国税收征收管理法》处以罚款",
              "case_nature": nature,
              "data_source": "国家税务总局", "facts": facts, "finance_head": None, "intermediary_withheld": None,
              "legal_rep": legal_rep, "org_code": None, "reported_on": reported, "reporting_period": period,
              "subject_name": name, "subject_uscc": uscc, "taxpayer_id": uscc}
    raw = {"nsrmc": name, "tyshxydm": uscc, "ajxz": nature, "zywfss": facts, "ajsbq": period,
           "fddbrhzfzrmc": legal_rep}
    return Batch(rows, key, join("http://replica/public.creditchina.gov.cn/private-api/catalogSearch#", key),
                 fields, raw)


def company_annual_reports(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """公示系统 annual reports: the years an operator filed; a few have not filed last year's."""
    seed, ops = world.seed, world.scale.operators
    owner = pa.array(rows % ops)
    name, code = world.operator_names.take(owner), world.operator_usccs.take(owner)
    late = draw(seed, rows, "car-late") < 0.1
    last = when(late, str(today.year - 2), str(today.year - 1))
    filed_on = join(when(late, str(today.year - 1), str(today.year)), "-05-", pc.utf8_lpad(
        pc.cast(pa.array(rows % 28 + 1), pa.string()), 2, "0"))
    years = join(str(today.year - 3), ",", when(late, str(today.year - 2), join(str(today.year - 2), ",",
                                                                                str(today.year - 1))))
    years = when(revision > 0, join(years, ""), years)
    fields = {"last_filed_on": filed_on, "last_filed_year": last, "subject_name": name, "subject_uscc": code,
              "years_filed": years}
    raw = {"entName": name, "uniscId": code, "anCheYear": last, "anCheDate": filed_on}
    return Batch(rows, code, join("http://replica/app.gsxt.gov.cn/anCheYearInfo?uniscId=", code), fields, raw)


def telecom_annual_reports(world: World, rows: np.ndarray, revision: np.ndarray, today: date) -> Batch:
    """The latest 填报年度 per licence (getreporty); a few licences have not filed last year's."""
    seed, ops = world.seed, world.scale.operators
    owner = pa.array(rows % ops)
    name = world.operator_names.take(owner)
    lic_id = licence_ids(seed, rows)  # row r reports on licence row r
    number = join("B1-", str(today.year - 3), pc.utf8_lpad(pc.cast(pa.array(rows % 10_000), pa.string()), 4, "0"))
    late = (draw(seed, rows, "tar-late") < 0.1) & (revision == 0)
    last = when(late, str(today.year - 2), str(today.year - 1))
    fields = {"company_name": name, "last_filed_year": last, "lic_id": lic_id, "licence_no": number}
    raw = {"lic_id": lic_id, "license_no": number, "company_name": name, "FILL_YEAR": last}
    return Batch(rows, lic_id, join("http://replica/dxzhgl.miit.gov.cn/dxxzsp/corpinfo/getreporty?lic_id=", lic_id),
                 fields, raw)


Maker = Callable[[World, np.ndarray, np.ndarray, date], Batch]
MAKERS: dict[tuple[str, str], Maker] = {
    ("miit", "licence"): licences,
    ("creditchina", "penalty"): lambda w, r, v, t: penalties(w, r, v, t, "creditchina"),
    ("gsxt", "penalty"): lambda w, r, v, t: penalties(w, r, v, t, "gsxt"),
    ("gsxt", "abnormal_operation"): lambda w, r, v, t: listings(w, r, v, t, "abnormal_operation"),
    ("gsxt", "serious_illegal_list"): lambda w, r, v, t: listings(w, r, v, t, "serious_illegal_list"),
    ("miit", "telecom_list_entry"): telecom_entries,
    ("court", "court_dishonest"): court_cases,
    ("creditchina", "serious_dishonest_list"): serious_dishonest,
    ("tax", "tax_major_violation"): tax_violations,
    ("gsxt", "company_annual_report"): company_annual_reports,
    ("miit", "telecom_annual_report"): telecom_annual_reports,
}


def source_of(platform: str, item_type: str) -> str:
    """The declared source that yields `item_type` on `platform` (spiders/<source>/source.yml, fields.py)."""
    found = [name for name, s in declared_sources().items()
             if s.platform == platform and item_type in item_fields(name)]
    if len(found) != 1:
        raise GenerateError(f"{len(found)} sources yield {item_type} on {platform}: {found}")
    return found[0]


def render(seed: int, source: str, record_type: str, batch: Batch, revision: np.ndarray, fetched_at: str) -> pa.Table:
    """The rows as the crawl writes them (RECORD_SCHEMA). content_hash stands in for sha256(raw_json): 64 hex
    characters that change exactly when the row's revision does."""
    n = len(batch.rows)
    raw_json = json_object({"row": json_object(batch.raw, raw=batch.nested & batch.raw.keys()),
                            "source_url": batch.url}, raw=frozenset({"row"}))
    # Distinct row numbers of one family, and of different families, never share a record id.
    family_key = mix(np.array([zlib.crc32(f"{source}/{record_type}".encode())], dtype=np.uint64))[0]
    keyed = (batch.rows.astype(np.uint64) * np.uint64(4) + revision.astype(np.uint64)) ^ family_key
    return pa.Table.from_arrays([
        hex_ids(seed, batch.rows.astype(np.uint64) ^ family_key, "rid", 20),
        pa.array([source] * n, pa.string()), pa.array([record_type] * n, pa.string()), batch.natural_key, batch.url,
        pa.array([fetched_at] * n, pa.string()), hex_ids(seed, keyed, "hash", 64), raw_json,
        json_object(batch.fields, raw=batch.nested),
    ], schema=RECORD_SCHEMA)


# -- run folders ----------------------------------------------------------------------------------------------
def family_sizes(scale: Scale) -> dict[tuple[str, str], int]:
    """Rows per (source, item type)."""
    licences_n = int(scale.operators * 1.2)
    rest = max(scale.records - licences_n, 0)
    sizes = {(source_of("miit", "licence"), "licence"): licences_n}
    sizes.update({(source_of(*family), family[1]): int(rest * share) for family, share in FAMILIES.items()})
    return sizes


def week_rows(seed: int, total: int, week: int) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers present in `week` (1 or 2) and their revision: week 2 drops 1 %, changes 3 %, adds 1 %."""
    rows = np.arange(total, dtype=np.int64)
    if week == 1:
        return rows, np.zeros(total, dtype=np.int64)
    roll = draw(seed, rows, "week2")
    kept = rows[roll >= REMOVED]
    revision = (roll[roll >= REMOVED] < REMOVED + CHANGED).astype(np.int64)
    added = np.arange(total, total + int(total * ADDED), dtype=np.int64)
    return np.concatenate([kept, added]), np.concatenate([revision, np.zeros(len(added), dtype=np.int64)])


def week_day(week: int) -> tuple[str, date]:
    return (WEEK1_RUN, AS_OF - timedelta(days=7)) if week == 1 else (WEEK2_RUN, AS_OF)


def sources(scale: Scale) -> dict[str, list[tuple[str, int]]]:
    """Record types and sizes per source, largest source first (so parallel workers finish together)."""
    by_source: dict[str, list[tuple[str, int]]] = {}
    for (source, record_type), size in family_sizes(scale).items():
        by_source.setdefault(source, []).append((record_type, size))
    return dict(sorted(by_source.items(), key=lambda kv: -sum(size for _, size in kv[1])))


def write_source(world: World, out: Path, week: int, source: str) -> int:
    """`<source>.parquet`, its empty quarantine file and, last, its manifest, for `week` (1 = the full
    crawl, 2 = next week's); returns the rows written."""
    run_id, today = week_day(week)
    fetched_at = f"{today.isoformat()}T06:00:00+00:00"
    folder = RunFolder(out / run_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    families = sources(world.scale)[source]
    count = 0
    tmp = folder.records(source).with_name(folder.records(source).name + ".tmp")
    with pq.ParquetWriter(tmp, RECORD_SCHEMA) as writer:
        for record_type, size in families:
            rows, revision = week_rows(world.seed, size, week)
            if record_type == "licence" and week == 2:  # licences change or go; none are added
                keep = rows < size
                rows, revision = rows[keep], revision[keep]
            for start in range(0, len(rows), CHUNK):
                part, rev = rows[start:start + CHUNK], revision[start:start + CHUNK]
                batch = MAKERS[(declared_sources()[source].platform, record_type)](world, part, rev, today)
                writer.write_table(render(world.seed, source, record_type, batch, rev, fetched_at))
                count += len(part)
    tmp.replace(folder.records(source))
    pq.write_table(pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA), folder.quarantine(source))
    write_manifest(folder, Manifest(
        run_id=run_id, source=source, record_types=[t for t, _ in families], base_url="http://replica",
        started_at=fetched_at, finished_at=fetched_at, pages_fetched=count // 10 + 1, pages_failed=0, retries=0,
        items=count, expected_rows=count, complete=True, synthetic="bench.generate"))
    return count


_FORKED: World | None = None  # the world a forked worker inherits (copy-on-write, never pickled)


def _write_forked(out: Path, week: int, source: str) -> int:
    assert _FORKED is not None
    return write_source(_FORKED, out, week, source)


def generate(out: Path, scale: str | Scale = "small", seed: int = SEED,
             workers: int | None = None) -> tuple[Path, Path]:
    """Write week 1 (full) and week 2 (5 % changed) run folders under `out`; returns both paths.
    Sources × weeks are written by `workers` forked processes (default: one per core)."""
    global _FORKED
    if isinstance(scale, str):
        if scale not in SCALES:
            raise GenerateError(f"unknown scale {scale!r}: use one of {', '.join(SCALES)}")
        scale = SCALES[scale]
    if scale.operators < 10 or scale.records < scale.operators:
        raise GenerateError(f"scale {scale}: need at least 10 operators and as many records as operators")
    world = make_world(scale, seed)
    tasks = [(week, source) for source in sources(scale) for week in (1, 2)]
    workers = workers or os.cpu_count() or 1
    if workers == 1 or scale.records < 200_000:
        for week, source in tasks:
            write_source(world, out, week, source)
    else:
        _FORKED = world
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                list(pool.map(_write_forked, [out] * len(tasks), *zip(*tasks, strict=True)))
        finally:
            _FORKED = None
    return out / week_day(1)[0], out / week_day(2)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workers", type=int, help="processes writing sources in parallel (default: cores)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    week1, week2 = generate(args.out, args.scale, args.seed, args.workers)
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in week1.glob("*.parquet") if "quarantine" not in p.name)
    print(f"{rows:,} records in {week1} and next week's in {week2}: {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
