"""信用中国 (creditchina.gov.cn) on the replica: the `public.creditchina.gov.cn/private-api` JSON API that every
creditchina source reads, and a registry through which each source's replica.py publishes its records.

Contract (registries.md §1.2 endpoints, envelope and paging; §1.5 session refusal and captcha; §7.1 the two-level
flow, which corrects §1.2's reading of the site-wide search):
  GET  /private-api/catalogSearchHome   entity search: keyword, scenes=defaultScenario,
       tableName=credit_xyzx_tyshxydm, searchState=2, entityType=1,2,4,5,6,7,8, templateId=, page, pageSize
       → hits {accurate_entity_name, accurate_entity_code, uuid, recid, accurate_entity_name_query, entityType}
       (§1.2 real capture). `recid` is stable; `uuid` is NOT: the replica mints it per session, so a client that
       keys on it loses its entities between sessions.
  GET  /private-api/typeSourceSearch    one entity's records in one category (§7.1): source=, type=<category>,
       searchState=1, entityType=<from the hit>, scenes=defaultscenario, keyword=<name>, tyshxydm=<code>, page,
       pageSize, pubSort=desc → rows {table_name, entity, columnList, sencesMap, dataSource, data_catalog}
       from the sources registered for that category (`category`), newest first.
  GET  /private-api/typeNameAndCountSearch  the site-wide search by type (§1.2, §7.1): its rows are COMPANIES
       {name, count, tyshxydm, zzjgdm, entity_type} ([idx 48896476225]), or what a source registered for that
       type (`site_list`, e.g. the page's list of a named list).
  GET  /private-api/catalogSearch       one named catalogue table (§1.2): tableName, keyword, page, pageSize;
       rows from the source registered for that table (`table`).
  GET  /private-api/getTyshxydmDetailsContent  an entity's registration detail (§1.2 capture): headEntity
       {recid, tyshxydm, entity_type, jgmc, record_source, status} and data {columnList, sencesMap, dataSource,
       data_catalog, table_name, entity{…, uuid (another one again), recid}}, punishmentStatus, rewardStatus.
  GET  /private-api/info                {"status":1,"message":"成功","data":null} (§1.2).
  GET  /private-api/verify/getVerify?_v=…   captcha image, 4 characters (§1.2, §1.5)
  POST /private-api/verify/checkVerify?_v=… verifyInput=XXXX → {"msg":"验证成功","code":0} and the cookie
       `vcode=1` (what 2026 clients watch for, §7.1). GET with the same parameter is accepted too: one capture
       names the call GET ([idx 52372561155]), another POST ([idx 55938685190]).
  Envelope of every data call: {"status":1,"message":"成功","data":{"page","total","totalSize","list"}}; total =
  rows, totalSize = pages (§1.2). Without a verified session every data call answers HTTP 500
  {"status":40001,"message":"请刷新后重试！","data":null} (§1.5, captured 2026-10-03); a check lasts ~5 minutes.

The replica's guesses where the reference is silent or uncertain (each marked "guess" below):
  - pageSize is capped at 10 (§1.2: larger values were honoured once; today unknown);
  - the entity search matches the published name by substring (NFKC) or the code exactly; an empty keyword
    finds nothing. The capture's `total: 50` might be a cap on hits; the replica does not cap;
  - entityType: "1" for companies and branches, "2" for 个体工商户; typeSourceSearch answers only when the
    asked entityType includes the entity's own, so the type must come from the hit;
  - typeSourceSearch finds an entity by `tyshxydm` when given, else by the exact name in `keyword` (2019
    clients sent no code, [idx 20538613171]); its records are those published under that code, or, asked by
    name alone, under that name;
  - an unknown category, table or list type, or a missing parameter, gets the empty list envelope;
  - a bad page number gets {"status":0,"message":"参数错误","data":null}; a wrong captcha
    {"msg":"验证码错误","code":1};
  - a path the site does not serve gets a Spring-style JSON 404, a served path with the wrong method a 405.
The firewall (瑞数/创宇盾 cookies, the rcwCQitg token) is not reproduced: server.py's `challenge` fault stands in.

Site faults any source's rows get from here: a row a source marks `late` (published while a crawl runs) is
hidden from a session until that session has read page 1 of a listing containing it; from then on it is in
its place, so later pages shift by one and `total` grows by one (paging that shifts as records arrive).

Registry (what a creditchina source's replica.py declares; this module never names a source):
  @category("行政管理")  def rows(world, epoch, entity) -> list[Row]     rows of one entity in a category
  @table("credit_…")    def rows(world, epoch, keyword) -> list[dict]   catalogSearch rows of a table
  @site_list("…")       def rows(world, epoch, keyword) -> list[dict]   typeNameAndCountSearch rows of a type
  @subjects             def subjects(world) -> Iterable[Subject]        subjects with records here (every
                        one is an entity of the entity search; the world's companies always are)
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import unicodedata
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from replica.captcha import new_code, png_noise
from replica.server import Replica, Request, Response
from replica.world import Subject, World

HOST = "public.creditchina.gov.cn"
API = "/private-api"
PAGE_SIZE_CAP = 10  # guess (§1.2: "assume 10")
CAPTCHA_LENGTH = 4
VERIFIED_TTL_SECONDS = 300  # "a successful check is valid for about 5 minutes" (§1.5)
REFUSED = {"status": 40001, "message": "请刷新后重试！", "data": None}  # §1.5 capture
BAD_PARAMS = {"status": 0, "message": "参数错误", "data": None}  # guess
ENTITY_TYPES = {"company": "1", "branch": "1", "unrelated": "1", "individual_business": "2"}  # guess


# -- what a source publishes here ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Entity:
    """A subject as the entity search (catalogSearchHome, table credit_xyzx_tyshxydm) holds it."""

    name: str  # accurate_entity_name, as published (traditional or full-width characters kept)
    code: str  # accurate_entity_code: the USCC as published, "" when none
    entity_type: str  # entityType (guess: "1" organisations, "2" 个体工商户)
    recid: str  # stable across search and detail (§1.2)
    legal_rep: str = ""  # shown by the detail (法定代表人/负责人)


@dataclass(frozen=True)
class Row:
    """One `data.list` row a source gives for a listing: its JSON, its publication date (listings are
    pubSort=desc) and, when it is published while a crawl runs, a key naming it (see the module docstring)."""

    payload: dict[str, Any]
    published: date
    late_key: str | None = None


CategoryRows = Callable[[World, int, Entity], list[Row]]
KeywordRows = Callable[[World, int, str], list[dict[str, Any]]]
SubjectsOf = Callable[[World], Iterable[Subject]]

CATEGORIES: dict[str, dict[str, CategoryRows]] = {}  # type → {provider id → rows}
TABLES: dict[str, KeywordRows] = {}  # catalogSearch tableName → rows
SITE_LISTS: dict[str, KeywordRows] = {}  # typeNameAndCountSearch type → rows
SUBJECTS: dict[str, SubjectsOf] = {}  # provider id → subjects with records on 信用中国


def _id(function: Callable[..., Any]) -> str:
    # Keyed by name, so importing a source's module twice registers nothing twice.
    return f"{function.__module__}.{function.__qualname__}"


def category(type_name: str) -> Callable[[CategoryRows], CategoryRows]:
    """Register rows for typeSourceSearch `type=<type_name>`; several sources may share a category."""

    def register(provider: CategoryRows) -> CategoryRows:
        CATEGORIES.setdefault(type_name, {})[_id(provider)] = provider
        return provider

    return register


def table(table_name: str) -> Callable[[KeywordRows], KeywordRows]:
    """Register the rows catalogSearch answers for `tableName=<table_name>` (one source per table)."""

    def register(provider: KeywordRows) -> KeywordRows:
        _claim(TABLES, table_name, provider, "catalogSearch table")
        return provider

    return register


def site_list(type_name: str) -> Callable[[KeywordRows], KeywordRows]:
    """Register the rows typeNameAndCountSearch answers for `type=<type_name>` (one source per type)."""

    def register(provider: KeywordRows) -> KeywordRows:
        _claim(SITE_LISTS, type_name, provider, "typeNameAndCountSearch type")
        return provider

    return register


def subjects(provider: SubjectsOf) -> SubjectsOf:
    """Register the subjects a source has records about: each becomes an entity of the entity search."""
    SUBJECTS[_id(provider)] = provider
    return provider


def _claim(registry: dict[str, KeywordRows], key: str, provider: KeywordRows, what: str) -> None:
    known = registry.get(key)
    if known is not None and _id(known) != _id(provider):
        raise ValueError(f"{what} {key!r} is registered by {_id(known)} and {_id(provider)}")
    registry[key] = provider


# -- the entities --------------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Names compared as the site's search would: NFKC (full-width → half-width), outer spaces dropped."""
    return unicodedata.normalize("NFKC", text or "").strip()


def recid_of(name: str, code: str) -> str:
    return hashlib.md5(f"{name}|{code}".encode()).hexdigest().upper()  # noqa: S324 (an id, not security)


_ENTITIES: weakref.WeakKeyDictionary[World, list[Entity]] = weakref.WeakKeyDictionary()


def entities(world: World) -> list[Entity]:
    """Every entity the search holds, in the site's order: the world's companies, then every subject any
    source has records about (all epochs: an entity outlives its records), one per (published name, code)."""
    if world in _ENTITIES:
        return _ENTITIES[world]
    found: dict[tuple[str, str], Entity] = {}

    def add(name: str, code: str | None, kind: str, legal_rep: str | None) -> None:
        key = (name, code or "")
        if key not in found:
            found[key] = Entity(name, code or "", ENTITY_TYPES.get(kind, "1"), recid_of(*key), legal_rep or "")

    for company in world.companies:
        add(company.name, company.uscc, "company", company.legal_rep)
    for provider in SUBJECTS.values():
        for subject in provider(world):
            add(subject.name, subject.uscc, subject.kind, subject.person_name)
    _ENTITIES[world] = list(found.values())
    return _ENTITIES[world]


def publishes_under(entity: Entity, name: str, code: str | None) -> bool:
    """Whether a record published under (name, code) is one of `entity`'s: by code when the entity is asked
    for by code, else by name (guess, see the module docstring)."""
    if entity.code:
        return (code or "") == entity.code
    return fold(name) == fold(entity.name)


def search(world: World, keyword: str, types: set[str] | None = None) -> list[Entity]:
    """The entity search's hits for `keyword` (guess: substring of the name, or the code exactly)."""
    keyword = fold(keyword)
    if not keyword:
        return []
    return [e for e in entities(world) if (keyword in fold(e.name) or keyword == e.code)
            and (types is None or e.entity_type in types)]


def find(world: World, keyword: str, code: str) -> Entity | None:
    """The entity typeSourceSearch / the detail means: by code when given, else by exact name."""
    for entity in entities(world):
        if (code and entity.code == code) or (not code and keyword and fold(entity.name) == fold(keyword)):
            return entity
    return None


def asked(world: World, keyword: str, code: str) -> Entity | None:
    """The entity as typeSourceSearch was asked for it: asked by name alone, its records are every record
    published under that name, whatever code they carry (guess)."""
    entity = find(world, keyword, code)
    return entity if entity is None or code else replace(entity, code="")


def category_rows(world: World, epoch: int, entity: Entity, type_name: str) -> list[Row]:
    """Every row of an entity's category at `epoch`, late ones included, newest first (pubSort=desc)."""
    rows = [row for provider in CATEGORIES.get(type_name, {}).values() for row in provider(world, epoch, entity)]
    return sorted(rows, key=lambda row: -row.published.toordinal())  # stable: a source's own order on ties


def company_rows(world: World, epoch: int, keyword: str, count: Callable[[Entity], int]) -> list[dict[str, Any]]:
    """typeNameAndCountSearch rows for a type whose answer is the companies that have records of it
    (§7.1, [idx 48896476225]): {name, count, tyshxydm, zzjgdm, entity_type}; an empty keyword lists all."""
    keyword = fold(keyword)
    rows = []
    for entity in entities(world):
        if keyword and keyword not in fold(entity.name) and keyword != entity.code:
            continue
        n = count(entity)
        if n:
            rows.append({"name": entity.name, "count": n, "tyshxydm": entity.code,
                         "zzjgdm": entity.code[8:17] if len(entity.code) == 18 else "",
                         "entity_type": entity.entity_type})
    return rows


# -- session state --------------------------------------------------------------------------------------------
@dataclass
class SiteState:
    """What the site remembers between requests: verified sessions, and which late rows a session has seen."""

    verified: dict[str, float] = field(default_factory=dict)  # session id → when its captcha passed
    revealed: set[tuple[str, int, str]] = field(default_factory=set)  # (session id, epoch, late key)


_STATE: weakref.WeakKeyDictionary[Replica, SiteState] = weakref.WeakKeyDictionary()


def state(replica: Replica) -> SiteState:
    with replica.lock:
        return _STATE.setdefault(replica, SiteState())


def _with(payload: Response, carrier: Response) -> Response:
    payload.headers.update(carrier.headers)
    return payload


def _verified(replica: Replica, sid: str) -> bool:
    passed = state(replica).verified.get(sid)
    return passed is not None and time.time() - passed < VERIFIED_TTL_SECONDS


def envelope(page: int, size: int, rows: list[Any]) -> Response:
    """One page of `rows` in the site's envelope (§1.2): total = rows, totalSize = pages."""
    chunk = rows[(page - 1) * size: page * size]
    data = {"page": page, "total": len(rows), "totalSize": math.ceil(len(rows) / size), "list": chunk}
    return Response.json({"status": 1, "message": "成功", "data": data})


def _paging(request: Request) -> tuple[int, int] | None:
    try:
        page = max(1, int(request.param("page", "1") or 1))
        size = min(max(1, int(request.param("pageSize", "10") or 10)), PAGE_SIZE_CAP)
    except ValueError:
        return None
    return page, size


Answer = Callable[[Replica, Request, str, int, int], Response]


def guarded(answer: Answer) -> Callable[[Replica, Request], Response]:
    """A data route: refused (HTTP 500, 40001) without a verified session; paging parameters read once."""

    def route(replica: Replica, request: Request) -> Response:
        carrier = Response()
        sid = replica.session(request, carrier).sid
        if not _verified(replica, sid):
            return _with(Response.json(REFUSED, status=500), carrier)
        paging = _paging(request)
        if paging is None:
            return _with(Response.json(BAD_PARAMS), carrier)
        return _with(answer(replica, request, sid, *paging), carrier)

    route.__name__ = answer.__name__
    return route


# -- the routes ----------------------------------------------------------------------------------------------
def _types(request: Request) -> set[str] | None:
    asked = request.param("entityType").strip()
    return {t.strip() for t in asked.split(",") if t.strip()} if asked else None


@guarded
def catalog_search_home(replica: Replica, request: Request, sid: str, page: int, size: int) -> Response:
    """§1.2 entity search; a per-session uuid beside the stable recid (§1.2: "uuid is not stable")."""
    if request.param("tableName", "credit_xyzx_tyshxydm") != "credit_xyzx_tyshxydm":
        return envelope(page, size, [])  # guess: another table through this route finds nothing
    hits = [{"accurate_entity_name": e.name, "accurate_entity_code": e.code,
             "uuid": hashlib.md5(f"{sid}|{e.recid}".encode()).hexdigest(),  # noqa: S324 (an id)
             "recid": e.recid, "accurate_entity_name_query": e.name, "entityType": e.entity_type}
            for e in search(replica.world, request.param("keyword"), _types(request))]
    return envelope(page, size, hits)


@guarded
def type_source_search(replica: Replica, request: Request, sid: str, page: int, size: int) -> Response:
    """§7.1 second level: one entity's rows of one category, with late rows hidden until page 1 was read."""
    entity = asked(replica.world, request.param("keyword"), request.param("tyshxydm").strip())
    types = _types(request)
    if entity is None or (types is not None and entity.entity_type not in types):
        return envelope(page, size, [])
    epoch = replica.epoch
    rows = category_rows(replica.world, epoch, entity, request.param("type"))
    late = {row.late_key for row in rows if row.late_key}
    site = state(replica)
    with replica.lock:
        hidden = {key for key in late if (sid, epoch, key) not in site.revealed}
        if page == 1:  # this answer is the last one without them
            site.revealed |= {(sid, epoch, key) for key in hidden}
    return envelope(page, size, [row.payload for row in rows if row.late_key not in hidden])


@guarded
def type_name_and_count_search(replica: Replica, request: Request, sid: str, page: int, size: int) -> Response:
    """§1.2 / §7.1 site-wide search by type: what a source registered for the type, else nothing (guess)."""
    provider = SITE_LISTS.get(request.param("type"))
    rows = provider(replica.world, replica.epoch, request.param("keyword")) if provider else []
    return envelope(page, size, rows)


@guarded
def catalog_search(replica: Replica, request: Request, sid: str, page: int, size: int) -> Response:
    """§1.2 one named catalogue table: what a source registered for the table, else nothing (guess)."""
    provider = TABLES.get(request.param("tableName"))
    rows = provider(replica.world, replica.epoch, request.param("keyword")) if provider else []
    return envelope(page, size, rows)


DETAIL_LABELS = {"name": "法定代表人/负责人/执行事务合伙人", "enttype": "企业类型", "esdate": "成立日期",
                 "dom": "住所", "regorg": "登记机关"}


def detail(replica: Replica, request: Request) -> Response:
    """§1.2 entity detail (getTyshxydmDetailsContent), shaped as the 2026 capture; yet another uuid."""
    carrier = Response()
    sid = replica.session(request, carrier).sid
    if not _verified(replica, sid):
        return _with(Response.json(REFUSED, status=500), carrier)
    entity = find(replica.world, request.param("keyword"), request.param("tyshxydm").strip())
    if entity is None:
        return _with(Response.json({"status": 1, "message": "成功", "data": None}), carrier)  # guess
    inner = {"name": entity.legal_rep, "enttype": "个体工商户" if entity.entity_type == "2" else "有限责任公司",
             "esdate": "", "dom": "", "regorg": "市场监督管理局",
             "uuid": hashlib.md5(f"detail|{sid}|{entity.recid}".encode()).hexdigest(),  # noqa: S324
             "recid": entity.recid}
    data = {"punishmentStatus": "no", "rewardStatus": "no", "hgData": {"entity": {}},
            "data": {"columnList": list(DETAIL_LABELS), "sencesMap": DETAIL_LABELS, "dataSource": "市场监督管理总局",
                     "data_catalog": "工商存续（企业）", "table_name": "credit_scjdglzj_fr_gscxqy", "entity": inner},
            "headEntity": {"recid": entity.recid, "tyshxydm": entity.code, "entity_type": entity.entity_type,
                           "jgmc": entity.name, "record_source": "企业法人", "status": "存续"}}
    return _with(Response.json({"status": 1, "message": "成功", "data": data}), carrier)


def info(replica: Replica, request: Request) -> Response:
    """§1.2 `/info`: an auxiliary call that always answers this."""
    return Response.json({"status": 1, "message": "成功", "data": None})


def get_verify(replica: Replica, request: Request) -> Response:
    """§1.2 captcha image: a new 4-character code for the session (what /__replica__/captcha answers)."""
    carrier = Response()
    session = replica.session(request, carrier)
    rng = random.Random(f"{replica.world.seed}-{session.sid}-{time.time_ns()}")
    with replica.lock:
        session.captcha, session.captcha_issued = new_code(rng, CAPTCHA_LENGTH), time.time()
    return _with(Response(200, png_noise(seed=rng.randint(0, 1 << 30)), "image/png"), carrier)


def check_verify(replica: Replica, request: Request) -> Response:
    """§1.2 check: code 0 verifies the session for ~5 minutes (§1.5) and sets `vcode=1` (§7.1)."""
    carrier = Response()
    session = replica.session(request, carrier)
    given = request.param("verifyInput").strip().upper()
    fresh = time.time() - session.captcha_issued < VERIFIED_TTL_SECONDS
    if session.captcha and given == session.captcha and fresh:
        site = state(replica)
        with replica.lock:
            site.verified[session.sid] = time.time()
            session.captcha = None  # a code is good for one check
        # The session already existed (its captcha matched), so this is the only cookie to set.
        return Response(200, Response.json({"msg": "验证成功", "code": 0}).body,
                        headers={"Set-Cookie": "vcode=1; Path=/"})
    return _with(Response.json({"msg": "验证码错误", "code": 1}), carrier)


ROUTES = {
    ("GET", f"{API}/catalogSearchHome"): catalog_search_home,
    ("GET", f"{API}/typeSourceSearch"): type_source_search,
    ("GET", f"{API}/typeNameAndCountSearch"): type_name_and_count_search,
    ("GET", f"{API}/catalogSearch"): catalog_search,
    ("GET", f"{API}/getTyshxydmDetailsContent"): detail,
    ("GET", f"{API}/info"): info,
    ("GET", f"{API}/verify/getVerify"): get_verify,
    ("POST", f"{API}/verify/checkVerify"): check_verify,
    ("GET", f"{API}/verify/checkVerify"): check_verify,
}


def not_found(replica: Replica, request: Request) -> Response:
    """A path the site does not serve (guess: Spring Boot's JSON error), or a served path with another method."""
    prefix = f"/{HOST}"
    path = request.path[len(prefix):] if request.path.startswith(prefix) else request.path
    allowed = sorted(method for method, route in ROUTES if route == path)
    status, error = (405, "Method Not Allowed") if allowed else (404, "Not Found")
    body = {"timestamp": "2026-11-23T00:00:00.000+0000", "status": status, "error": error,
            "message": "No message available", "path": path}
    response = Response.json(body, status=status)
    if allowed:
        response.headers["Allow"] = ", ".join(allowed)
    return response
