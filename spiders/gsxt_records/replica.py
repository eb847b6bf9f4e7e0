"""国家企业信用信息公示系统 (gsxt), the mobile / mini-program JSON API on `app.gsxt.gov.cn`.

Contract (registries.md §2.2, from a 2019–2021 Scrapy `GsxtAppletsSpider` and other app crawlers):
  POST /gsxt/corp-query-app-search-{page}.html   conditions={…}&searchword=<kw>&sourceType=W
       → {"data": {"result": {"data": [{entName, pripid, nodeNum, entType}], "totalPage": n}}};
       entName carries `<font color=red>` highlight markup around the search word.
  GET  /gsxt/corp-query-entprise-info-primaryinfoapp-entbaseInfo-{pripid}.html?nodeNum&entType&sourceType
       → {"result": {entName, uniscId, entType_CN, name, estDate, regOrg_CN, regState_CN, dom, pripId,
       nodeNum, entType}, "regCaption", "regCapCurCN"}
  GET  /gsxt/corp-query-entprise-info-<section>-{pripid}.html?nodeNum&entType&start=<offset>&sourceType
       → {"recordsTotal", "totalPage", "data": [row…]}, 5 rows a page, `start` = 0, 5, 10, …
       entBusExcep (经营异常名录): speCause_CN, abntime, decOrg_CN, remExcpRes_CN, remDate, reDecOrg_CN
       illInfo (严重违法失信名单): abntime, serILLRea_CN, decOrg_CN (removal fields never seen: not served)
       punishmentdetail (行政处罚): penDecNo, illegActType, penContent, penAuth_CN, penDecIssDate
  加速乐 (§2.1): a request without a valid `__jsl_clearance` cookie gets HTTP 521 and a
  `<script>document.cookie=…</script>` page (the old variant) that computes the cookie in a browser.

What the replica chose for the firewall: by default it answers like the real site — every request of a
session without the clearance cookie gets the 521 script page (and a `__jsluid_s` cookie); creditwatch
does not run challenge JS, so the source ends incomplete. `grant_browser_session(replica)` is the
documented switch for the happy path (demo, tests): the replica then serves as though the requests ride
a browser session that already holds the clearance (how the source must run live: in a real browser).

The replica's guesses where the reference is silent or uncertain:
  - search: `recordsTotal` (distinct entities) beside `totalPage`; 10 rows a page; `searchword` matches
    the published name by substring (no simplified/traditional folding); results in registry order;
  - pripid: real ones are long opaque ids; the replica numbers its entities (a fixed prefix + a serial)
    because server.py routes exact paths, so every per-entity path must be listed in ROUTES;
  - punishmentdetail also carries penType_CN 处罚种类, penAm 处罚金额 and publicDate 公示日期, as other
    gsxt code shows ([idx 42660808867] penTypeCn/publicDate; [idx 273718433] "处罚金额(万元)"; a bare
    penAm is in 万元, some nodes write the unit in the value, e.g. "5000元"); penContent opens with the
    facts (违法事实), so an individual business's operator ID number can appear in it, as in decisions;
  - entType "1" for enterprises, "16" for 个体工商户; nodeNum from the city the name starts with;
  - dates in each record's `date_style`, epoch_ms as a JSON number (Asia/Shanghai midnight).
Entities: every subject with a gsxt record (any epoch) plus every company of the world, one per
published name. Records are filtered by epoch; an abnormal listing corrected between crawls shows its
removal (remDate, remExcpRes_CN, reDecOrg_CN) from `removed_in_epoch` on: same key, new content.

Site faults (deterministic; a correct crawler recovers from them):
  - GBK: per-entity pages of the 广东 and 四川 nodes are GBK-encoded (`text/html;charset=GBK`);
  - duplicates across pages: the last row of a search page is repeated at the top of the next one;
Data faults (derived here, since the world marks no gsxt record malformed): two gsxt penalties are
published with an impossible decision date and with "待定" as the amount; the crawl must quarantine them.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import time
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from replica.server import Replica, Request, Response
from replica.world import REGION_CITY, REGIONS, Penalty, Subject, World, render_date
from spiders.gsxt_records.spider import listing_key

# -- its share of the world ---------------------------------------------------------------------------
ABNORMAL_REASONS = [
    "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
    "通过登记的住所或者经营场所无法联系的",
    "未在市场监督管理部门依照《企业信息公示暂行条例》第十条规定责令的期限内公示有关企业信息的",
]


@dataclass
class AbnormalListing:
    """经营异常名录 entry on 公示系统 (entBusExcep)."""

    key: str
    subject: Subject
    reason: str  # 列入经营异常名录原因
    listed_on: date
    authority: str
    removed_on: date | None = None  # 移出日期 (the listing stays visible with its removal)
    removal_reason: str | None = None
    removal_authority: str | None = None
    removed_in_epoch: int | None = None  # epoch from which the removal is shown
    date_style: str = "iso"
    epoch_added: int = 0
    epoch_removed: int | None = None


@dataclass
class SeriousIllegalListing:
    """严重违法失信名单 entry on 公示系统 (illInfo)."""

    key: str
    subject: Subject
    reason: str
    listed_on: date
    authority: str
    epoch_added: int = 0
    epoch_removed: int | None = None


def populate(world: World, rng: random.Random) -> None:
    """gsxt records: SAMR penalties (市场监督管理局, domain food / special equipment / general), 经营异常名录
    listings (a third corrected long ago, a third corrected between the two crawls) and two 严重违法失信名单
    listings."""
    penalties = world.family("penalties")

    def make(subject: Subject, n: int) -> Penalty:
        decided = world.today - timedelta(days=rng.randint(5, 365 * 3))
        region = rng.choice(list(REGIONS))
        number = f"{REGIONS[region][0][0]}市监处罚〔{decided.year}〕{n + 100}号"
        domain = rng.choice(["general", "general", "food", "special_equipment"])
        return world.penalty(rng, subject, "gsxt", f"{REGION_CITY[region]}市市场监督管理局", region, domain,
                             number, decided)

    mine: list[Penalty] = []
    for subject in world.subjects:
        # Every subject published in traditional script has one (names must survive GBK pages as published),
        # and every individual business (its operator's ID number appears in the decision).
        traditional = subject.name != subject.name.encode("gb2312", "ignore").decode("gb2312")
        always = traditional or subject.kind == "individual_business"
        for _ in range(1 if always else rng.choice([0, 0, 1])):
            mine.append(make(subject, len(mine)))
    # Between the first and the second crawl: one repaired (gone), one new.
    next(p for p in mine if not p.subject.person_id).epoch_removed = 1
    late = make(world.subjects[3], len(mine))
    late.epoch_added = 1
    mine.append(late)
    penalties.extend(mine)
    listings = world.family("abnormal_listings")
    for n, company in enumerate(c for c in world.companies if rng.random() < 0.3):
        subject = Subject(company.name, company.uscc, "company", company.uscc)
        listed = world.today - timedelta(days=rng.randint(30, 365 * 4))
        listing = AbnormalListing(f"{company.uscc}-{listed:%Y%m%d}", subject, rng.choice(ABNORMAL_REASONS),
                                  listed, f"{REGION_CITY[company.region]}市市场监督管理局",
                                  date_style=world.date_style(rng))
        if n % 3 == 0:  # corrected: the listing shows its removal
            listing.removed_on = listed + timedelta(days=rng.randint(20, 200))
            listing.removal_reason = ("依照《企业经营异常名录管理暂行办法》第十一条规定，"
                                      "列入经营异常名录3年内且依照规定履行公示义务的")
            listing.removal_authority = listing.authority
        elif n % 3 == 1:  # corrected between the two crawls
            listing.removed_on = world.today + timedelta(days=3)
            listing.removal_reason = "补报了未报年份的年度报告并公示"
            listing.removal_authority = listing.authority
            listing.removed_in_epoch = 1
        listings.append(listing)
    serious = world.family("serious_illegal")
    for company in rng.sample(world.companies, k=2):
        listed = world.today - timedelta(days=rng.randint(100, 900))
        serious.append(SeriousIllegalListing(
            f"{company.uscc}-{listed:%Y%m%d}", Subject(company.name, company.uscc, "company", company.uscc),
            "被列入经营异常名录届满3年仍未履行相关义务", listed, f"{REGION_CITY[company.region]}市市场监督管理局"))


HOST = "app.gsxt.gov.cn"
SEARCH_PAGE_SIZE = 10
SECTION_PAGE_SIZE = 5  # registries.md §2.2: "page size 5, so start = 0, 5, 10, …"
MAX_ENTITIES = 2000  # per world; the exact-path router lists every entity's paths (see the docstring)
MAX_SEARCH_PAGES = 400
PRIPID_PREFIX = "D91EFFF2D70336001A2F"  # shape of a pripid seen in code (registries.md §2.2 source)
# §7.2: samples carry a query time in epoch ms after the id (…8D9B-1558624663369). The replica answers each
# session (a replica started, or a week served) with a new suffix, so a spider that keys on pripid mints new
# keys every crawl; every per-entity path takes the pripid as the search gave it, suffix included.
SECTIONS = ("entBusExcep", "illInfo", "punishmentdetail")
_RESOURCES = "|".join(("primaryinfoapp-entbaseInfo", *SECTIONS))
ENTITY_PATH = re.compile(rf"/gsxt/corp-query-entprise-info-({_RESOURCES})-{PRIPID_PREFIX}(\d{{6}})-(\d{{13}})\.html")
GBK_NODES = {"440000", "510000"}
CITY_NODE = {REGION_CITY[region]: code for region, (_abbr, code, _bureau) in REGIONS.items()}
SOURCE = "gsxt_records"


@dataclass
class Entity:
    pripid: str
    name: str  # as published (traditional, full-width… kept)
    uscc: str | None
    node: str
    ent_type: str
    person_name: str | None = None
    penalties: list[Penalty] = field(default_factory=list)
    abnormal: list[AbnormalListing] = field(default_factory=list)
    serious: list[SeriousIllegalListing] = field(default_factory=list)


# -- the world as this registry holds it ---------------------------------------------------------

_ENTITIES: weakref.WeakKeyDictionary[World, list[Entity]] = weakref.WeakKeyDictionary()
_GRANTED: weakref.WeakKeyDictionary[Replica, bool] = weakref.WeakKeyDictionary()


def browser_session(replica: Replica, granted: bool = True) -> None:
    """Serve `replica`'s gsxt as though requests ride a browser session that passed 加速乐 (no 521)."""
    _GRANTED[replica] = granted


def _node(name: str, uscc: str | None) -> str:
    for city, code in CITY_NODE.items():
        if name.startswith(city):
            return code
    return uscc[2:8] if uscc and uscc[2:8] in CITY_NODE.values() else "110000"


def entities(world: World) -> list[Entity]:
    """Every entity the registry holds, in registry order; pripids are stable across epochs."""
    if world in _ENTITIES:
        return _ENTITIES[world]
    by_name: dict[str, Entity] = {}

    def entity(name: str, uscc: str | None, individual: bool = False, person: str | None = None) -> Entity:
        if name not in by_name:
            if len(by_name) >= MAX_ENTITIES:
                raise ValueError(f"gsxt replica: world has over {MAX_ENTITIES} entities; raise MAX_ENTITIES")
            by_name[name] = Entity(f"{PRIPID_PREFIX}{len(by_name):06d}", name, uscc, _node(name, uscc),
                                   "16" if individual else "1", person)
        return by_name[name]

    for p in world.penalties:
        if p.platform == "gsxt":
            s = p.subject
            entity(s.name, s.uscc, s.kind == "individual_business", s.person_name).penalties.append(p)
    for a in world.abnormal_listings:
        entity(a.subject.name, a.subject.uscc).abnormal.append(a)
    for s in world.serious_illegal:
        entity(s.subject.name, s.subject.uscc).serious.append(s)
    for company in world.companies:
        entity(company.name, company.uscc, person=company.legal_rep)
    _ENTITIES[world] = list(by_name.values())
    return _ENTITIES[world]


def site_malformed(world: World) -> dict[str, str]:
    """Decision number → why a crawl must quarantine it: one impossible date, one amount "待定"."""
    stable = sorted((p for p in world.penalties if p.platform == "gsxt" and p.epoch_added == 0
                     and p.epoch_removed is None and not p.subject.person_id), key=lambda p: p.decision_no)
    fined = next(p for p in stable if p.fine_yuan is not None)
    dated = next(p for p in stable if p is not fined)
    return {fined.decision_no: "fine_wan: amount is not a number", dated.decision_no: "decided_on: impossible date"}


# -- rendering one record, field for field ----------------------------------------------------------

def _amount(penalty: Penalty) -> str:
    if penalty.fine_yuan is None:
        return ""
    if penalty.amount_in_wan:
        wan = (penalty.fine_yuan / Decimal(10_000)).normalize()
        return f"{wan:f}"
    return f"{penalty.fine_yuan}元"


def penalty_row(penalty: Penalty, malformed: str | None) -> dict:
    style = penalty.date_style
    decided = render_date(penalty.decided_on, style)
    if malformed and malformed.startswith("decided_on"):
        decided = f"{penalty.decided_on.year}-02-30"
    return {
        "penDecNo": penalty.decision_no,
        "illegActType": penalty.facts.split("）")[-1],  # the act, without the person's particulars
        "penType_CN": penalty.kinds_text,
        "penContent": f"{penalty.facts}；{penalty.content}",
        "penAm": "待定" if malformed and malformed.startswith("fine") else _amount(penalty),
        "penAuth_CN": penalty.authority,
        "penDecIssDate": decided,
        "publicDate": render_date(penalty.published_on, style),
    }


def abnormal_row(listing: AbnormalListing, epoch: int) -> dict:
    shown = listing.removed_on is not None and (listing.removed_in_epoch is None or epoch >= listing.removed_in_epoch)
    style = listing.date_style
    return {
        "speCause_CN": listing.reason,
        "abntime": render_date(listing.listed_on, style),
        "decOrg_CN": listing.authority,
        "remExcpRes_CN": listing.removal_reason if shown else "",
        "remDate": render_date(listing.removed_on, style) if shown and listing.removed_on else "",
        "reDecOrg_CN": listing.removal_authority if shown else "",
    }


def serious_row(listing: SeriousIllegalListing) -> dict:
    return {"abntime": listing.listed_on.isoformat(), "serILLRea_CN": listing.reason, "decOrg_CN": listing.authority}


def section_rows(world: World, entity: Entity, section: str, epoch: int) -> list[dict]:
    live = world.at(epoch)
    if section == "entBusExcep":
        ids = {id(a) for a in live["abnormal_listings"]}
        items = sorted((a for a in entity.abnormal if id(a) in ids), key=lambda a: a.listed_on, reverse=True)
        return [abnormal_row(a, epoch) for a in items]
    if section == "illInfo":
        ids = {id(s) for s in live["serious_illegal"]}
        return [serious_row(s) for s in sorted((s for s in entity.serious if id(s) in ids),
                                               key=lambda s: s.listed_on, reverse=True)]
    ids = {id(p) for p in live["penalties"]}
    bad = site_malformed(world)
    items = sorted((p for p in entity.penalties if id(p) in ids), key=lambda p: p.decided_on, reverse=True)
    return [penalty_row(p, bad.get(p.decision_no)) for p in items]


# -- handlers ------------------------------------------------------------------------------------------

def _clearance(jsluid: str) -> str:
    """What the 521 script computes in a browser (never in creditwatch)."""
    return "1732345678.123|0|" + hashlib.md5(f"jsl|{jsluid}".encode()).hexdigest()  # noqa: S324 (not security)


def _challenge(request: Request) -> Response | None:
    jsluid = request.cookies.get("__jsluid_s", "")
    if jsluid and request.cookies.get("__jsl_clearance") == _clearance(jsluid):
        return None
    jsluid = jsluid or hashlib.sha1(f"{request.path}|{time.time_ns()}".encode()).hexdigest()[:32]
    value = _clearance(jsluid)
    script = (f"<script>document.cookie=('_'+'_jsl_clearance={value[:12]}'+'{value[12:]}'+';Max-Age=3600;"
              "path=/');location.href=location.pathname+location.search</script>")
    return Response(521, script.encode(), "text/html", {"Set-Cookie": f"__jsluid_s={jsluid}; Path=/; HttpOnly"})


def guarded(handler):  # noqa: ANN001, ANN201 (a route decorator)
    def route(replica: Replica, request: Request) -> Response:
        if not _GRANTED.get(replica, False):
            blocked = _challenge(request)
            if blocked is not None:
                return blocked
        return handler(replica, request)

    return route


_SESSION_MS: weakref.WeakKeyDictionary[Replica, int] = weakref.WeakKeyDictionary()


def published_pripid(replica: Replica, entity: Entity) -> str:
    """The pripid as this session of the registry publishes it: the entity's id and a query time (ms)."""
    started = _SESSION_MS.setdefault(replica, int(time.time() * 1000))
    return f"{entity.pripid}-{started + replica.epoch * 604_800_000}"


def entity_of(replica: Replica, path: str) -> tuple[str | None, Entity | None]:
    """(resource, entity) named by a per-entity path; (None, None) for a path without a session suffix."""
    match = ENTITY_PATH.fullmatch(path.removeprefix(f"/{HOST}"))
    if match is None:
        return None, None
    return match.group(1), _entity(replica, int(match.group(2)))


def _highlight(name: str, word: str) -> str:
    return name.replace(word, f"<font color=red>{word}</font>")


def search(page: int):  # noqa: ANN201 (a handler factory: the page is in the path)
    @guarded
    def handler(replica: Replica, request: Request) -> Response:
        word = request.param("searchword").strip()
        found = [e for e in entities(replica.world) if word and word in e.name]
        # Rows at a page boundary repeat: page p starts with the last row of page p-1.
        stride = SEARCH_PAGE_SIZE - 1
        pages = math.ceil((len(found) - 1) / stride) if len(found) > 1 else len(found)
        rows = found[(page - 1) * stride:(page - 1) * stride + SEARCH_PAGE_SIZE] if page <= pages else []
        data = [{"entName": _highlight(e.name, word), "pripid": published_pripid(replica, e), "nodeNum": e.node,
                 "entType": e.ent_type} for e in rows]
        return Response.json({"data": {"result": {"data": data, "totalPage": pages, "recordsTotal": len(found),
                                                  "currentPage": page}}})

    return handler


def _encoded(payload: dict, entity: Entity | None) -> Response:
    if entity is not None and entity.node in GBK_NODES:
        return Response(200, json.dumps(payload, ensure_ascii=False).encode("gbk"), "text/html;charset=GBK")
    return Response.json(payload)


def _entity(replica: Replica, index: int) -> Entity | None:
    known = entities(replica.world)
    return known[index] if index < len(known) else None


@guarded
def entity_resource(replica: Replica, request: Request) -> Response:
    resource, e = entity_of(replica, request.path)
    if resource == "primaryinfoapp-entbaseInfo":
        return base_info(replica, e)
    return section(replica, request, resource, e)


def base_info(replica: Replica, e: Entity | None) -> Response:
    if e is None:
        return Response.json({"result": None})
    result = {"entName": e.name, "uniscId": e.uscc or "", "entType_CN": "个体工商户" if e.ent_type == "16"
              else "有限责任公司", "name": e.person_name or "", "regOrg_CN": "市场监督管理局",
              "regState_CN": "存续（在营、开业、在册）", "pripId": published_pripid(replica, e), "nodeNum": e.node,
              "entType": e.ent_type}
    return _encoded({"result": result, "regCaption": "1000", "regCapCurCN": "万人民币"}, e)


def section(replica: Replica, request: Request, name: str, e: Entity | None) -> Response:
    rows = section_rows(replica.world, e, name, replica.epoch) if e is not None else []
    start = int(request.param("start", "0") or 0)
    return _encoded({"recordsTotal": len(rows), "totalPage": math.ceil(len(rows) / SECTION_PAGE_SIZE),
                     "data": rows[start:start + SECTION_PAGE_SIZE]}, e)


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    bad = site_malformed(world)
    records: set[str] = set()
    quarantined: dict[str, str] = {}
    for e in entities(world):
        for row in section_rows(world, e, "punishmentdetail", epoch):
            key = row["penDecNo"]
            if key in bad:
                quarantined[key] = bad[key]
            else:
                records.add(key)
        records |= {listing_key(e.uscc or e.name, r["abntime"], r["speCause_CN"])
                    for r in section_rows(world, e, "entBusExcep", epoch)}
        records |= {listing_key(e.uscc or e.name, r["abntime"], r["serILLRea_CN"])
                    for r in section_rows(world, e, "illInfo", epoch)}
    return {SOURCE: {"records": records, "quarantined": quarantined}}


def _routes() -> dict:
    routes: dict = {("POST", f"/gsxt/corp-query-app-search-{page}.html"): search(page)
                    for page in range(1, MAX_SEARCH_PAGES + 1)}
    routes[("GET", ENTITY_PATH)] = entity_resource
    return routes


ROUTES = _routes()
