"""信用中国 (creditchina.gov.cn) JSON API, `public.creditchina.gov.cn/private-api`: 行政处罚 (penalties).

Contract (registries.md §1.2 endpoints/envelope/paging, §1.4 the 双公示 penalty schema, §1.5 anti-bot):
  GET  /private-api/typeNameAndCountSearch  keyword, type=行政处罚, searchState, entityType, page, pageSize
       → {"status":1,"message":"成功","data":{"page","total","totalSize","list":[row…]}}; total = rows,
       totalSize = pages (§1.2 "Response envelope"). Each row is self-describing (§1.2 "Category records"):
       {table_name, entity:{cf_wsh, cf_cfmc, cf_xdr_mc, cf_xdr_shxym, cf_fr, cf_cflb1, cf_jg, cf_sy, cf_yj,
       cf_cfjg, cf_jdrq, cf_qx, cf_sjc, …}, columnList, sencesMap:{column: 中文label}, dataSource}.
  GET  /private-api/verify/getVerify?_v=…   the captcha image (binary; 4 characters)
  POST /private-api/verify/checkVerify?_v=… verifyInput=XXXX → {"msg":"验证成功","code":0}
  Without a verified session every API call answers HTTP 500 {"status":40001,"message":"请刷新后重试！",
  "data":null} (§1.5, captured 2026-10-03); a check stays valid about 5 minutes (§1.5).

The replica's guesses where the reference is silent or uncertain:
  - labels: cf_wsh 行政处罚决定书文号, cf_cflb1 处罚类别, cf_jg 处罚内容, cf_sy 违法事实, cf_qx 处罚期限,
    cf_sjc 数据更新时间 (crawler.py's own labels, not a capture); cf_sjc carries the publication date;
  - the fine is `cf_nr_fk` with its unit in the label: 罚款金额(万元) (the 2021 template, §1.4) or
    罚款金额(元) (older feeds), so the unit travels with the row;
  - `keyword` matches the published name by substring, or a USCC / decision number exactly; an empty
    keyword lists everything (seen with 行政许可, §1.2); rows sort newest first (pubSort=desc);
  - pageSize is capped at 10 (§1.2: larger values were honoured once; today unknown);
  - the failed check answer {"msg":"验证码错误","code":1}.
The WAF (瑞数/创宇盾 cookies, rcwCQitg token) is not reproduced: server.py's `challenge` fault stands in.

Site faults (deterministic, on by default, recoverable by a correct crawler):
  - duplicates across pages: some penalties are indexed twice, in `credit_xyzx_fr_xzcf_new` and in the
    year table `credit_xyzx_fr_xzcf_<year>`; both copies count in `total`;
  - paging that shifts: the newest penalty of the epoch is published *during* the crawl. A session does
    not see it until it has read page 1 of a listing that contains it; from then on it tops the list, so
    every later page starts one row further back and `total` grows by one.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
import unicodedata
import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from replica.captcha import new_code, png_noise
from replica.server import Replica, Request, Response
from replica.world import REGIONS, Penalty, Subject, World, render_date

HOST = "public.creditchina.gov.cn"
API = "/private-api"
PAGE_SIZE_CAP = 10
CAPTCHA_LENGTH = 4
VERIFIED_TTL_SECONDS = 300  # "a successful check is valid for about 5 minutes" (§1.5)
PENALTY_TYPE = "行政处罚"
TABLE_NEW = "credit_xyzx_fr_xzcf_new"
REFUSED = {"status": 40001, "message": "请刷新后重试！", "data": None}
LABELS = {
    "cf_wsh": "行政处罚决定书文号", "cf_cfmc": "处罚名称", "cf_xdr_mc": "行政相对人名称",
    "cf_xdr_shxym": "统一社会信用代码", "cf_fr": "法定代表人", "cf_cflb1": "处罚类别", "cf_jg": "处罚内容",
    "cf_sy": "违法事实", "cf_yj": "处罚依据", "cf_cfjg": "处罚机关", "cf_cfjgdm": "处罚机关统一社会信用代码",
    "cf_jdrq": "处罚决定日期", "cf_qx": "处罚期限", "cf_sjc": "数据更新时间",
}


@dataclass
class SiteState:
    """What the site remembers between requests: verified sessions, and who has seen the late record."""

    verified: dict[str, float] = field(default_factory=dict)  # session id → when its captcha passed
    saw_late: set[tuple[str, int]] = field(default_factory=set)  # (session id, epoch)


_STATE: weakref.WeakKeyDictionary[Replica, SiteState] = weakref.WeakKeyDictionary()


def _state(replica: Replica) -> SiteState:
    with replica.lock:
        return _STATE.setdefault(replica, SiteState())


# -- its share of the world ---------------------------------------------------------------------------
def populate(world: World, rng: random.Random) -> None:
    """信用中国 penalties: telecom regulators' (通信管理局) decisions against the world's subjects; two are
    published malformed (a crawl must quarantine them); between the crawls two are repaired (gone), one new."""
    penalties = world.family("penalties")

    def make(subject: Subject, n: int) -> Penalty:
        decided = world.today - timedelta(days=rng.randint(5, 365 * 3))
        region = rng.choice(list(REGIONS))
        number = f"{REGIONS[region][0]}通管罚〔{decided.year}〕{n + 1}号"
        return world.penalty(rng, subject, "creditchina", REGIONS[region][2], region, "telecom", number, decided)

    mine: list[Penalty] = []
    for subject in world.subjects:
        for _ in range(rng.choice([0, 1, 1])):
            mine.append(make(subject, len(mine)))
    mine[3].malformed = "decided_on: impossible date"
    mine[5].malformed = "fine_yuan: amount is not a number"
    mine[0].epoch_removed = 1
    mine[1].epoch_removed = 1
    late = make(world.subjects[2], len(mine))
    late.epoch_added = 1
    mine.append(late)
    penalties.extend(mine)


# -- rendering ------------------------------------------------------------------------------------
def impossible_date(day: date, style: str) -> str:
    """30 February of the record's year, in its style (epoch milliseconds cannot be impossible: iso)."""
    return {"cn": f"{day.year}年2月30日", "slash": f"{day.year}/2/30", "compact": f"{day.year}0230"}.get(
        style, f"{day.year}-02-30")


def _plain(amount: Decimal) -> str:
    return f"{amount.normalize():f}"


def fine_cell(penalty: Penalty) -> tuple[str, str]:
    """(value, label) of the fine column: 万元 or 元 as the record publishes it; 待定 when malformed."""
    label = "罚款金额(万元)" if penalty.amount_in_wan else "罚款金额(元)"
    if penalty.malformed and penalty.malformed.startswith("fine_yuan"):
        return "待定", label
    if penalty.fine_yuan is None:
        return "", label
    return (_plain(penalty.fine_yuan / 10000) if penalty.amount_in_wan else _plain(penalty.fine_yuan)), label


def penalty_row(penalty: Penalty, table_name: str = TABLE_NEW) -> dict:
    """One `data.list` row for a penalty, field for field as typeNameAndCountSearch returns it."""
    subject = penalty.subject
    decided: str | int = render_date(penalty.decided_on, penalty.date_style)
    if penalty.malformed and penalty.malformed.startswith("decided_on"):
        decided = impossible_date(penalty.decided_on, penalty.date_style)
    fine, fine_label = fine_cell(penalty)
    entity = {
        "cf_wsh": penalty.decision_no,
        "cf_cfmc": "行政处罚决定书",
        "cf_xdr_mc": subject.name,
        "cf_xdr_shxym": subject.uscc or "",
        "cf_fr": subject.person_name or "",
        "cf_cflb1": penalty.kinds_text,
        "cf_jg": penalty.content,
        "cf_sy": penalty.facts,
        "cf_yj": penalty.basis,
        "cf_nr_fk": fine,
        "cf_cfjg": penalty.authority,
        "cf_cfjgdm": penalty.authority_code,
        "cf_jdrq": decided,
        "cf_qx": "",
        "cf_sjc": render_date(penalty.published_on, penalty.date_style),
        "recid": hashlib.md5(penalty.decision_no.encode()).hexdigest().upper(),  # noqa: S324 (an id, not security)
    }
    labels = LABELS | {"cf_nr_fk": fine_label}
    return {"table_name": table_name, "entity": entity, "columnList": [c for c in entity if c in labels],
            "sencesMap": labels, "dataSource": penalty.authority}


def is_twin(penalty: Penalty) -> bool:
    """Penalties the site indexes twice (new table and year table): about one in four, by decision number."""
    return int(hashlib.sha256(penalty.decision_no.encode()).hexdigest()[:4], 16) % 4 == 0


def listing(world: World, epoch: int) -> list[tuple[Penalty, str]]:
    """Every (penalty, table) row the site lists at `epoch`, newest first (pubSort=desc)."""
    penalties = [p for p in world.at(epoch)["penalties"] if p.platform == "creditchina"]
    penalties.sort(key=lambda p: (-p.published_on.toordinal(), p.decision_no))
    rows: list[tuple[Penalty, str]] = []
    for penalty in penalties:
        rows.append((penalty, TABLE_NEW))
        if is_twin(penalty):
            rows.append((penalty, f"credit_xyzx_fr_xzcf_{penalty.decided_on.year}"))
    return rows


def late_penalty(world: World, epoch: int) -> Penalty | None:
    """The penalty published while a crawl runs: the newest one of the epoch."""
    rows = listing(world, epoch)
    return rows[0][0] if rows else None


def matches(penalty: Penalty, keyword: str) -> bool:
    keyword = unicodedata.normalize("NFKC", keyword).strip()
    if not keyword:
        return True
    name = unicodedata.normalize("NFKC", penalty.subject.name)
    return keyword in name or keyword in (penalty.subject.uscc, penalty.decision_no)


# -- handlers -------------------------------------------------------------------------------------
def _with(payload: Response, carrier: Response) -> Response:
    payload.headers.update(carrier.headers)
    return payload


def _verified(replica: Replica, sid: str) -> bool:
    passed = _state(replica).verified.get(sid)
    return passed is not None and time.time() - passed < VERIFIED_TTL_SECONDS


def type_search(replica: Replica, request: Request) -> Response:
    carrier = Response()
    sid = replica.session(request, carrier).sid
    if not _verified(replica, sid):
        return _with(Response.json(REFUSED, status=500), carrier)
    try:
        page = max(1, int(request.param("page", "1")))
        size = min(max(1, int(request.param("pageSize", "10"))), PAGE_SIZE_CAP)
    except ValueError:
        return _with(Response.json({"status": 0, "message": "参数错误", "data": None}), carrier)
    if request.param("type") != PENALTY_TYPE:
        rows: list[tuple[Penalty, str]] = []
    else:
        rows = _visible_rows(replica, sid, request.param("keyword"), page)
    chunk = rows[(page - 1) * size : page * size]
    data = {"page": page, "total": len(rows), "totalSize": math.ceil(len(rows) / size),
            "list": [penalty_row(p, table) for p, table in chunk]}
    return _with(Response.json({"status": 1, "message": "成功", "data": data}), carrier)


def _visible_rows(replica: Replica, sid: str, keyword: str, page: int) -> list[tuple[Penalty, str]]:
    """The rows this session sees: the late penalty appears once the session has read a page 1 showing
    the list without it (so the pages it reads next have shifted)."""
    epoch, state = replica.epoch, _state(replica)
    rows = [(p, t) for p, t in listing(replica.world, epoch) if matches(p, keyword)]
    late = late_penalty(replica.world, epoch)
    if late is None or all(p is not late for p, _ in rows):
        return rows
    with replica.lock:
        seen = (sid, epoch) in state.saw_late
        if not seen and page == 1:
            state.saw_late.add((sid, epoch))
    return rows if seen else [(p, t) for p, t in rows if p is not late]


def get_verify(replica: Replica, request: Request) -> Response:
    carrier = Response()
    session = replica.session(request, carrier)
    rng = random.Random(f"{replica.world.seed}-{session.sid}-{time.time_ns()}")
    with replica.lock:  # the session's captcha is what /__replica__/captcha answers
        session.captcha, session.captcha_issued = new_code(rng, CAPTCHA_LENGTH), time.time()
    return _with(Response(200, png_noise(seed=rng.randint(0, 1 << 30)), "image/png"), carrier)


def check_verify(replica: Replica, request: Request) -> Response:
    carrier = Response()
    session = replica.session(request, carrier)
    given = request.param("verifyInput").strip().upper()
    fresh = time.time() - session.captcha_issued < VERIFIED_TTL_SECONDS
    if session.captcha and given == session.captcha and fresh:
        state = _state(replica)
        with replica.lock:
            state.verified[session.sid] = time.time()
        return _with(Response.json({"msg": "验证成功", "code": 0}), carrier)
    return _with(Response.json({"msg": "验证码错误", "code": 1}), carrier)


def ground_truth(world: World, epoch: int = 0) -> dict[str, dict]:
    """creditchina_penalties: every creditchina-platform penalty of the epoch, keyed by 决定书文号."""
    penalties = [p for p in world.at(epoch)["penalties"] if p.platform == "creditchina"]
    return {"creditchina_penalties": {
        "records": {p.decision_no for p in penalties if not p.malformed},
        "quarantined": {p.decision_no: p.malformed for p in penalties if p.malformed},
    }}


ROUTES = {
    ("GET", f"{API}/typeNameAndCountSearch"): type_search,
    ("GET", f"{API}/verify/getVerify"): get_verify,
    ("POST", f"{API}/verify/checkVerify"): check_verify,
}
