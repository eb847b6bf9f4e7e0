"""SAMR company annual reports -- 企业年度报告, from the gsxt app API (app.gsxt.gov.cn).

Contract: registries.md §2.2. Entities are found by the platform's flow (search → entbaseInfo for the
统一社会信用代码, and the 加速乐 handling: spiders/platforms/gsxt.py); per entity,
`corp-query-entprise-info-anCheYearInfo-{pripid}.html?nodeNum&entType&start&sourceType=W` lists its reports
{anCheId, anCheYear, anCheDate}, read like every sub-resource (§2.2: {recordsTotal, totalPage, data}, 5 a page,
`start` = 0, 5, …). The report bodies (annualReportInfo) are not read: the filing year is the fact.

One record per entity once all its pages are in: the latest year filed, the day it was filed, and every year.
Natural key: uniscId | entName as published (§7.2: pripid is not a stable key; a code alone can be shared by
two published names of one company). A new report changes the record: raw.record_versions keeps the history.
Not filing by 30 June for the previous year puts a company on the 经营异常名录 (§2.3): the marts turn the year
into an early warning (transforms/seeds/annual_report_deadlines.csv).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from spiders.gsxt_annual_reports.fields import FIELDS
from spiders.platforms.gsxt import SECTION_PAGE_SIZE, GsxtAppSpider, kept_entity
from spiders.source import here

SECTION = "anCheYearInfo"
ROW_KEYS = ("anCheYear", "anCheDate")
YEAR = re.compile(r"^(19|20)\d{2}$")
DEFAULT_TERMS = ("科技", "技术", "技術", "服务部")  # broad words operators' names contain, both scripts


class GsxtAnnualReportsSpider(GsxtAppSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filings: dict[str, dict[str, Any]] = {}  # pripid → {year: anCheDate} read so far
        self.pages_left: dict[str, int] = {}  # pripid → pages not yet read

    def entity_requests(self, entity: dict[str, Any]) -> Iterator[Request]:
        yield self.reports(entity, 0)

    def reports(self, entity: dict[str, Any], start: int) -> Request:
        return self.sub_resource(entity, SECTION, start, self.parse_reports)

    def parse_reports(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("recordsTotal", "data"), response.url):
            return
        entity = response.meta["entity"]
        pripid, listing = entity["pripid"], f"{SECTION} {entity['pripid']}"
        rows = payload["data"] or []
        if not all(self.require(row, ROW_KEYS, response.url) for row in rows):
            return
        bad = [row["anCheYear"] for row in rows if not YEAR.match(str(row["anCheYear"]).strip())]
        if bad:
            self.require({}, (f"anCheYear as a year (got {bad[0]!r})",), response.url)
            return
        if response.meta["start"] == 0:
            total = int(payload["recordsTotal"])
            self.expect(listing, total)
            self.filings[pripid] = {}
            later = range(SECTION_PAGE_SIZE, total, SECTION_PAGE_SIZE)
            self.pages_left[pripid] = 1 + len(later)
            for start in later:
                yield self.reports(entity, start)
        self.got(listing, len(rows))
        filed = self.filings.setdefault(pripid, {})
        filed.update({str(row["anCheYear"]).strip(): row["anCheDate"] for row in rows})
        self.pages_left[pripid] = self.pages_left.get(pripid, 1) - 1
        if self.pages_left[pripid] == 0:
            yield self.report_record(entity, filed, response)

    def report_record(self, entity: dict[str, Any], filed: dict[str, Any], response: Response) -> Any:
        years = sorted(filed)
        last = years[-1] if years else None
        return self.record("company_annual_report", f"{entity['uniscId']}|{entity['entName']}", response,
                           raw={"entity": kept_entity(entity), "anCheYears": {y: filed[y] for y in years}},
                           fields={"subject_name": entity["entName"], "subject_uscc": entity["uniscId"],
                                   "last_filed_year": last, "last_filed_on": filed[last] if last else None,
                                   "years_filed": ",".join(years)})
