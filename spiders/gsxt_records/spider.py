"""SAMR enterprise credit records -- 国家企业信用信息公示系统 (gsxt), the app API on app.gsxt.gov.cn.

Contract: registries.md §2.2. Per search term: corp-query-app-search-{page}.html (entities: entName with
<font> highlight markup, pripid, nodeNum, entType) → per entity, entbaseInfo (its 统一社会信用代码 uniscId);
that much is the platform's (spiders/platforms/gsxt.py) → three sub-resources paged 5 rows at a time via
`start`: entBusExcep (经营异常名录 → abnormal_operation), illInfo (严重违法失信名单 → serious_illegal_list),
punishmentdetail (行政处罚 → penalty).
Listings carry no id: their natural key is the entity's 统一社会信用代码 (uniscId; its name as published when
it has none) + raw 列入日期 + a hash of the raw reason. Never pripid: it carries a query-time suffix that
changes between sessions (§7.2), so a key on it would make every record "removed" and "new" each week.
加速乐 (§2.1): a 521 challenge page ends the source incomplete; this spider never runs challenge JS
(live, it must run inside a browser session that holds the clearance).
Search terms: `terms` spider argument (comma-separated; real use: a team's watchlist); the defaults
are broad words that IDC/cloud operators' names contain, in simplified and traditional script.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from scrapy import Request
from scrapy.http import Response

from spiders.gsxt_records.fields import FIELDS
from spiders.platforms.gsxt import SECTION_PAGE_SIZE, GsxtAppSpider, kept_entity, strip_markup
from spiders.source import here

__all__ = ["GsxtRecordsSpider", "listing_key", "strip_markup"]

DEFAULT_TERMS = ("科技", "技术", "技術", "服务部")
# Per sub-resource: record type, and the keys a row must carry (else the layout has drifted).
SECTIONS = {
    "entBusExcep": ("abnormal_operation", ("speCause_CN", "abntime")),
    "illInfo": ("serious_illegal_list", ("serILLRea_CN", "abntime")),
    "punishmentdetail": ("penalty", ("penDecNo", "penDecIssDate")),
}


def listing_key(entity_key: str, abntime: object, reason: object) -> str:
    """Natural key of a 名录/名单 row, from raw values: uniscId (else entName) | raw 列入日期 |
    sha1(raw reason)[:10]."""
    digest = hashlib.sha1(str(reason or "").encode("utf-8")).hexdigest()[:10]
    return f"{entity_key}|{abntime}|{digest}"


class GsxtRecordsSpider(GsxtAppSpider):
    metadata = here(__file__)
    name = metadata.name
    fields = FIELDS
    default_terms = DEFAULT_TERMS

    def entity_requests(self, entity: dict[str, Any]) -> Iterator[Request]:
        for section in SECTIONS:
            yield self.section(entity, section, 0)

    def section(self, entity: dict[str, Any], section: str, start: int) -> Request:
        return self.sub_resource(entity, section, start, self.parse_section, section=section)

    def parse_section(self, response: Response) -> Iterator[Any]:
        payload = self.load_json(response)
        if payload is None or not self.require(payload, ("recordsTotal", "data"), response.url):
            return
        entity, section = response.meta["entity"], response.meta["section"]
        listing = f"{section} {entity['pripid']}"
        if response.meta["start"] == 0:
            total = int(payload["recordsTotal"])
            self.expect(listing, total)
            for start in range(SECTION_PAGE_SIZE, total, SECTION_PAGE_SIZE):
                yield self.section(entity, section, start)
        rows = payload["data"] or []
        self.got(listing, len(rows))
        record_type, needed = SECTIONS[section]
        for row in rows:
            if self.require(row, needed, response.url):
                yield self.read(record_type, entity, row, response)

    def read(self, record_type: str, entity: dict[str, Any], row: dict[str, Any], response: Response) -> Any:
        raw = {"entity": kept_entity(entity), "row": row}
        subject = {"subject_name": entity["entName"], "subject_uscc": entity["uniscId"]}
        if record_type == "penalty":
            return self.record("penalty", row["penDecNo"], response, raw=raw, fields=subject | {
                "decision_no": row["penDecNo"], "violation_type": row.get("illegActType"),
                "penalty_kinds_text": row.get("penType_CN"), "content": row.get("penContent"),
                # 处罚金额: a bare number is in 万元; a value that writes its unit ("5000元") keeps it.
                "fine_wan": row.get("penAm"), "decided_on": row["penDecIssDate"],
                "published_on": row.get("publicDate"), "authority": row.get("penAuth_CN"),
            })
        reason = row["speCause_CN"] if record_type == "abnormal_operation" else row["serILLRea_CN"]
        entity_key = entity.get("uniscId") or entity["entName"]
        return self.record(record_type, listing_key(entity_key, row["abntime"], reason), response, raw=raw,
                           fields=subject | {
                               "reason": reason, "listed_on": row["abntime"], "authority": row.get("decOrg_CN"),
                               "removal_reason": row.get("remExcpRes_CN"), "removed_on": row.get("remDate"),
                               "removal_authority": row.get("reDecOrg_CN"),
                           })
