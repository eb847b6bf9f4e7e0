"""Item schemas of gsxt_records: 经营异常名录, 严重违法失信名单 and 行政处罚 (registries.md §2.2, §7.2)."""

from __future__ import annotations

from pipelines.schemas import PENALTY, Field

ABNORMAL_OPERATION = {
    # abnormal_operation -- 经营异常名录 (公示系统 entBusExcep; registries.md §2.2)
    "subject_name": Field("name", required=True),
    "subject_uscc": Field("uscc"),
    "reason": Field("long_text", required=True),  # speCause_CN 列入经营异常名录原因
    "listed_on": Field("date", required=True),  # abntime 列入日期
    "authority": Field("text"),  # decOrg_CN 作出决定机关(列入)
    "removal_reason": Field("long_text"),  # remExcpRes_CN 移出经营异常名录原因
    "removed_on": Field("date"),  # remDate 移出日期
    "removal_authority": Field("text"),  # reDecOrg_CN 作出决定机关(移出)
}


SERIOUS_ILLEGAL_LIST = {
    # serious_illegal_list -- 严重违法失信名单 (公示系统 illInfo)
    "subject_name": Field("name", required=True),
    "subject_uscc": Field("uscc"),
    "reason": Field("long_text", required=True),  # serILLRea_CN 列入原因
    "listed_on": Field("date", required=True),  # abntime 列入日期
    "authority": Field("text"),  # decOrg_CN 作出决定机关
    "removal_reason": Field("long_text"),
    "removed_on": Field("date"),
    "removal_authority": Field("text"),
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {
    "penalty": PENALTY, "abnormal_operation": ABNORMAL_OPERATION, "serious_illegal_list": SERIOUS_ILLEGAL_LIST,
}
