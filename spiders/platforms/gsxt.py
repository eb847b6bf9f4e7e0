"""国家企业信用信息公示系统 (gsxt), the app API on app.gsxt.gov.cn: what every gsxt source's spider shares.

`GsxtAppSpider` is a pattern class (registries.md §2.2): per search term, corp-query-app-search-{page}.html
(entities: entName with <font> highlight markup, pripid, nodeNum, entType; rows repeat across pages) → per
entity once, entbaseInfo (its 统一社会信用代码 uniscId) → `entity_requests(entity)`, which the source writes:
the sub-resources it reads (corp-query-entprise-info-<name>-{pripid}.html, 5 rows a page via `start`).
Completeness: every term's distinct entities (recordsTotal, the replica's guess) received.
加速乐 (§2.1): a 521 challenge page ends the source incomplete; no spider runs challenge JS (live, the source
must run inside a browser session that holds the clearance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from scrapy import FormRequest, Request
from scrapy.http import Response

from spiders.base import RegistrySpider

SECTION_PAGE_SIZE = 5  # registries.md §2.2: `start` = 0, 5, 10, …
# The app sends every filter off: the search finds entities with and without records.
CONDITIONS = json.dumps({"excep_tab": "0", "ill_tab": "0", "area": "0", "cStatus": "0", "xzxk": "0", "xzcf": "0",
                         "dydj": "0"}, separators=(",", ":"))
HEADERS = {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest"}
MARKUP = re.compile(r"</?font[^>]*>|&nbsp;", re.IGNORECASE)


def strip_markup(name: str) -> str:
    """entName without the search highlight (`<font color=red>…</font>`); the name is otherwise as published."""
    return MARKUP.sub("", name)


def kept_entity(entity: dict[str, Any]) -> dict[str, Any]:
    """The entity as a record keeps it in its raw row: without pripid, whose query-time suffix changes every
    session (§7.2) and would make every record "changed" each week."""
    return {key: value for key, value in entity.items() if key != "pripid"}


class GsxtAppSpider(RegistrySpider):
    """A gsxt source: search → entbaseInfo per entity → the source's own `entity_requests`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.found: dict[str, set[str]] = {}  # term → pripids it returned (pages repeat rows)
        self.entities: set[str] = set()

    def entity_requests(self, entity: dict[str, Any]) -> Iterator[Request]:
        """The requests for one entity {pripid, entName, nodeNum, entType, uniscId} (first sighting only)."""
        raise NotImplementedError

    def sub_resource(self, entity: dict[str, Any], name: str, start: int, callback: Any, **meta: Any) -> Request:
        """§2.2: GET corp-query-entprise-info-<name>-{pripid}.html?nodeNum&entType&start&sourceType=W."""
        url = self.url(f"/gsxt/corp-query-entprise-info-{name}-{entity['pripid']}.html?nodeNum={entity['nodeNum']}"
                       f"&entType={entity['entType']}&start={start}&sourceType=W")
        return Request(url, headers=HEADERS, callback=callback, errback=self.on_error,
                       meta={"entity": entity, "start": start, **meta})

    async def start(self) -> Any:
        for term in self.terms:
            self.found[term] = set()
            yield self.search(term, 1)

    def search(self, term: str, page: int) -> FormRequest:
        return FormRequest(self.url(f"/gsxt/corp-query-app-search-{page}.html"), headers=HEADERS,
                           formdata={"conditions": CONDITIONS, "searchword": term, "sourceType": "W"},
                           callback=self.parse_search, errback=self.on_error, meta={"term": term, "page": page})

    def parse_search(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("data",), response.url):
            return
        if not self.require(payload["data"], ("result",), response.url):
            return
        result, term = payload["data"]["result"], response.meta["term"]
        if not self.require(result, ("data", "totalPage"), response.url):
            return
        if response.meta["page"] == 1:
            if "recordsTotal" in result:  # the count of distinct entities (the replica's guess)
                self.expect(f"search {term}", int(result["recordsTotal"]))
            for page in range(2, int(result["totalPage"]) + 1):
                yield self.search(term, page)
        for row in result["data"] or []:
            pripid = row["pripid"]
            if pripid not in self.found[term]:
                self.found[term].add(pripid)
                self.got(f"search {term}", 1)
            if pripid not in self.entities:
                self.entities.add(pripid)
                entity = {"pripid": pripid, "entName": strip_markup(row["entName"]), "nodeNum": row["nodeNum"],
                          "entType": row["entType"]}
                yield Request(self.url(f"/gsxt/corp-query-entprise-info-primaryinfoapp-entbaseInfo-{pripid}.html"
                                       f"?nodeNum={row['nodeNum']}&entType={row['entType']}&sourceType=W"),
                              headers=HEADERS, callback=self.parse_base, errback=self.on_error,
                              meta={"entity": entity})

    def parse_base(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("result",), response.url):
            return
        if not self.require(payload["result"], ("uniscId",), response.url):
            return
        yield from self.entity_requests(response.meta["entity"] | {"uniscId": payload["result"]["uniscId"]})
