"""MIIT 电信业务市场综合管理信息系统, the `dxxzsp` app (dxzhgl.miit.gov.cn; tsm.miit.gov.cn serves the same app):
what every source that reads it shares, spider side (registries.md §3.1, corrected by §7.3).

- Every JSON call is a form POST sent the way the site's own page sends it, with `X-Requested-With:
  XMLHttpRequest` and `Referer: …/qiyesearch.jsp` (§7.3: the 2026 client sets both on its session).
- Licences are found per search term (`DxxzspSearchSpider`): getCode (a 7-character A–Z0–9 captcha bound to
  the session that asked) → getcorpinfocount.wf (`{"flag":"0"}` = wrong captcha, else `{"c": count}`) →
  getcorpinfo.wf pages of `listyj` rows, pageSize 100. A source says what to do with each licence row.
- A licence's annual report -- 电信业务经营许可年报: getreporty answers the year last filed (`FILL_YEAR`) or the
  string `ssss` (no report), never the USCC; qiyereport.jsp shows the report as a 3-column table 序号 / 指标名称 /
  值 (填报年度, 企业名称, 统一社会信用代码, 法定代表人, 许可证编码, …).

Decided not to use: getcorpinfo.wf without a captcha (one 2025 script, §3.1 `[idx 5947110648]`; unverified).
Without the captcha there is no getcorpinfocount.wf either, so nothing says how many licences a term matches,
and a short or empty answer could not be told from a complete one. The 2026 client always solves the captcha.

The paths are written here and, separately, in the replica (miit_dxxzsp_replica.py): a spider that drifts
from the contract must not drag the replica with it.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from parsel import Selector
from scrapy import FormRequest, Request
from scrapy.http import Response

from spiders.base import RegistrySpider, browser_json_text, challenge_reason

GET_CODE = "/dxxzsp/corpinfo/getCode"
COUNT = "/dxxzsp/corpinfo/getcorpinfocount.wf"
LIST = "/dxxzsp/corpinfo/getcorpinfo.wf"
REPORT_YEAR = "/dxxzsp/corpinfo/getreporty"
SEARCH_PAGE = "/dxxzsp/xkz/xkzgl/resource/qiyesearch.jsp"
REPORT_PAGE = "/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp"
SEARCH_TYPE = "xuke"  # licences -- 许可
REPORT_TYPE = "yreport"  # annual report -- 年报
CAPTCHA_LENGTH = 7
PAGE_SIZE = 100  # the largest page seen in use (§7.3)
MAX_CAPTCHA_TRIES = 3
WRONG_CAPTCHA = "0"  # getcorpinfocount.wf / getcorpinfo.wf `flag` on a wrong or expired captcha
NO_REPORT = "ssss"  # getreporty's answer for a licence without an annual report
REPORT_HEADER = "指标名称"
USCC_ROW = "统一社会信用代码"
YEAR_ROW = "填报年度"


def xhr_headers(referer: str) -> dict[str, str]:
    """The headers the site's own page sends with its JSON calls (§7.3)."""
    return {"X-Requested-With": "XMLHttpRequest", "Referer": referer,
            "Accept": "application/json, text/javascript, */*; q=0.01"}


def search_form(term: str, code: str, page: int | None = None, page_size: int = PAGE_SIZE) -> dict[str, str]:
    """The body of getcorpinfocount.wf (no page) and getcorpinfo.wf (a page)."""
    form = {"num": term, "type": SEARCH_TYPE, "code": code}
    if page is not None:
        form |= {"pageNum": str(page), "pageSize": str(page_size)}
    return form


@dataclass(frozen=True)
class ReportYear:
    """getreporty's answer -- 年报填报年度: the year of the licence's latest annual report, or None when the site
    answers `ssss` (none filed). `raw` is the answer as sent, kept as evidence."""

    year: str | None
    raw: str

    @property
    def filed(self) -> bool:
        return self.year is not None


class ReportLayoutError(LookupError):
    """A well-formed answer without what the spider reads: the site's layout has changed."""


def parse_report_year(body: str) -> ReportYear:
    """getreporty's body → ReportYear. `ssss` as bare text, as a JSON string or as a key means no report.
    ValueError: not JSON (a cut-off or garbled body, to be fetched again); ReportLayoutError: JSON without
    FILL_YEAR."""
    text = body.strip()
    if text in (NO_REPORT, f'"{NO_REPORT}"'):
        return ReportYear(None, text)
    payload = json.loads(text)
    if isinstance(payload, dict):
        year = payload.get("FILL_YEAR")
        if year not in (None, ""):
            return ReportYear(str(year).strip(), text)
        if NO_REPORT in payload:  # the 2026 client also tests for the key
            return ReportYear(None, text)
    raise ReportLayoutError("FILL_YEAR")


def cell(node: Selector) -> str:
    return re.sub(r"\s+", " ", " ".join(node.css("::text").getall())).strip()


def report_table(page: Selector) -> dict[str, str] | None:
    """qiyereport.jsp's table as {指标名称: 值}, or None when the page has no 序号 / 指标名称 / 值 table. Rows with
    an empty value are kept (empty string): a blank 统一社会信用代码 is published, not missing."""
    for table in page.css("table"):
        rows = [[cell(td) for td in tr.css("td, th")] for tr in table.css("tr")]
        if not any(len(r) >= 3 and r[1] == REPORT_HEADER for r in rows):
            continue
        return {r[1]: r[2] for r in rows if len(r) >= 3 and r[1] and r[1] != REPORT_HEADER}
    return None


class DxxzspSearchSpider(RegistrySpider):
    """Pattern for a source that finds licences on the dxxzsp app: per search term (the `terms` argument or the
    source's `default_terms`), getCode → getcorpinfocount.wf → getcorpinfo.wf pages, each term in its own
    cookie jar (the captcha is bound to the session). Each licence row (`listyj[]`: company_name, faren,
    license_no, fzjg, lic_id, ywzlInfos) is handed once to `licence_row`, which the source writes; the
    annual report is one call away (`report_year_request`, `report_page_request`). Completeness: every term's
    announced count received, every request answered."""

    page_size = PAGE_SIZE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.licences_seen: set[str] = set()

    # -- what a source writes -----------------------------------------------------------------------
    def licence_row(self, response: Response, row: dict[str, Any]) -> Iterator[Any]:
        """Requests or records for one licence row (first sighting only; the row is in `response.meta['row']`
        of every request made with the helpers below). Every source so far starts from the licence's latest
        annual-report year (getreporty, §7.3), read by its `parse_report_year`."""
        yield self.report_year_request(response, row, self.parse_report_year)

    def parse_report_year(self, response: Response) -> Iterator[Any]:
        """The source's reading of getreporty's answer (read_report_year gives the filing)."""
        raise NotImplementedError

    # -- requests ------------------------------------------------------------------------------------
    async def start(self) -> Any:
        for jar, term in enumerate(self.terms):
            yield self.ask_code(term, jar, tries=1)

    def post(self, path: str, form: dict[str, str], callback: Any, meta: dict[str, Any]) -> FormRequest:
        # §7.3: form POST with the page's XHR headers (the replica refuses JSON calls without them, as a
        # WAF-fronted app would)
        return FormRequest(self.url(path), formdata=form, headers=xhr_headers(self.url(SEARCH_PAGE)),
                           callback=callback, errback=self.on_error, dont_filter=True, meta=meta)

    def ask_code(self, term: str, jar: int, tries: int) -> FormRequest:
        # §3.1/§7.3: getCode, body num=<term> → {"src": "data:image/…;base64,…"}, a 7-character captcha
        return self.post(GET_CODE, {"num": term}, self.parse_code, {"cookiejar": jar, "term": term, "tries": tries})

    def report_year_request(self, response: Response, row: dict[str, Any], callback: Any) -> FormRequest:
        # §7.3: getreporty, body num=<lic_id> → {"FILL_YEAR": "<year>"} or the string ssss; no USCC
        return self.post(REPORT_YEAR, {"num": str(row["lic_id"])}, callback,
                         {"cookiejar": response.meta.get("cookiejar"), "row": row, "detail_page": True})

    def report_page_request(self, response: Response, filing: ReportYear, callback: Any) -> Request:
        # §3.1/§7.3: GET qiyereport.jsp?num=<lic_id>&type=yreport: the report as a 序号 / 指标名称 / 值 table
        row = response.meta["row"]
        query = urlencode({"num": row["lic_id"], "type": REPORT_TYPE})
        return Request(self.url(f"{REPORT_PAGE}?{query}"), headers={"Referer": self.url(SEARCH_PAGE)},
                       callback=callback, errback=self.on_error,
                       meta={"cookiejar": response.meta.get("cookiejar"), "row": row, "detail_page": True,
                             "report_year": filing})

    # -- the search flow ------------------------------------------------------------------------------
    def parse_code(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("src",), response.url):
            return
        image = base64.b64decode(str(payload["src"]).split(",", 1)[-1] or b"")
        answer = self.solve_captcha(response, image, length=CAPTCHA_LENGTH)
        if answer:
            # §3.1/§7.3: getcorpinfocount.wf, body num, type=xuke, code → {"flag":"0"} or {"c": count}
            yield self.post(COUNT, search_form(response.meta["term"], answer), self.parse_count,
                            self._search_meta(response, code=answer))

    def _search_meta(self, response: Response, **extra: Any) -> dict[str, Any]:
        return {k: response.meta[k] for k in ("cookiejar", "term", "tries", "code") if k in response.meta} | extra

    def parse_count(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        term, tries = response.meta["term"], response.meta["tries"]
        if isinstance(payload, dict) and str(payload.get("flag")) == WRONG_CAPTCHA:
            if tries >= MAX_CAPTCHA_TRIES:  # a wrong or expired captcha: ask again, a bounded number of times
                self.mark_incomplete(f"captcha for {term!r} rejected {tries} times")
                return
            yield self.ask_code(term, response.meta["cookiejar"], tries + 1)
            return
        if not self.require(payload, ("c",), response.url):
            return
        try:
            total = int(payload["c"])
        except (TypeError, ValueError):
            self.require({}, ("c as a whole number",), response.url)
            return
        self.expect(term, total)
        for page in range(1, math.ceil(total / self.page_size) + 1):
            # §3.1/§7.3: getcorpinfo.wf, body num, type=xuke, code, pageNum, pageSize (100) → listyj[]
            yield self.post(LIST, search_form(term, response.meta["code"], page, self.page_size), self.parse_page,
                            self._search_meta(response, page=page))

    def parse_page(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        if isinstance(payload, dict) and str(payload.get("flag")) == WRONG_CAPTCHA:
            self.mark_incomplete(f"captcha expired while paging {response.meta['term']!r} "
                                 f"(page {response.meta['page']})")
            return
        if not self.require(payload, ("listyj",), response.url):
            return
        rows = payload.get("listyj") or []
        self.got(response.meta["term"], len(rows))
        for row in rows:
            if not self.require(row, ("lic_id",), response.url):
                return
            lic_id = str(row["lic_id"])
            if lic_id in self.licences_seen:  # another term (or page) already found it
                continue
            self.licences_seen.add(lic_id)
            yield from self.licence_row(response, row)

    # -- the annual report ------------------------------------------------------------------------------
    def read_report_year(self, response: Response) -> ReportYear | None:
        """getreporty's answer, or None when it cannot be read (blocked, retried or layout: already reported)."""
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return None
        text = browser_json_text(response)
        if text.lstrip().startswith("<"):
            # A bare `ssss` sent as text/html reaches a browser session as the page Chromium builds around it.
            text = " ".join(Selector(text=text).css("body ::text").getall())
        try:
            return parse_report_year(text)
        except ReportLayoutError as missing:
            self.require({}, (str(missing),), response.url)
        except (ValueError, AttributeError):
            self.retry_or_fail(response.request, f"unreadable getreporty answer ({len(response.body)} bytes)")
        return None

    def read_report_table(self, response: Response) -> dict[str, str] | None:
        """qiyereport.jsp's {指标名称: 值}, or None when it cannot be read (already reported)."""
        if not self.load_html(response):
            return None
        table = report_table(response.selector)
        if table is None:
            self.require({}, (f"a 序号/{REPORT_HEADER}/值 table",), response.url)
        return table
