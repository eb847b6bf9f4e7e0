"""MIIT telecom business licences -- 电信业务经营许可证 (电信业务市场综合管理信息系统, dxxzsp).

Contract: registries.md §3.1. Per search term: getCode (7-character captcha) → getcorpinfocount.wf
(how many licences match) → getcorpinfo.wf pages (listyj rows, business types in ywzlInfos) → per
licence, getreporty (its annual report, which carries the 统一社会信用代码 the list lacks).
Search terms: `terms` spider argument (comma-separated names or licence numbers, e.g. a team's
watchlist); the defaults are broad words that IDC/cloud operators' names contain.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator
from typing import Any

from scrapy import FormRequest
from scrapy.http import Response

from spiders.base import RegistrySpider
from spiders.miit_licences.fields import FIELDS
from spiders.source import here

DEFAULT_TERMS = ("科技", "技术")
PAGE_SIZE = 20
MAX_CAPTCHA_TRIES = 3


class MiitLicencesSpider(RegistrySpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    async def start(self) -> Any:
        for index, term in enumerate(self.terms):
            yield self.ask_code(term, session=index, tries=1)

    def ask_code(self, term: str, session: int, tries: int) -> FormRequest:
        # One cookie jar per term: the captcha is bound to the session that asked for it.
        return FormRequest(self.url("/dxxzsp/corpinfo/getCode"), formdata={"num": term},
                           callback=self.parse_code, errback=self.on_error, dont_filter=True,
                           meta={"cookiejar": session, "term": term, "tries": tries})

    def parse_code(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("src",), response.url):
            return
        image = base64.b64decode(payload.get("src", "").split(",", 1)[-1] or b"")
        answer = self.solve_captcha(response, image, length=7)
        if answer:
            yield self.form(response, "/dxxzsp/corpinfo/getcorpinfocount.wf", self.parse_count, code=answer)

    def form(self, response: Response, path: str, callback: Any, **extra: Any) -> FormRequest:
        meta = {k: response.meta[k] for k in ("cookiejar", "term", "tries")} | extra
        data = {"num": meta["term"], "type": "xuke", "code": meta["code"]}
        if "page" in meta:
            data |= {"pageNum": str(meta["page"]), "pageSize": str(PAGE_SIZE)}
        return FormRequest(self.url(path), formdata=data, callback=callback, errback=self.on_error,
                           dont_filter=True, meta=meta)

    def parse_count(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        term = response.meta["term"]
        if not self.require(payload, ("flag",), response.url):
            return
        if str(payload.get("flag")) == "0":  # wrong or expired captcha: ask again, a bounded number of times
            tries = response.meta["tries"]
            if tries >= MAX_CAPTCHA_TRIES:
                self.mark_incomplete(f"captcha for {term!r} rejected {tries} times")
                return
            yield self.ask_code(term, response.meta["cookiejar"], tries + 1)
            return
        total = int(payload["c"])
        self.expect(term, total)
        for page in range(1, math.ceil(total / PAGE_SIZE) + 1):
            yield self.form(response, "/dxxzsp/corpinfo/getcorpinfo.wf", self.parse_page,
                            code=response.meta["code"], page=page)

    def parse_page(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None:
            return
        if str(payload.get("flag")) == "0":
            self.mark_incomplete(f"captcha expired while paging {response.meta['term']!r}")
            return
        if not self.require(payload, ("listyj",), response.url):
            return
        rows = payload.get("listyj") or []
        self.got(response.meta["term"], len(rows))
        for row in rows:
            yield FormRequest(self.url("/dxxzsp/corpinfo/getreporty"), formdata={"num": row["lic_id"]},
                              callback=self.parse_licence, errback=self.on_error,
                              meta={"cookiejar": response.meta["cookiejar"], "row": row, "detail_page": True})

    def parse_licence(self, response: Response) -> Iterator[Any]:
        report = self.load_json(response)
        if report is None:
            return
        row = response.meta["row"]
        yield self.record("licence", row.get("lic_id"), response, raw={"licence": row, "annual_report": report},
                          fields={
                              "licence_no": row.get("license_no"),
                              "company_name": row.get("company_name"),
                              "uscc": report.get("CREDIT_CODE"),
                              "legal_rep": row.get("faren"),
                              "issuer": row.get("fzjg"),
                              "business_types": [
                                  {"business_type": t.get("ywzl"), "coverage": t.get("fgfw"),
                                   "issued_on": t.get("fzrq"), "expires_on": t.get("jzrq")}
                                  for t in row.get("ywzlInfos") or []
                              ],
                          })
