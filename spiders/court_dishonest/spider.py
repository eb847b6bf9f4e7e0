"""Dishonest judgment debtors -- 失信被执行人 (中国执行信息公开网 zxgk.court.gov.cn).

Contract: registries.md §4.1–4.2. Per search term (pName): a captcha bound to a captchaId we make up
(captchaNew.do, 4 characters) → checkyzm.do (body 1 = right) → searchSX.do pages, one at a time (queued
pages outlive the captcha, §4.1), a JSON array [{result: [{id, caseCode}], totalSize, totalPage}] →
per case, disDetailNew (the record). Pages may repeat rows (§4.2: throttled answers duplicate data), so
paging goes on past totalPage until every one of totalSize rows was seen. The captcha is bound to
the captchaId, not to a cookie, so the spider builds the CaptchaChallenge itself (session id =
captchaId). A person's cardNum, already masked by the court (3728271963****8934), is masked again to
our own form by the pipeline (schema kind personal_id). Search terms: `terms` (comma-separated names,
e.g. a team's watchlist); the defaults are broad words that every replica subject's name contains.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from scrapy import FormRequest, Request
from scrapy.http import Response

from pipelines.normalise import is_personal_id
from spiders.base import RegistrySpider, challenge_reason
from spiders.captcha import CaptchaChallenge
from spiders.court_dishonest.fields import FIELDS
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
PAGE_SIZE = 10
MAX_CAPTCHA_TRIES = 3
MAX_EXTRA_PAGES = 2  # pages past totalPage, where rows pushed down by repeated rows land
CAPTCHA_LENGTH = 4
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")


def refused(payload: Any) -> bool:
    """The site's answer to a wrong or expired captcha (a 验证码 message instead of data)."""
    head = payload[0] if isinstance(payload, list) and payload else payload
    return isinstance(head, dict) and "result" not in head and "caseCode" not in head \
        and "验证码" in str(head.get("message", ""))


def split_card_num(card: object, detail: dict[str, Any]) -> tuple[str | None, str | None]:
    """(organisation code, person's ID number) from cardNum: a person's number is masked with * by the
    court, or is a valid ID number, or the record has a person's sex/age; anything else is a code."""
    text = str(card or "").strip()
    if not text:
        return None, None
    if "*" in text or "＊" in text or is_personal_id(text) or detail.get("sexy") or detail.get("age"):
        return None, text
    return text, None


class CourtDishonestSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def __init__(self, *args: Any, page_size: str | int = PAGE_SIZE,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.page_size = int(page_size)
        if not 1 <= self.page_size <= 50:
            raise ValueError(f"page_size {page_size!r}: the site pages 1..50 rows")
        self.seen_ids: dict[str, set[str]] = {}
        self.cases_requested: set[str] = set()

    async def start(self) -> Any:
        for term in self.terms:
            yield self.captcha_request(term, tries=1)

    # -- captcha --------------------------------------------------------------------------------------
    def captcha_request(self, term: str, tries: int) -> Request:
        captcha_id = uuid.uuid4().hex  # 32 alphanumerics, as the site's page makes them
        query = urlencode({"captchaId": captcha_id, "random": f"{random.random():.16f}"})
        return Request(self.url(f"/shixin/captchaNew.do?{query}"), callback=self.parse_captcha,
                       errback=self.on_error, dont_filter=True,
                       meta={"term": term, "captcha_id": captcha_id, "tries": tries})

    def parse_captcha(self, response: Response) -> Iterator[Any]:
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return
        if not response.body.startswith(IMAGE_MAGIC):
            self.require({}, ("a captcha image",), response.url)
            return
        meta = response.meta
        answer = self.solver.solve(CaptchaChallenge(self.name, response.body, CAPTCHA_LENGTH, meta["captcha_id"],
                                                    response.url))
        if not answer:
            self.mark_incomplete(
                f"captcha at {response.url} and no solver could answer it "
                "(set CREDITWATCH_CAPTCHA_SOLVER=prompt and run interactively, or feed the source from a file)"
            )
            return
        query = urlencode({"captchaId": meta["captcha_id"], "pCode": answer})
        yield Request(self.url(f"/shixin/checkyzm.do?{query}"), callback=self.parse_check, errback=self.on_error,
                      dont_filter=True, meta={**meta, "code": answer})

    def parse_check(self, response: Response) -> Iterator[Any]:
        challenge = challenge_reason(response)
        if challenge:
            self.blocked(response.url, challenge)
            return
        meta = response.meta
        if response.text.strip() == "1":
            yield self.list_request(meta, page=1)
            return
        if meta["tries"] >= MAX_CAPTCHA_TRIES:  # a wrong answer: ask again, a bounded number of times
            self.mark_incomplete(f"captcha for {meta['term']!r} rejected {meta['tries']} times")
            return
        yield self.captcha_request(meta["term"], meta["tries"] + 1)

    # -- list pages -----------------------------------------------------------------------------------
    def list_request(self, meta: dict[str, Any], page: int) -> FormRequest:
        form = {"pName": meta["term"], "pCardNum": "", "pProvince": "0", "pCode": meta["code"],
                "captchaId": meta["captcha_id"], "currentPage": str(page), "pageSize": str(self.page_size)}
        keep = {k: meta[k] for k in ("term", "captcha_id", "code", "tries")}
        return FormRequest(self.url("/shixin/searchSX.do"), formdata=form, callback=self.parse_list,
                           errback=self.on_error, dont_filter=True, meta={**keep, "page": page})

    def parse_list(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        meta, term, page = response.meta, response.meta["term"], response.meta["page"]
        if refused(payload):
            self.mark_incomplete(f"captcha expired while paging {term!r} (page {page})")
            return
        head = payload[0] if isinstance(payload, list) and payload else None
        if not self.require(head, ("result", "totalSize", "totalPage"), response.url):
            return
        rows = head["result"] or []
        if any(not isinstance(r, dict) or "id" not in r or "caseCode" not in r for r in rows):
            self.require({}, ("result[].id", "result[].caseCode"), response.url)
            return
        total = int(head["totalSize"])
        if page == 1:
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

    def detail_request(self, meta: dict[str, Any], row: dict[str, Any]) -> Request:
        query = urlencode({"id": row["id"], "caseCode": row["caseCode"], "pCode": meta["code"],
                           "captchaId": meta["captcha_id"]})
        return Request(self.url(f"/shixin/disDetailNew?{query}"), callback=self.parse_detail, errback=self.on_error,
                       meta={"term": meta["term"], "case": row["caseCode"]})

    # -- one record -----------------------------------------------------------------------------------
    def parse_detail(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        if refused(payload):
            self.mark_incomplete(f"captcha expired while reading {response.meta['case']!r}")
            return
        if payload == {}:  # listed a moment ago, gone now: the listing cannot be trusted either
            self.mark_incomplete(f"no detail for listed case {response.meta['case']!r} at {response.url}")
            return
        if not self.require(payload, ("iname", "caseCode", "cardNum", "publishDate"), response.url):
            return
        uscc, person_id = split_card_num(payload.get("cardNum"), payload)
        yield self.record("court_dishonest", payload["caseCode"], response, raw=payload, fields={
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
