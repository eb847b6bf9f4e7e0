"""信用中国 serious dishonesty list -- 严重失信主体名单 (public.creditchina.gov.cn private-api).

Contract: registries.md §7.8 (both channels), §7.1 (the two-level flow), §1.2 (endpoints, envelope, paging,
"严重失信主体名单" in typeSourceSearch's types, the page's list), §1.5 (40001 refusal → 4-character captcha).
  1. §7.1: per search term, the entity search `catalogSearchHome`; per entity hit, `typeSourceSearch` with
     `type=严重失信主体名单` and the hit's name, code and entityType, every page to its announced `total`.
     Every row is an entry ({table_name, entity, columnList, sencesMap, dataSource}); its columns are read by
     their Chinese labels (sencesMap), since the reference names no column of these tables.
  2. §1.2 / §7.8: the site-wide list as the page /xinxigongshi/shixinheimingdan/ reads it,
     `typeNameAndCountSearch?type=shixinheimingdan&searchState=1` (rows name|entityName, type|entityType,
     date|publishDate: the page's three columns), read to its total. Every listed name is searched for too, so
     an entry whose subject no default term finds is still read through step 1. With a watchlist (the `terms`
     argument) the list is searched per term (its `keyword`, the page's search box) instead of read whole:
     the national list is long, and a team wants its own entities.
The site-wide rows carry no reason, date of decision or code, so they are a way in, not records.
Natural key: the entry's 认定文书号 when it has one, else code-or-name | raw 列入日期 | hash of the raw reason.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.creditchina_serious_dishonest.fields import FIELDS
from spiders.platforms.creditchina import CreditchinaSpider, Listing, entity_search, site_list
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
CATEGORY = "严重失信主体名单"  # §1.2 typeSourceSearch type
SITE_LIST = "shixinheimingdan"  # §1.2 / §7.8 the page's typeNameAndCountSearch type
# Field → the labels (sencesMap) its column may carry; the first column whose label matches is read.
LABELS: dict[str, tuple[str, ...]] = {
    "subject_name": ("失信主体名称", "主体名称", "企业名称", "当事人名称"),
    "subject_uscc": ("统一社会信用代码",),
    "list_name": ("名单类别", "列入名单", "名单名称"),
    "reason": ("列入原因", "失信行为", "失信事由", "列入事由"),
    "listed_on": ("列入日期", "认定日期", "列入时间"),
    "document_no": ("认定文书号", "决定文书号", "文书号"),
    "authority": ("认定部门", "列入部门", "认定单位"),
}
NEEDED = ("subject_name", "reason", "listed_on")  # without these a row cannot be read: the layout has changed
LIST_NAME_KEYS = ("name", "entityName")  # §1.2: the page reads name|entityName


def columns_by_label(row: dict[str, Any]) -> dict[str, str]:
    """Field → the `entity` column whose sencesMap label names it."""
    labels = {str(v).strip(): k for k, v in (row.get("sencesMap") or {}).items()}
    found = {}
    for field, wanted in LABELS.items():
        column = next((labels[label] for label in wanted if label in labels), None)
        if column is not None:
            found[field] = column
    return found


def entry_key(fields: dict[str, Any]) -> str:
    """The 认定文书号, else code-or-name | raw 列入日期 | sha1(raw reason)[:10]."""
    if str(fields.get("document_no") or "").strip():
        return str(fields["document_no"]).strip()
    digest = hashlib.sha1(str(fields.get("reason") or "").encode("utf-8")).hexdigest()[:10]
    return f"{fields.get('subject_uscc') or fields.get('subject_name')}|{fields.get('listed_on')}|{digest}"


class CreditchinaSeriousDishonestSpider(CreditchinaSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS
    categories = (CATEGORY,)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.listed_names: set[str] = set()  # names of the site-wide list already searched for

    def start_listings(self) -> list[Listing]:
        watchlist = self.terms != list(self.default_terms)
        keywords = self.terms if watchlist else [""]
        return [*super().start_listings(), *(site_list(SITE_LIST, "read_list_row", keyword=k) for k in keywords)]

    def read_list_row(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Any]:
        """A row of the page's list: search for its name (step 1 then reads the entity's entries)."""
        name = next((str(row[k]).strip() for k in LIST_NAME_KEYS if str(row.get(k) or "").strip()), "")
        if not name:
            self.require(row, ("name|entityName",), response.url)
            return
        if name in self.listed_names or name in self.terms:
            return
        self.listed_names.add(name)
        yield self.listing_request(entity_search(name), page=1)

    def read_category_row(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Any]:
        if not self.require(row, ("table_name", "entity", "sencesMap"), response.url):
            return
        columns = columns_by_label(row)
        missing = tuple(f"a column labelled {LABELS[f][0]}" for f in NEEDED if f not in columns)
        if missing and not self.require({}, missing, response.url):
            return
        entity = row["entity"] or {}
        fields = {field: entity.get(column) for field, column in columns.items()}
        fields["list_name"] = fields.get("list_name") or row.get("data_catalog") or CATEGORY
        fields["data_source"] = row.get("dataSource")
        yield self.record("serious_dishonest_list", entry_key(fields), response, raw=row, fields=fields)
