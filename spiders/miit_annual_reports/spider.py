"""MIIT telecom licence annual reports -- 电信业务经营许可年报: which year each licence last filed.

Contract: registries.md §3.1 as corrected by §7.3. Licences are found as miit_licences finds them (the platform's
flow, spiders/platforms/miit_dxxzsp.py: getCode → getcorpinfocount.wf → getcorpinfo.wf pages); per licence,
getreporty answers `{"FILL_YEAR": "<year>"}` or `ssss` (none filed). The year must be a four-digit year: any other
FILL_YEAR is a changed answer, and the source ends incomplete rather than store it.

One record per licence (natural key: lic_id) whose content is the latest year filed: a new report changes the
record, so raw.record_versions keeps the history of filings as the crawls saw them. Not filing by 31 March for
the previous year is a listing ground for the 电信业务经营不良名单 (§3.2): the marts turn the year into an early
warning (transforms/seeds/annual_report_deadlines.csv).
Search terms: the `terms` argument (a team's watchlist); the defaults are miit_licences' broad words.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.miit_annual_reports.fields import FIELDS
from spiders.platforms.miit_dxxzsp import DxxzspSearchSpider
from spiders.source import here

DEFAULT_TERMS = ("科技", "技术")
YEAR = re.compile(r"^(19|20)\d{2}$")


class MiitAnnualReportsSpider(DxxzspSearchSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def parse_report_year(self, response: Response) -> Iterator[Any]:
        filing = self.read_report_year(response)
        if filing is None:
            return
        if filing.filed and not YEAR.match(filing.year or ""):
            self.require({}, (f"FILL_YEAR as a year (got {filing.year!r})",), response.url)
            return
        row = response.meta["row"]
        licence = {k: row.get(k) for k in ("lic_id", "license_no", "company_name")}  # no 法定代表人
        yield self.record("telecom_annual_report", row["lic_id"], response,
                          raw={"licence": licence, "getreporty": filing.raw},
                          fields={"lic_id": row.get("lic_id"), "licence_no": row.get("license_no"),
                                  "company_name": row.get("company_name"), "last_filed_year": filing.year})
