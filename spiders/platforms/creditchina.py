"""信用中国 (public.creditchina.gov.cn private-api): what every creditchina source's spider shares.

`CreditchinaSpider` is a pattern class (as kingfisher-collect's base spiders are): a source says which
categories it reads and how to read one row; this class does the rest.
  - §7.1 the two-level flow: an entity search (`catalogSearchHome`) per search term, then per entity hit
    `typeSourceSearch` for each of the source's `categories`, the hit's name, code and entityType passed on.
    Entities are joined on `recid` (stable), never on the search `uuid` (it changes between sessions, §1.2).
  - §1.2 paging: every listing (an entity search, an entity's category, a site-wide list, a catalogue table) is
    read to the `total` its page 1 announces, 10 rows a page; a later page announcing another total means
    the listing moved while we paged (a record was published): it is read again from page 1.
    Completeness = every hit visited and every listing read to its total (RegistrySpider.expect / got).
  - §1.5 / §7.1 session verification: a data call refused with HTTP 500 {"status":40001,"message":"请刷新后重试！"}
    is parked; the session is verified once (verify/getVerify image → the captcha solver → verify/checkVerify,
    success = code 0, or the cookie `vcode=1` that 2026 pages watch for), then every parked request is sent again.
A source subclass sets `categories` and implements `read_category_row`; a source reading a site-wide list
(`typeNameAndCountSearch`) or a catalogue table (`catalogSearch`) starts a `Listing` with `site_list()` /
`catalog_table()` and a reader method of its own.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import RegistrySpider, browser_json_text, challenge_reason

API = "/private-api"
PAGE_SIZE = 10  # the site's page size (§1.2); larger values are not known to be honoured
CAPTCHA_LENGTH = 4
MAX_CAPTCHA_TRIES = 3  # wrong answers in a row before the source gives up
MAX_CAPTCHA_ASKS = 2 * MAX_CAPTCHA_TRIES  # captchas of one verification, wrong or lost
# A check lasts ~5 minutes (§1.5), so a long crawl verifies its session again and again; only verifications
# that let no page through in between mean the site will not take us.
MAX_FRUITLESS_VERIFICATIONS = 3
MAX_PASSES = 3  # readings of one listing whose total keeps changing
ENTITY_TYPES = "1,2,4,5,6,7,8"  # §1.2 / §7.1: what the entity search asks for
# §1.5 headers real clients send (Accept, Origin, Referer, X-Requested-With).
HEADERS = {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest",
           "Origin": "https://www.creditchina.gov.cn", "Referer": "https://www.creditchina.gov.cn/"}
HIT_KEYS = ("recid", "entityType")  # what a hit must carry besides a name (accurate_entity_name[_query])


def is_refused(response: Response) -> bool:
    """The site's "no verified session" answer: status/code 40001, or 请刷新后重试 / 验证码 (§1.5, §7.1)."""
    try:
        payload = json.loads(browser_json_text(response))
    except (ValueError, AttributeError):
        return False
    if not isinstance(payload, dict):
        return False
    if any(str(payload.get(k)) == "40001" for k in ("status", "code")):
        return True
    message = str(payload.get("message") or payload.get("msg") or "")
    return "刷新后重试" in message or "验证码" in message


def refusal_drifted(response: Response) -> bool:
    """An HTTP 500 answered with a JSON object that has neither `status` nor `code`: the refusal (§1.5) in a
    layout the spider no longer reads. A 500 page that is not JSON (a gateway error) is a passing fault."""
    try:
        payload = json.loads(browser_json_text(response))
    except (ValueError, AttributeError):
        return False
    return isinstance(payload, dict) and bool(payload) and not {"status", "code"} & set(payload)


@dataclass(frozen=True)
class Hit:
    """An entity of the entity search (§1.2 capture): joined on `recid`; the `uuid` is this session's only."""

    name: str  # accurate_entity_name_query (or accurate_entity_name), as published
    code: str  # accurate_entity_code: the USCC as published, "" when none
    entity_type: str  # entityType, passed on to typeSourceSearch (§7.1)
    recid: str


def hit_of(row: dict[str, Any]) -> Hit:
    name = row.get("accurate_entity_name_query") or row.get("accurate_entity_name") or ""
    return Hit(str(name), str(row.get("accurate_entity_code") or ""), str(row["entityType"]), str(row["recid"]))


@dataclass(frozen=True)
class Listing:
    """A paged list the site announces a `total` for: where it is, and which spider method reads its rows."""

    key: str  # what completeness counts it under
    path: str  # the §1.2 endpoint, under /private-api
    query: tuple[tuple[str, str], ...]  # its parameters, without page and pageSize
    reader: str  # the spider method called with (response, listing, row) for every row
    hit: Hit | None = None  # the entity a category listing belongs to


def entity_search(term: str) -> Listing:
    """§1.2 / §7.1 first level: the entity search for a name or a USCC."""
    query = (("keyword", term), ("scenes", "defaultScenario"), ("tableName", "credit_xyzx_tyshxydm"),
             ("searchState", "2"), ("entityType", ENTITY_TYPES), ("templateId", ""))
    return Listing(f"search {term}", "/catalogSearchHome", query, "read_hit")


def entity_category(hit: Hit, category: str) -> Listing:
    """§7.1 second level: one entity's records of one category (`typeSourceSearch`)."""
    query = (("source", ""), ("type", category), ("searchState", "1"), ("entityType", hit.entity_type),
             ("scenes", "defaultscenario"), ("keyword", hit.name), ("tyshxydm", hit.code))
    return Listing(f"{hit.recid} {category}", "/typeSourceSearch", query, "read_category_row", hit)


def site_list(type_name: str, reader: str, keyword: str = "", search_state: str = "1") -> Listing:
    """§1.2 typeNameAndCountSearch: the site-wide list of one type (e.g. shixinheimingdan, §7.8)."""
    query = (("keyword", keyword), ("type", type_name), ("searchState", search_state))
    return Listing(f"list {type_name} {keyword}", "/typeNameAndCountSearch", query, reader)


def catalog_table(table_name: str, reader: str, keyword: str = "") -> Listing:
    """§1.2 catalogSearch: one named catalogue table (e.g. credit_swzj_fr_zdsswfajdsr, §7.8)."""
    query = (("tableName", table_name), ("searchState", "1"), ("scenes", "defaultscenario"), ("keyword", keyword))
    return Listing(f"table {table_name} {keyword}", "/catalogSearch", query, reader)


class CreditchinaSpider(RegistrySpider):
    """A creditchina source: entity search → each entity's `categories` (§7.1), with session verification."""

    categories: tuple[str, ...] = ()  # typeSourceSearch types this source reads per entity
    # HTTP 500 is how the site refuses a session (40001): the spider reads it, Scrapy must not retry it.
    custom_settings = {"RETRY_HTTP_CODES": [502, 503, 504, 522, 524, 408, 429]}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.passes: dict[str, int] = {}  # listing key → the reading being counted
        self.totals: dict[str, int] = {}  # listing key → total announced by that reading's page 1
        self.visited: set[str] = set()  # recids whose categories were asked for
        self.parked: list[Request] = []  # requests refused while the session is being verified
        self.verifying = False
        self.generation = 0  # successful verifications so far
        self.fruitless = 0  # verifications since a page last got through
        self.waiting: list[Listing] = []  # start listings sent once the first answer has opened the session

    async def start(self) -> Any:
        # One request first: its answer opens the session (JSESSIONID) that every later request shares. Sent
        # together, the first requests each opened a session of their own, and the cookie jar could switch
        # between them mid-listing; a record published while a listing is read is hidden from a session until
        # it reads page 1 (§1.2 paging that shifts), so a listing read across two sessions could miss it.
        listings = self.start_listings()
        self.waiting = listings[1:]
        if listings:
            yield self.listing_request(listings[0], page=1)

    def start_listings(self) -> list[Listing]:
        """The entity search for every term (a team's watchlist, or the source's defaults)."""
        return [entity_search(term) for term in self.terms]

    # -- listings -----------------------------------------------------------------------------------------
    def listing_request(self, listing: Listing, page: int, pass_no: int | None = None) -> Request:
        if pass_no is None:
            pass_no = self.passes.setdefault(listing.key, 1)
        query = urlencode([*listing.query, ("page", str(page)), ("pageSize", str(PAGE_SIZE))])
        if listing.path == "/typeSourceSearch":
            query += "&pubSort=desc"  # §7.1: newest first, as the page asks
        return Request(f"{self.url(API + listing.path)}?{query}", headers=HEADERS, callback=self.parse_listing,
                       errback=self.on_listing_error, dont_filter=True,
                       meta={"listing": listing, "page": page, "pass": pass_no, "gen": self.generation,
                             "handle_httpstatus_list": [500]})

    def release_waiting(self) -> Iterator[Request]:
        waiting, self.waiting = self.waiting, []
        for listing in waiting:
            yield self.listing_request(listing, page=1)

    def on_listing_error(self, failure: Failure) -> Iterator[Request]:
        """A listing page failed after its retries: the source ends incomplete with the reason; if it was the
        first request, the other start listings are still read."""
        yield from self.release_waiting()
        self.on_error(failure)

    def parse_listing(self, response: Response) -> Iterator[Any]:
        yield from self.release_waiting()
        if is_refused(response):
            yield from self.refused(response)
            return
        if response.status == 500:
            if refusal_drifted(response):
                # The §1.5 refusal's shape without its keys: the site was redesigned, not a passing error.
                self.require({}, ("status|code (the 40001 refusal's keys)",), response.url)
                return
            self.retry_or_fail(response.request, "HTTP 500")
            return
        data = self.envelope(response)
        if data is None:
            return
        self.fruitless = 0
        listing: Listing = response.meta["listing"]
        yield from self.follow_listing(response, int(data["total"]), len(data["list"]))
        reader = getattr(self, listing.reader)
        for row in data["list"]:
            yield from reader(response, listing, row)

    def envelope(self, response: Response) -> dict[str, Any] | None:
        """`data` of a §1.2 envelope {status:1, message, data:{page,total,totalSize,list}}, or None (the reason
        recorded: a firewall page, a garbled body retried, a redesign, or another status)."""
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("status", "data"), response.url):
            return None
        if str(payload["status"]) != "1":
            self.mark_incomplete(f"site answered status {payload['status']} ({payload.get('message')}) "
                                 f"at {response.url}")
            return None
        data = payload["data"]
        return data if self.require(data, ("total", "list"), response.url) else None

    def follow_listing(self, response: Response, total: int, rows: int) -> Iterator[Request]:
        """Count this page against its listing; page 1 asks for the rest; a changed total reads it again."""
        listing: Listing = response.meta["listing"]
        page, pass_no, key = response.meta["page"], response.meta["pass"], listing.key
        if pass_no != self.passes[key]:
            return  # a page of an abandoned reading: its rows are still read, not counted
        if page == 1:
            self.totals[key] = total
            self.expect(key, total)
            for later in range(2, math.ceil(total / PAGE_SIZE) + 1):
                yield self.listing_request(listing, later, pass_no)
        elif total != self.totals[key]:
            # Published (or withdrawn) while we paged: rows moved between pages. Read the listing again.
            if pass_no >= MAX_PASSES:
                self.mark_incomplete(f"listing {key!r} changed while paging, {pass_no} times "
                                     f"(total {self.totals[key]} → {total})")
                return
            self.passes[key] = pass_no + 1
            self.received[key] = 0
            yield self.listing_request(listing, 1, pass_no + 1)
            return
        self.got(key, rows)

    # -- readers --------------------------------------------------------------------------------------------
    def read_hit(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Request]:
        """An entity hit: visit it once per crawl (terms overlap), one listing per category (§7.1)."""
        if not self.require(row, HIT_KEYS, response.url):
            return
        if not (row.get("accurate_entity_name_query") or row.get("accurate_entity_name")):
            self.require(row, ("accurate_entity_name",), response.url)
            return
        hit = hit_of(row)
        if hit.recid in self.visited:
            return
        self.visited.add(hit.recid)
        for category in self.categories:
            yield self.listing_request(entity_category(hit, category), page=1)

    def read_category_row(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Any]:
        """One typeSourceSearch row of `listing.hit` ({table_name, entity, columnList, sencesMap, dataSource})."""
        raise NotImplementedError(f"{type(self).__name__} reads categories {self.categories} but no rows")

    # -- session verification (captcha) ---------------------------------------------------------------------
    def refused(self, response: Response) -> Iterator[Request]:
        """40001: park the request; verify the session once (a captcha for the solver), then resend."""
        request = response.request
        if request.meta.get("gen", 0) < self.generation and not self.verifying:
            yield self.resend(request)  # sent before the last verification finished
            return
        self.parked.append(request)
        if self.verifying:
            return
        if self.fruitless >= MAX_FRUITLESS_VERIFICATIONS:
            self.mark_incomplete(f"session refused (40001) again after {self.fruitless} verifications "
                                 "that let no page through")
            return
        self.verifying = True
        self.fruitless += 1
        yield self.ask_captcha(tries=1)

    def resend(self, request: Request) -> Request:
        return request.replace(meta={**request.meta, "gen": self.generation}, dont_filter=True)

    def ask_captcha(self, tries: int, asked: int = 1) -> Request:
        """`tries`: this captcha's number among those counted as wrong answers; `asked`: among all of them."""
        url = f"{self.url(API + '/verify/getVerify')}?_v={random.random()}"  # noqa: S311 (a cache-buster)
        return Request(url, headers=HEADERS, callback=self.parse_captcha, errback=self.on_error,
                       dont_filter=True, meta={"tries": tries, "asked": asked})

    def parse_captcha(self, response: Response) -> Iterator[Request]:
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return
        answer = self.solve_captcha(response, response.body, CAPTCHA_LENGTH)
        if answer:
            # §1.2: the check is a form POST (one capture shows GET with the same field; the site takes both).
            yield FormRequest(f"{self.url(API + '/verify/checkVerify')}?_v={random.random()}",  # noqa: S311
                              formdata={"verifyInput": answer.strip().upper()}, headers=HEADERS,
                              callback=self.parse_check, errback=self.on_error, dont_filter=True,
                              meta={"tries": response.meta["tries"], "asked": response.meta.get("asked", 1),
                                    "image_retried": retried(response)})

    def parse_check(self, response: Response) -> Iterator[Request]:
        payload = self.load_json(response)
        if payload is None:
            return
        if not passed_check(response, payload):
            if not self.require(payload, ("code",), response.url):
                return
            if retried(response):
                # The first attempt of this check was lost (timed out, cut short) after the site may have
                # taken it: a code is good for one check, so the retry reads as wrong although the session
                # may be verified. The parked requests tell; a refusal starts a new (counted) verification.
                yield from self.verified()
                return
            # A captcha image that was fetched again may be replaced by the late answer of the lost first
            # fetch, so a rejection then is not counted as a wrong answer (`asked` still bounds the exchange).
            tries = response.meta["tries"] + (0 if response.meta.get("image_retried") else 1)
            asked = response.meta.get("asked", 1)
            if tries > MAX_CAPTCHA_TRIES or asked >= MAX_CAPTCHA_ASKS:
                self.mark_incomplete(f"captcha rejected {asked} times ({payload.get('msg')})")
                return
            yield self.ask_captcha(tries, asked + 1)
            return
        yield from self.verified()

    def verified(self) -> Iterator[Request]:
        """The session is (taken as) verified: resend what was parked, marked with the new generation."""
        self.verifying = False
        self.generation += 1
        parked, self.parked = self.parked, []
        for request in parked:
            yield self.resend(request)


def retried(response: Response) -> bool:
    """The answer came to a retry (Scrapy's RetryMiddleware counts them in `retry_times`)."""
    return bool(response.meta.get("retry_times"))


def passed_check(response: Response, payload: Any) -> bool:
    """checkVerify passed: {"msg":"验证成功","code":0} (§1.2), or the cookie `vcode=1` it sets (§7.1)."""
    if isinstance(payload, dict) and str(payload.get("code")) == "0":
        return True
    cookies = b"; ".join(response.headers.getlist(b"Set-Cookie")).decode("latin-1")
    return any(part.strip() == "vcode=1" for part in cookies.replace(",", ";").split(";"))
