"""Major tax violators -- 重大税收违法失信主体, from 信用中国's catalogue table credit_swzj_fr_zdsswfajdsr.

Contract: registries.md §7.8 and §1.2 (`catalogSearch?tableName=credit_swzj_fr_zdsswfajdsr&searchState=1&
scenes=defaultscenario&page&pageSize&keyword`, rows with nsrmc, fddbrhzfzrmc, tyshxydm, zzjgdm, nsrsbh, ajsbq,
zcdz, fyzjzrdcwfzrxm, fyzjzrdzjjgxxjqcyryxx, ajxz, zywfss, xgflyjj_swclcfqk, dataSource: chige007/Crawier
`config.js`, `analyze.js`), §1.5 (40001 refusal → the session's 4-character captcha, the platform's).
Per search term, the table is read to the `total` its page 1 announces (spiders/platforms/creditchina.py).
Natural key: code (统一社会信用代码, else 纳税人识别号, else the name) | 案件上报期 | hash of 案件性质
(the row has no id).

Personal data: the 法定代表人 / 财务负责人 named in a case are people. Their names are masked before the record
leaves the spider (surname kept, e.g. 王*), in the raw row too; the intermediary column (中介机构及其从业人员)
is not kept. A 个体工商户 (USCC 92…) case is a person's record: masked in outputs and purged like the others.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

from scrapy.http import Response

from spiders.creditchina_tax_violations.fields import FIELDS
from spiders.platforms.creditchina import CreditchinaSpider, Listing, catalog_table
from spiders.source import here

DEFAULT_TERMS = ("公司", "服务部")
TABLE = "credit_swzj_fr_zdsswfajdsr"  # 重大税收违法案件当事人 (§1.2)
NEEDED = ("nsrmc", "ajsbq", "ajxz")
PERSON_COLUMNS = ("fddbrhzfzrmc", "fyzjzrdcwfzrxm")  # 法定代表人或负责人姓名, 负有直接责任的财务负责人姓名
INTERMEDIARY = "fyzjzrdzjjgxxjqcyryxx"  # 负有直接责任的中介机构信息及其从业人员信息
WITHHELD = "已隐去（含个人信息）"
PERIOD = re.compile(r"^\s*(\d{4})\s*(?:年|-|/|\.)?\s*(\d{1,2})\s*月?")


def mask_person_name(name: object) -> str | None:
    """A person's name with the surname kept and every other character starred: 王小明 → 王**."""
    text = str(name or "").strip()
    if not text:
        return None
    return text[0] + "*" * max(len(text) - 1, 1)


def reported_on(period: object) -> str | None:
    """案件上报期 (2025年03月, 2025-03, 202503) → the first day of that month (2025-03-01), as text for the
    date normaliser (an impossible month fails there, naming the value); None when the text is not a period."""
    match = PERIOD.match(str(period or ""))
    return f"{match.group(1)}-{int(match.group(2)):02d}-01" if match else None


def masked_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row as kept: people's names masked, the intermediary column withheld."""
    kept = dict(row)
    for column in PERSON_COLUMNS:
        if column in kept:
            kept[column] = mask_person_name(kept[column])
    if str(kept.get(INTERMEDIARY) or "").strip():
        kept[INTERMEDIARY] = WITHHELD
    return kept


def case_key(row: dict[str, Any]) -> str:
    code = str(row.get("tyshxydm") or row.get("nsrsbh") or row.get("nsrmc") or "").strip()
    digest = hashlib.sha1(str(row.get("ajxz") or "").encode("utf-8")).hexdigest()[:8]
    return f"{code}|{str(row.get('ajsbq') or '').strip()}|{digest}"


class CreditchinaTaxViolationsSpider(CreditchinaSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def start_listings(self) -> list[Listing]:
        """§7.8: the catalogue table, once per search term (no entity search: the table is searched directly)."""
        return [catalog_table(TABLE, "read_case", term) for term in self.terms]

    def read_case(self, response: Response, listing: Listing, row: dict[str, Any]) -> Iterator[Any]:
        if not self.require(row, NEEDED, response.url):
            return
        kept = masked_row(row)
        yield self.record("tax_major_violation", case_key(row), response, raw=kept, fields={
            "subject_name": row.get("nsrmc"),
            "subject_uscc": row.get("tyshxydm"),
            "taxpayer_id": row.get("nsrsbh"),
            "org_code": row.get("zzjgdm"),
            "reporting_period": row.get("ajsbq"),
            "reported_on": reported_on(row.get("ajsbq")) or row.get("ajsbq"),
            "address": row.get("zcdz"),
            "legal_rep": kept.get("fddbrhzfzrmc"),
            "finance_head": kept.get("fyzjzrdcwfzrxm"),
            "intermediary_withheld": kept.get(INTERMEDIARY),
            "case_nature": row.get("ajxz"),
            "facts": row.get("zywfss"),
            "basis_and_penalty": row.get("xgflyjj_swclcfqk"),
            "data_source": row.get("dataSource"),
        })
