"""Item schema of miit_telecom_lists: an entry of the 电信业务经营不良名单 / 失信名单 (registries.md §3.2)."""

from __future__ import annotations

from pipelines.schemas import Field

TELECOM_LIST_ENTRY = {
    # telecom_list_entry -- 电信业务经营不良名单 / 失信名单 entry from an MIIT notice (registries.md §3.2)
    "list_kind": Field("text", required=True),  # bad (不良名单) | dishonest (失信名单)
    "subject_name": Field("name", required=True),  # 经营者名称
    "subject_uscc": Field("uscc"),  # 统一社会信用代码
    "licence_no": Field("licence_no"),  # 许可证编号
    "decided_on": Field("date"),  # 处理日期
    "reason": Field("long_text"),  # 列入事由
    "unit": Field("text"),  # 列入单位
    "notice_title": Field("text"),
    "notice_url": Field("text"),
    "notice_published_on": Field("date", required=True),
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"telecom_list_entry": TELECOM_LIST_ENTRY}
