"""Item schema of gsxt_annual_reports: an entity's annual-report filings -- 企业年度报告 (公示系统 anCheYearInfo,
registries.md §2.2)."""

from __future__ import annotations

from pipelines.schemas import Field

COMPANY_ANNUAL_REPORT = {
    # company_annual_report -- the years an entity has filed (anCheYearInfo: anCheYear, anCheDate)
    "subject_name": Field("name", required=True),  # entName (highlight markup removed)
    "subject_uscc": Field("uscc"),  # uniscId 统一社会信用代码 (entbaseInfo)
    "last_filed_year": Field("text"),  # the latest anCheYear 年报年度; None = none filed
    "last_filed_on": Field("date"),  # its anCheDate 报送日期
    "years_filed": Field("text"),  # every anCheYear, ascending, comma-separated
}

# Item type → its field schema (what the spider yields; the normalise pipeline types it).
FIELDS: dict[str, dict[str, Field]] = {"company_annual_report": COMPANY_ANNUAL_REPORT}
