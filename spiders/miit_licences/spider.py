"""MIIT telecom business licences -- 电信业务经营许可证 (电信业务市场综合管理信息系统, the dxxzsp app).

Contract: registries.md §3.1 as corrected by §7.3. Per search term, the platform's flow
(spiders/platforms/miit_dxxzsp.py): getCode (7-character captcha) → getcorpinfocount.wf → getcorpinfo.wf
pages (listyj rows with their business types, ywzlInfos). Per licence: getreporty, which answers the year of
its latest annual report or `ssss` (none filed) and never the USCC, then the annual report itself
(qiyereport.jsp), whose 统一社会信用代码 row is the licence holder's USCC.

A licence without an annual report (`ssss`: e.g. issued since the last reporting deadline) is kept with its
USCC NULL: the list rows do not carry one, and this source does not borrow one from another record (the
linker matches such a holder by name). Its raw record says `"annual_report": null`, and the staging model
carries `has_annual_report`.
Search terms: `terms` spider argument (comma-separated names or licence numbers, e.g. a team's watchlist);
the defaults are broad words that IDC/cloud operators' names contain.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from pipelines.items import RecordItem
from spiders.miit_licences.fields import FIELDS
from spiders.platforms.miit_dxxzsp import USCC_ROW, DxxzspSearchSpider
from spiders.source import here

DEFAULT_TERMS = ("科技", "技术")
# What is kept of the annual report: the row this source reads. Not 填报年度: a new report each spring would
# make every licence "changed" (the filing year is the annual-report source's fact), nor the company's
# contact data and complaint figures.
REPORT_ROWS_KEPT = (USCC_ROW,)


class MiitLicencesSpider(DxxzspSearchSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def parse_report_year(self, response: Response) -> Iterator[Any]:
        filing = self.read_report_year(response)
        if filing is None:
            return
        if not filing.filed:
            self.crawler.stats.inc_value("creditwatch/licences_without_annual_report")
            yield self.licence(response, response.meta["row"], report=None)
            return
        yield self.report_page_request(response, filing, self.parse_report_page)

    def parse_report_page(self, response: Response) -> Iterator[Any]:
        table = self.read_report_table(response)
        if table is None:
            return
        if not self.require(table, (USCC_ROW,), response.url):
            return
        yield self.licence(response, response.meta["row"], report={k: table[k] for k in REPORT_ROWS_KEPT if k in table})

    def licence(self, response: Response, row: dict[str, Any], report: dict[str, str] | None) -> RecordItem:
        """The licence record: the list row, and the USCC from its annual report (None without one)."""
        return self.record("licence", row.get("lic_id"), response, raw={"licence": row, "annual_report": report},
                           fields={
                               "licence_no": row.get("license_no"),
                               "company_name": row.get("company_name"),
                               "uscc": (report or {}).get(USCC_ROW),
                               "legal_rep": row.get("faren"),
                               "issuer": row.get("fzjg"),
                               "business_types": [
                                   {"business_type": t.get("ywzl"), "coverage": t.get("fgfw"),
                                    "issued_on": t.get("fzrq"), "expires_on": t.get("jzrq")}
                                   for t in row.get("ywzlInfos") or []
                               ],
                           })
