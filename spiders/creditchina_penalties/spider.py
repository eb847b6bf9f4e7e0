"""信用中国 administrative penalties -- 行政处罚 (public.creditchina.gov.cn private-api).

Contract: registries.md §1.2 (typeNameAndCountSearch, envelope, paging), §1.4 (双公示 penalty columns),
§1.5 (session refused with HTTP 500 / status 40001 → 4-character captcha via verify/getVerify and
verify/checkVerify). Per search term: pages of `typeNameAndCountSearch?type=行政处罚`, 10 rows each,
every row self-describing (`table_name`, `entity`, `sencesMap`); rows of penalty tables (`xzcf`) become
`penalty` records keyed by 行政处罚决定书文号 (cf_wsh).
The site repeats a penalty across its tables and pages (the dedupe pipeline keeps one), and its pages
shift while a new penalty is published: a page reporting a different `total` restarts the listing.
Search terms: `terms` spider argument (comma-separated names, USCCs or decision numbers: a team's
watchlist); the defaults are words every company or 个体工商户 name contains.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response

from spiders.base import RegistrySpider, challenge_reason
from spiders.creditchina_penalties.fields import FIELDS
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
PAGE_SIZE = 10  # the site's page size (§1.2); larger values are not known to be honoured
CAPTCHA_LENGTH = 4
MAX_CAPTCHA_TRIES = 3  # wrong answers in a row before the source gives up
MAX_VERIFICATIONS = 5  # sessions verified per crawl (a check lasts ~5 minutes, §1.5)
MAX_PASSES = 3  # restarts of one listing whose total keeps changing
API = "/private-api"
HEADERS = {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest",
           "Referer": "https://www.creditchina.gov.cn/"}
TELECOM_AUTHORITY = re.compile(r"通信管理局$|^工业和信息化部$")


def is_refused(response: Response) -> bool:
    """The site's "no verified session" answer: {"status":40001,"message":"请刷新后重试！"} (§1.5)."""
    try:
        payload = json.loads(response.text)
    except (ValueError, AttributeError):
        return False
    return isinstance(payload, dict) and str(payload.get("status", payload.get("code"))) == "40001"


def fine_unit(label: str | None) -> str | None:
    """The unit a fine column's label (sencesMap) names: 罚款金额(万元) → 万元, 罚款金额(元) → 元."""
    text = (label or "").replace("（", "(").replace("）", ")")
    if "(万元)" in text:
        return "万元"
    if "(元)" in text:
        return "元"
    return None


def domain_of(authority: str | None) -> str | None:
    """telecom when a 通信管理局 or MIIT decided; otherwise the row does not say."""
    return "telecom" if authority and TELECOM_AUTHORITY.search(authority.strip()) else None


def penalty_fields(row: dict[str, Any]) -> dict[str, Any]:
    """A row's 双公示 columns under the penalty schema's names (raw values; the pipelines type them)."""
    entity = row.get("entity") or {}
    fields = {
        "decision_no": entity.get("cf_wsh"),
        "subject_name": entity.get("cf_xdr_mc"),
        "subject_uscc": entity.get("cf_xdr_shxym"),
        "legal_rep": entity.get("cf_fr"),
        "facts": entity.get("cf_sy"),
        "basis": entity.get("cf_yj"),
        "penalty_kinds_text": entity.get("cf_cflb1"),
        "content": entity.get("cf_jg"),
        "decided_on": entity.get("cf_jdrq"),
        "published_on": entity.get("cf_sjc"),
        "authority": entity.get("cf_cfjg"),
        "authority_uscc": entity.get("cf_cfjgdm"),
        "data_source": row.get("dataSource"),
        "domain": domain_of(entity.get("cf_cfjg")),
    }
    unit = fine_unit((row.get("sencesMap") or {}).get("cf_nr_fk"))
    if unit:
        fields["fine_wan" if unit == "万元" else "fine_yuan"] = entity.get("cf_nr_fk")
    return fields


class CreditchinaPenaltiesSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS
    # HTTP 500 is how the site refuses a session (40001): the spider reads it, Scrapy must not retry it.
    custom_settings = {"RETRY_HTTP_CODES": [502, 503, 504, 522, 524, 408, 429]}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes: dict[str, int] = {}  # term → the listing pass being counted
        self.totals: dict[str, int] = {}  # term → total announced by that pass's page 1
        self.parked: list[Request] = []  # requests refused while the session is being verified
        self.verifying = False
        self.generation = 0  # successful verifications so far
        self.verifications = 0

    async def start(self) -> Any:
        for term in self.terms:
            self.passes[term] = 1
            yield self.page_request(term, page=1, pass_no=1)

    # -- listing ------------------------------------------------------------------------------
    def page_request(self, term: str, page: int, pass_no: int) -> Request:
        query = {"keyword": term, "type": "行政处罚", "searchState": "2", "entityType": "1,2,4,5,6,7,8",
                 "page": str(page), "pageSize": str(PAGE_SIZE)}
        return Request(f"{self.url(API + '/typeNameAndCountSearch')}?{urlencode(query)}", headers=HEADERS,
                       callback=self.parse_page, errback=self.on_error, dont_filter=True,
                       meta={"term": term, "page": page, "pass": pass_no, "gen": self.generation,
                             "handle_httpstatus_list": [500]})

    def parse_page(self, response: Response) -> Iterator[Any]:
        if is_refused(response):
            yield from self.refused(response)
            return
        if response.status == 500:
            self.retry_or_fail(response.request, "HTTP 500")
            return
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("status", "data"), response.url):
            return
        if str(payload["status"]) != "1":
            self.mark_incomplete(f"site answered status {payload['status']} ({payload.get('message')}) "
                                 f"at {response.url}")
            return
        data = payload["data"]
        if not self.require(data, ("total", "list"), response.url):
            return
        yield from self.follow_listing(response, int(data["total"]), len(data["list"]))
        for row in data["list"]:
            if self.require(row, ("table_name", "entity"), response.url) and "xzcf" in str(row["table_name"]):
                yield self.read_penalty(response, row)

    def follow_listing(self, response: Response, total: int, rows: int) -> Iterator[Request]:
        """Count this page against its listing; page 1 asks for the rest; a changed total restarts."""
        term, page, pass_no = response.meta["term"], response.meta["page"], response.meta["pass"]
        if pass_no != self.passes[term]:
            return  # a page of an abandoned pass: its rows are still read, not counted
        if page == 1:
            self.totals[term] = total
            self.expect(term, total)
            for later in range(2, math.ceil(total / PAGE_SIZE) + 1):
                yield self.page_request(term, later, pass_no)
        elif total != self.totals[term]:
            # Published (or withdrawn) while we paged: rows moved between pages. Read the listing again.
            if pass_no >= MAX_PASSES:
                self.mark_incomplete(f"listing {term!r} changed while paging, {pass_no} times "
                                     f"(total {self.totals[term]} → {total})")
                return
            self.passes[term] = pass_no + 1
            self.received[term] = 0
            yield self.page_request(term, 1, pass_no + 1)
            return
        self.got(term, rows)

    def read_penalty(self, response: Response, row: dict[str, Any]) -> Any:
        entity = row["entity"]
        # The same penalty is listed from two tables (…_xzcf_new, …_xzcf_<year>); which copy arrives first
        # varies run to run, so the table is left out of `raw` to keep the record's content hash stable.
        raw = {k: v for k, v in row.items() if k != "table_name"}
        item = self.record("penalty", entity.get("cf_wsh") or "", response, raw=raw, fields=penalty_fields(row))
        label = (row.get("sencesMap") or {}).get("cf_nr_fk")
        if str(entity.get("cf_nr_fk") or "").strip() and fine_unit(label) is None:
            item.quarantine("fine column's label names no unit (元 or 万元)", "fine_yuan", label)
        return item

    # -- session verification (captcha) --------------------------------------------------------
    def refused(self, response: Response) -> Iterator[Request]:
        """40001: park the request; verify the session once (a captcha for the solver), then resend."""
        request = response.request
        if request.meta.get("gen", 0) < self.generation and not self.verifying:
            yield self.resend(request)  # sent before the last verification finished
            return
        self.parked.append(request)
        if self.verifying:
            return
        if self.verifications >= MAX_VERIFICATIONS:
            self.mark_incomplete(f"session refused (40001) again after {self.verifications} verifications")
            return
        self.verifying = True
        self.verifications += 1
        yield self.ask_captcha(tries=1)

    def resend(self, request: Request) -> Request:
        return request.replace(meta={**request.meta, "gen": self.generation}, dont_filter=True)

    def ask_captcha(self, tries: int) -> Request:
        url = f"{self.url(API + '/verify/getVerify')}?_v={random.random()}"  # noqa: S311 (a cache-buster)
        return Request(url, headers=HEADERS, callback=self.parse_captcha, errback=self.on_error,
                       dont_filter=True, meta={"tries": tries})

    def parse_captcha(self, response: Response) -> Iterator[Request]:
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return
        answer = self.solve_captcha(response, response.body, CAPTCHA_LENGTH)
        if answer:
            yield FormRequest(f"{self.url(API + '/verify/checkVerify')}?_v={random.random()}",  # noqa: S311
                              formdata={"verifyInput": answer.strip().upper()}, headers=HEADERS,
                              callback=self.parse_check, errback=self.on_error, dont_filter=True,
                              meta={"tries": response.meta["tries"]})

    def parse_check(self, response: Response) -> Iterator[Request]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("code",), response.url):
            return
        if str(payload["code"]) != "0":
            tries = response.meta["tries"]
            if tries >= MAX_CAPTCHA_TRIES:
                self.mark_incomplete(f"captcha rejected {tries} times ({payload.get('msg')})")
                return
            yield self.ask_captcha(tries + 1)
            return
        self.verifying = False
        self.generation += 1
        parked, self.parked = self.parked, []
        for request in parked:
            yield self.resend(request)
