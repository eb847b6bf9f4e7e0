"""Dishonest judgment debtors -- 失信被执行人 (中国执行信息公开网 zxgk.court.gov.cn), under /gkw/ (registries.md §7.5).

Contract (§7.5, a 2026-10 probe; record fields §4.1; anti-bot §4.2): load the search page once (it sets the 瑞数
cookie; in a browser its script computes the token without which every API call answers 412) → per search term
(pName): a Tianai slider captcha bound to a captchaId we make up (captchaNew) → a person passes it (spiders/captcha.py:
in a browser session, in the site's own page; on the replica, its test hook) → searchSX pages, one at a time (queued
pages outlive the captcha, §4.1), a JSON array [{result: [{id, caseCode}], totalSize, totalPage}] → per case,
disDetailNew (the record). Pages may repeat rows (§4.2: throttled answers duplicate data), so paging goes on past
totalPage until every one of totalSize rows was seen.

A slider cannot be typed: with no solver, or a person at a terminal without a browser, the source ends incomplete
saying so and naming the command to run. Live, with `creditwatch run --browser --source court_dishonest` at a
desktop, the search page opens in a Chromium window; the person searches there and drags the slider; the page then
POSTs searchSX with the pass (captchaId, pCode), which `passed_in_page` reads from that request, and the spider pages
on with it. In plain HTTP mode creditwatch runs no challenge JS, so the first API call gets 412 and the source ends
incomplete ("blocked").

Not used: the 2023 `.do` paths (§4.1; gone, §7.5), and the captcha-free getPersonList / getUnitList (§7.5 probe):
they return the page's scrolling list of recent listings, {"data": [{iname, cardNum, caseCode, id}]}, with no
search parameter, total or paging, so they cannot say whether a watched company is listed, nor show that a case was
removed. A person's cardNum, already masked by the court (3728271963****8934), is masked again to our own form by
the pipeline (schema kind personal_id), as is an ID number quoted in `duty`. Search terms: `terms` (comma-separated
names, e.g. a team's watchlist); the defaults are broad words that every replica subject's name contains.

Uncertain (never tried live): the searchSX answer shape under /gkw/ (the §4.1 array is assumed; the probe says only
"JSON"); whether a pass serves every page and detail of a search (§4.2 says so of 2023's pCode) or, as in 2023, each
detail needs a fresh captcha and its query encrypted into the 瑞数 `vG5nbKcB` URL token (§7.5, [idx 33590018321]);
whether the 瑞数 script's cookie and URL token reach requests that scrapy-playwright makes as navigations with
Scrapy's own headers (§7.7): if not, the API calls get 412 and the source ends incomplete "blocked", loudly.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from scrapy import FormRequest, Request, signals
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from pipelines.normalise import is_personal_id
from spiders.base import RegistrySpider, challenge_reason
from spiders.captcha import SLIDER, CaptchaChallenge, SliderPass
from spiders.court_dishonest.fields import FIELDS
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
INDEX = "/gkw/html/shixin/index.html"
CAPTCHA = "/gkw/sx/captchaNew"
SEARCH = "/gkw/sx/searchSX"
DETAIL = "/gkw/sx/disDetailNew"
# How the search page is known (§7.5 probe: its title, its form #myform). Only its cookie is needed, so a page cut
# short after its title still serves; a page with neither is a challenge or a redesign.
SEARCH_PAGE_MARKS = ("全国法院失信被执行人名单信息公布与查询", 'id="myform"')
MAX_CAPTCHA_TRIES = 3
MAX_EXTRA_PAGES = 2  # pages past totalPage, where rows pushed down by repeated rows land
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")
# Tianai's behavioural captcha types (dromara/tianai-captcha: SLIDER, ROTATE, CONCAT, WORD_IMAGE_CLICK): none typed.
BEHAVIOURAL = {"SLIDER", "ROTATE", "CONCAT", "WORD_IMAGE_CLICK"}


def refused(payload: Any) -> bool:
    """The site's answer to a wrong or expired captcha (a 验证码 message instead of data)."""
    head = payload[0] if isinstance(payload, list) and payload else payload
    return isinstance(head, dict) and "result" not in head and "caseCode" not in head \
        and "验证码" in str(head.get("message", ""))


def captcha_type(payload: Any) -> str | None:
    """The Tianai challenge's type from captchaNew: tianai-captcha's {id, captcha: {type}} or its newer envelope
    {code: 200, data: {type}}; None when the answer is neither."""
    if not isinstance(payload, dict):
        return None
    inner = payload.get("captcha") if "captcha" in payload else payload.get("data")
    kind = inner.get("type") if isinstance(inner, dict) else None
    return str(kind) if kind else None


def split_card_num(card: object, detail: dict[str, Any]) -> tuple[str | None, str | None]:
    """(organisation code, person's ID number) from cardNum: a person's number is masked with * by the
    court, or is a valid ID number, or the record has a person's sex/age; anything else is a code."""
    text = str(card or "").strip()
    if not text:
        return None, None
    if "*" in text or "＊" in text or is_personal_id(text) or detail.get("sexy") or detail.get("age"):
        return None, text
    return text, None


def is_search(request: Any) -> bool:
    """The page's own searchSX call (a playwright Request)."""
    return request.method == "POST" and urlsplit(request.url).path.endswith(SEARCH)


async def passed_in_page(page: Any) -> SliderPass:
    """Live, in a browser session: the person searched on the site's page and passed its slider; the page then
    POSTs searchSX with the pass in its form #myform (pCode, captchaId; §7.5 probe). Read it from that request."""
    request = await page.wait_for_event("request", predicate=is_search, timeout=0)
    form = dict(parse_qsl(request.post_data or ""))
    return SliderPass(form.get("captchaId", ""), form.get("pCode", ""))


class CourtDishonestSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen_ids: dict[str, set[str]] = {}
        self.cases_requested: set[str] = set()
        self.page: Any = None  # the search page in a browser session, where a person passes sliders

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> CourtDishonestSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.close_page, signal=signals.spider_closed)
        return spider

    async def close_page(self) -> None:
        page, self.page = self.page, None
        if page is not None:
            await page.close()

    async def start(self) -> AsyncIterator[Any]:
        # §7.5: the search page first; it sets the 瑞数 cookie (§4.2). In a browser session the page stays open
        # (playwright_include_page): a person passes the slider there.
        yield Request(self.url(INDEX), callback=self.parse_index, errback=self.index_failed, dont_filter=True,
                      meta={"playwright_include_page": True})

    async def index_failed(self, failure: Failure) -> None:
        page = failure.request.meta.get("playwright_page") if getattr(failure, "request", None) else None
        if page is not None:
            await page.close()
        self.on_error(failure)

    async def parse_index(self, response: Response) -> AsyncIterator[Any]:
        page = response.meta.get("playwright_page")
        if not any(mark in response.text for mark in SEARCH_PAGE_MARKS):  # not by $_ts: the real page has it too
            if page is not None:
                await page.close()
            why = challenge_reason(response)
            if why:
                self.blocked(response.url, why)
            else:  # a cut-off page is retried; a redesigned one fails after its retries
                self.retry_or_fail(response.request, "not the search page: no title, no form #myform (has its "
                                                     "layout changed?)")
            return
        self.page = page
        for term in self.terms:
            yield self.captcha_request(term, tries=1)

    # -- captcha --------------------------------------------------------------------------------------
    def captcha_request(self, term: str, tries: int, page: int = 1, detail: dict[str, Any] | None = None,
                        fetches: int = 1) -> Request:
        """A new slider for `term`; once passed, list page `page` is read, or the case `detail` (a list row) when
        the pass expired while reading it (a slow, polite crawl outlives a pass)."""
        captcha_id = uuid.uuid4().hex  # 32 alphanumerics, as the site's page makes them
        query = urlencode({"captchaId": captcha_id, "random": f"{random.random():.16f}"})
        # §7.5: captchaNew, a Tianai slider bound to the captchaId. Never fetched twice under one captchaId (so
        # not through Scrapy's retry): a request we gave up on may still be answered by the site, binding a
        # later challenge to the id and voiding the pass we got meanwhile. on_captcha_error asks under a new id.
        return Request(self.url(f"{CAPTCHA}?{query}"), callback=self.parse_captcha, errback=self.on_captcha_error,
                       dont_filter=True, meta={"term": term, "captcha_id": captcha_id, "tries": tries, "page": page,
                                               "detail": detail, "fetches": fetches, "dont_retry": True})

    def on_captcha_error(self, failure: Failure) -> Iterator[Request]:
        """A captchaNew that timed out or failed is asked again under a fresh captchaId, as often as Scrapy would
        retry a page (RETRY_TIMES); a challenge page, or the last failure, is the source's fault as anywhere."""
        request = getattr(failure, "request", None)
        challenged = failure.check(HttpError) and challenge_reason(failure.value.response)
        retries = self.crawler.settings.getint("RETRY_TIMES")
        if request is None or challenged or request.meta["fetches"] > retries:
            self.on_error(failure)
            return
        self.crawler.stats.inc_value("retry/count")
        m = request.meta
        yield self.captcha_request(m["term"], m["tries"], page=m["page"], detail=m["detail"],
                                   fetches=m["fetches"] + 1)

    async def parse_captcha(self, response: Response) -> AsyncIterator[Any]:
        if response.body.startswith(IMAGE_MAGIC):
            self.require({}, ("a Tianai slider challenge (captchaNew answered an image, the typed captcha of 2023; "
                              "§7.5 says slider)",), response.url)
            return
        payload = self.load_json(response)
        if payload is None:
            return
        kind = captcha_type(payload)
        if kind is None:
            self.require({}, ("captcha.type",), response.url)
            return
        if kind.upper() not in BEHAVIOURAL:
            self.require({}, (f"a behavioural captcha type (got {kind!r})",), response.url)
            return
        meta = response.meta
        passed = await self.pass_slider(CaptchaChallenge(
            self.name, response.body, 0, meta["captcha_id"], response.url, kind=SLIDER, page=self.page,
            passed=passed_in_page))
        if passed is None:
            return
        if not passed.session_id or not passed.code:
            self.mark_incomplete(f"the slider for {meta['term']!r} was passed but gave no captchaId/pCode to "
                                 "search with (has the page's form changed?)")
            return
        fresh = {**meta, "captcha_id": passed.session_id, "code": passed.code}
        if meta.get("detail"):
            yield self.detail_request(fresh, meta["detail"])
        else:
            yield self.list_request(fresh, page=meta["page"])

    # -- list pages -----------------------------------------------------------------------------------
    def list_request(self, meta: dict[str, Any], page: int) -> FormRequest:
        # §7.5: POST searchSX with the form #myform's fields (no pageSize: the site pages)
        form = {"pName": meta["term"], "pCardNum": "", "pProvince": "", "pCode": meta["code"],
                "captchaId": meta["captcha_id"], "currentPage": str(page)}
        keep = {k: meta[k] for k in ("term", "captcha_id", "code", "tries")}
        return FormRequest(self.url(SEARCH), formdata=form, callback=self.parse_list, errback=self.on_error,
                           dont_filter=True, meta={**keep, "page": page})

    def parse_list(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        meta, term, page = response.meta, response.meta["term"], response.meta["page"]
        if refused(payload):  # the pass expired: a new slider, then this page again, a bounded number of times
            if meta["tries"] >= MAX_CAPTCHA_TRIES:
                self.mark_incomplete(f"captcha for {term!r} refused {meta['tries']} times (last at page {page})")
                return
            yield self.captcha_request(term, meta["tries"] + 1, page=page)
            return
        head = payload[0] if isinstance(payload, list) and payload else None
        if not self.require(head, ("result", "totalSize", "totalPage"), response.url):
            return
        rows = head["result"] or []
        if any(not isinstance(r, dict) or "id" not in r or "caseCode" not in r for r in rows):
            self.require({}, ("result[].id", "result[].caseCode"), response.url)
            return
        total = int(head["totalSize"])
        if term not in self.expected:
            self.expect(term, total)
        seen = self.seen_ids.setdefault(term, set())
        fresh = [r for r in rows if str(r["id"]) not in seen]
        self.got(term, len(fresh))
        for row in fresh:
            seen.add(str(row["id"]))
            if row["caseCode"] not in self.cases_requested:  # terms overlap: one detail per case
                self.cases_requested.add(row["caseCode"])
                yield self.detail_request(meta, row)
        if rows and len(seen) < total and page < int(head["totalPage"]) + MAX_EXTRA_PAGES:
            yield self.list_request(meta, page + 1)

    def detail_request(self, meta: dict[str, Any], row: dict[str, Any]) -> FormRequest:
        # §7.5: POST disDetailNew, with the pass the search used (§4.2: one pass serves list and detail calls)
        form = {"id": str(row["id"]), "caseCode": row["caseCode"], "pCode": meta["code"],
                "captchaId": meta["captcha_id"]}
        return FormRequest(self.url(DETAIL), formdata=form, callback=self.parse_detail, errback=self.on_error,
                           dont_filter=True, meta={"term": meta["term"], "case": row["caseCode"], "id": str(row["id"]),
                                                   "row": row, "tries": meta.get("tries", 1)})

    # -- one record -----------------------------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        if refused(payload):  # the pass expired mid-crawl: a new slider, then this case again (bounded)
            meta = response.meta
            if meta["tries"] >= MAX_CAPTCHA_TRIES:
                self.mark_incomplete(f"captcha expired while reading {meta['case']!r} ({meta['tries']} passes)")
                return
            yield self.captcha_request(meta["term"], meta["tries"] + 1, detail=meta["row"])
            return
        if payload == {}:  # listed a moment ago, gone now: the listing cannot be trusted either
            self.mark_incomplete(f"no detail for listed case {response.meta['case']!r} at {response.url}")
            return
        if not self.require(payload, ("iname", "caseCode", "cardNum", "publishDate"), response.url):
            return
        uscc, person_id = split_card_num(payload.get("cardNum"), payload)
        # The case's own link, as the site's page writes it (§7.5 probe ②: GET, pCode and captchaId empty).
        link = self.url(f"{DETAIL}?" + urlencode({"id": payload.get("id") or response.meta.get("id", ""),
                                                    "caseCode": payload["caseCode"], "pCode": "", "captchaId": ""}))
        yield self.record("court_dishonest", payload["caseCode"], response, url=link, raw=payload, fields={
            "case_code": payload.get("caseCode"),
            "subject_name": payload.get("iname"),
            "subject_uscc": uscc,
            "subject_id_number": person_id,
            "legal_rep": payload.get("businessEntity"),
            "court": payload.get("courtName"),
            "area": payload.get("areaName"),
            "gist_id": payload.get("gistId"),
            "gist_unit": payload.get("gistUnit"),
            "duty": payload.get("duty"),
            "performance": payload.get("performance"),
            "disrupt_type": payload.get("disruptTypeName"),
            "registered_on": payload.get("regDate"),
            "published_on": payload.get("publishDate"),
        })
