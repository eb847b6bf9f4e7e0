"""Item schema of miit_annual_reports: a licence's telecom annual report status -- 电信业务经营许可年报 (getreporty,
registries.md §3.1, §7.3)."""

from __future__ import annotations

from pipelines.schemas import Field

TELECOM_ANNUAL_REPORT = {
    # telecom_annual_report -- the latest 填报年度 a licence has filed (None: none filed, getreporty said ssss)
    "lic_id": Field("text", required=True),  # MIIT's licence uuid
    "licence_no": Field("licence_no", required=True),  # 许可证编号
    "company_name": Field("name", required=True),  # 公司名称
    "last_filed_year": Field("text"),  # FILL_YEAR 填报年度 of the latest report; None = never filed
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"telecom_annual_report": TELECOM_ANNUAL_REPORT}
