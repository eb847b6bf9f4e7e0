"""信用中国 administrative penalties -- 行政处罚 (public.creditchina.gov.cn private-api).

Contract: registries.md §7.1 (the two-level flow; it corrects §1.2's reading of the site-wide search), §1.2
(endpoints, envelope, paging), §1.4 (双公示 penalty columns), §1.5 (40001 refusal → 4-character captcha).
  1. §7.1 / §1.2: per search term, the entity search `catalogSearchHome` (spiders/platforms/creditchina.py);
  2. §7.1: per entity hit, `typeSourceSearch?type=行政管理` with the hit's name, code and entityType, every
     page to its announced `total`; rows whose `table_name` contains `xzcf` are penalties (`xzxk` rows are
     licences, left out), each kept raw (entity, columnList, sencesMap, dataSource) and keyed by its
     行政处罚决定书文号 (cf_wsh).
The first spider read penalty fields from `typeNameAndCountSearch` rows, which are companies (§7.1): the replica
answers that request with companies, so it yields no penalties (tests/test_creditchina_penalties.py shows it).
The site repeats a penalty across tables (…_xzcf_new, …_xzcf_<year>): the dedupe pipeline keeps one.
Search terms: the `terms` argument (comma-separated names or USCCs: a team's watchlist); the defaults are
words every company or 个体工商户 name contains.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from pipelines.items import RecordItem
from spiders.creditchina_penalties.fields import FIELDS
from spiders.platforms.creditchina import CreditchinaSpider, Listing
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
ADMINISTRATION = "行政管理"  # §7.1: "current code asks for type=行政管理 and filters xzcf/xzxk"
PENALTY_TABLE = "xzcf"  # §1.2 / §7.1: penalties are the rows whose table_name contains it
TELECOM_AUTHORITY = re.compile(r"通信管理局$|^工业和信息化部$")


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


def is_penalty(row: dict[str, Any]) -> bool:
    return PENALTY_TABLE in str(row.get("table_name") or "").lower()


class CreditchinaPenaltiesSpider(CreditchinaSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS
    categories = (ADMINISTRATION,)

    def read_category_row(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Any]:
        """§7.1: a typeSourceSearch row of the entity; penalties (xzcf) become records, licences (xzxk) not."""
        if self.require(row, ("table_name", "entity"), response.url) and is_penalty(row):
            yield self.read_penalty(response, row)

    def read_penalty(self, response: Response, row: dict[str, Any]) -> RecordItem:
        entity = row["entity"]
        # The same penalty is listed from two tables (…_xzcf_new, …_xzcf_<year>); which copy arrives first
        # varies run to run, so the table is left out of `raw` to keep the record's content hash stable.
        raw = {k: v for k, v in row.items() if k != "table_name"}
        item = self.record("penalty", entity.get("cf_wsh") or "", response, raw=raw, fields=penalty_fields(row))
        label = (row.get("sencesMap") or {}).get("cf_nr_fk")
        if str(entity.get("cf_nr_fk") or "").strip() and fine_unit(label) is None:
            item.quarantine("fine column's label names no unit (元 or 万元)", "fine_yuan", label)
        return item
