"""Item schema of court_dishonest: a 失信被执行人 case (registries.md §4.1; same fields under /gkw/, §7.5)."""

from __future__ import annotations

from pipelines.schemas import Field

COURT_DISHONEST = {
    # court_dishonest -- 失信被执行人 (中国执行信息公开网; registries.md §4.1)
    "case_code": Field("text", required=True),  # caseCode 案号
    "subject_name": Field("name", required=True),  # iname 被执行人姓名/名称
    "subject_uscc": Field("uscc"),  # cardNum, for organisations
    "subject_id_number": Field("personal_id"),  # cardNum, for persons (masked)
    "legal_rep": Field("text"),  # businessEntity 法定代表人
    "court": Field("text"),  # courtName 执行法院
    "area": Field("text"),  # areaName 省份
    "gist_id": Field("text"),  # gistId 执行依据文号
    "gist_unit": Field("text"),  # gistUnit 做出执行依据单位
    "duty": Field("long_text"),  # duty 生效法律文书确定的义务
    "performance": Field("text"),  # performance 履行情况
    "disrupt_type": Field("long_text"),  # disruptTypeName 失信行为具体情形
    "registered_on": Field("date"),  # regDate 立案时间
    "published_on": Field("date", required=True),  # publishDate 发布时间
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"court_dishonest": COURT_DISHONEST}
