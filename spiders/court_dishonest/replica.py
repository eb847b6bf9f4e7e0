"""中国执行信息公开网 (zxgk.court.gov.cn): 失信被执行人 (dishonest judgment debtors).

Contract (registries.md §4.1–4.2, from a 2023 capture and a Scrapy spider):
  GET  /shixin/captchaNew.do?captchaId=<32 alnum>&random=<float>  → a 4-character image captcha, bound to
       the captchaId (not to a cookie)
  GET  /shixin/checkyzm.do?captchaId=&pCode=                      → a body containing 1 when correct
  POST /shixin/searchSX.do  pName, pCardNum, pProvince, pCode, captchaId, currentPage, pageSize
       → a JSON ARRAY: [{"result": [{id, caseCode, …}], "totalSize": n, "totalPage": p}]
  GET  /shixin/disDetailNew?id=&caseCode=&pCode=&captchaId=       → JSON: iname, caseCode, cardNum
       (persons' ID numbers masked by the court, 3728271963****8934), courtName, areaName, gistId,
       gistUnit, duty, performance, performedPart, unperformPart, disruptTypeName, publishDate
       (YYYY年MM月DD日), regDate (YYYYMMDD), businessEntity, age, sexy (persons).
The replica's guesses: the answer to a wrong or expired captcha on searchSX/disDetailNew (a JSON object
with a 验证码 message; the real answer was not captured); pName matching by substring; pProvince and
pCardNum filters (only "0" / empty are honoured); the order of results; the `id` values; `duty` for a
个体工商户 quoting the operator's full ID number (judgments quoted in 义务 do name parties; it exercises
our masking). The 瑞数-style layer (cookie lqWVdQzgOVyaT + a URL token) is off by default; with
`replica.zxgk_firewall = True` every request without that cookie gets HTTP 412 and a $_ts page.
Site faults: every list page after the first repeats the last row of the page before (zxgk "dumps
duplicated data" when throttled; registries.md §4.2), so the last row spills past totalPage.
Data the world does not mark malformed, derived here: the second court record in the world is published
with an impossible publishDate (2月30日).
"""

from __future__ import annotations

import hashlib
import random
import re
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from replica.captcha import new_code, png_noise
from replica.server import Replica, Request, Response, Session
from replica.world import Subject


# -- its share of the world ---------------------------------------------------------------------------
@dataclass
class CourtDishonest:
    """失信被执行人 (中国执行信息公开网 zxgk)."""

    case_code: str  # 案号: the natural key
    subject: Subject
    court: str
    area: str
    gist_id: str
    gist_unit: str
    duty: str
    performance: str
    disrupt_type: str
    registered_on: date
    published_on: date
    epoch_added: int = 0
    epoch_removed: int | None = None


def populate(world: Any, rng: random.Random) -> None:
    """失信被执行人 cases against about one in seven companies and individual businesses; the first is
    deleted between the two crawls."""
    cases = world.family("court_dishonest")
    person = next(s for s in world.subjects if s.kind == "individual_business")  # at least one person listed
    for n, subject in enumerate(s for s in world.subjects if s.kind in ("company", "individual_business")
                                and (s is person or rng.random() < 0.15)):
        court = f"{subject.name[:2]}市中级人民法院"
        registered = world.today - timedelta(days=rng.randint(60, 700))
        cases.append(CourtDishonest(
            f"({registered.year})京0105执{1000 + n}号", subject, court, subject.name[:2],
            f"({registered.year - 1})京0105民初{3000 + n}号", court, "支付货款及利息", "全部未履行",
            "有履行能力而拒不履行生效法律文书确定义务", registered, registered + timedelta(days=30),
            epoch_removed=1 if n == 0 else None))


HOST = "zxgk.court.gov.cn"
SHANGHAI = ZoneInfo("Asia/Shanghai")
CAPTCHA_LENGTH = 4
CAPTCHA_TTL_SECONDS = 300
PAGE_OVERLAP = 1  # rows repeated from the previous page (replica attribute `zxgk_page_overlap` overrides)
FIREWALL_COOKIE = "lqWVdQzgOVyaT"
CAPTCHA_ID = re.compile(r"[0-9A-Za-z]{32}")
REFUSED = {"messageCode": "pCodeError", "message": "验证码错误或已过期，请重新输入！"}
IMPOSSIBLE_DATE_REASON = "published_on: impossible date"


# -- which records ------------------------------------------------------------------------------------
def impossible_date_case(world: Any) -> str | None:
    """The record the replica publishes with 2月30日: the world's second court record."""
    return world.court_dishonest[1].case_code if len(world.court_dishonest) > 1 else None


def records_at(world: Any, epoch: int) -> list[Any]:
    """Live records, newest publication first (the replica's guess at the site's order)."""
    return sorted(world.at(epoch)["court_dishonest"], key=lambda c: (c.published_on, c.case_code), reverse=True)


def record_id(case_code: str) -> int:
    """A stable 9-digit id per case, shaped like the site's (`detail?id=710352730`)."""
    return 100_000_000 + int(hashlib.sha1(case_code.encode()).hexdigest()[:8], 16) % 900_000_000


def ground_truth(world, epoch: int = 0) -> dict[str, dict]:  # noqa: ANN001 (World; avoids an import cycle)
    bad = impossible_date_case(world)
    live = {c.case_code for c in records_at(world, epoch)}
    quarantined = {bad: IMPOSSIBLE_DATE_REASON} if bad in live else {}
    return {"court_dishonest": {"records": live - set(quarantined), "quarantined": quarantined}}


# -- rendering ----------------------------------------------------------------------------------------
def court_masked(person_id: str) -> str:
    """How the court prints an ID number: birth day and sequence hidden, 3728271963****8934."""
    return person_id[:10] + "****" + person_id[14:]


def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month:02d}月{day.day:02d}日"


def detail(world: Any, record: Any) -> dict[str, Any]:
    subject = record.subject
    published = "2026年02月30日" if record.case_code == impossible_date_case(world) else _cn_date(record.published_on)
    payload: dict[str, Any] = {
        "id": record_id(record.case_code), "iname": subject.name, "caseCode": record.case_code,
        "cardNum": subject.uscc or "", "courtName": record.court, "areaName": record.area,
        "partyTypeName": "", "gistId": record.gist_id, "gistUnit": record.gist_unit, "duty": record.duty,
        "performance": record.performance, "performedPart": "暂无", "unperformPart": "暂无",
        "disruptTypeName": record.disrupt_type, "publishDate": published,
        "publishDateStamp": str(int(datetime.combine(record.published_on, datetime.min.time(), SHANGHAI).timestamp())),
        "regDate": f"{record.registered_on:%Y%m%d}", "businessEntity": subject.person_name or "",
    }
    if subject.person_id:  # a person's business: the court lists the operator's (masked) ID number
        pid = subject.person_id
        born = date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        payload |= {"cardNum": court_masked(pid), "businessEntity": "", "sexy": "男性" if int(pid[16]) % 2 else "女性",
                    "age": str(world.today.year - born.year),
                    "duty": f"被执行人{subject.person_name}（公民身份号码{pid}）{record.duty}"}
    return payload


def _blocked(replica: Replica, request: Request) -> Response | None:
    if getattr(replica, "zxgk_firewall", False) and FIREWALL_COOKIE not in request.cookies:
        page = '<html><head><script>var $_ts=window["$_ts"];if(!$_ts)$_ts={};$_ts.nsd=84213;</script></head></html>'
        return Response(412, page.encode(), "text/html;charset=utf-8")
    return None


def _session(replica: Replica, captcha_id: str) -> Session | None:
    with replica.lock:
        return replica.sessions.get(captcha_id)


def _captcha_ok(replica: Replica, request: Request) -> bool:
    session = _session(replica, request.param("captchaId"))
    if session is None or not session.captcha:
        return False
    fresh = time.time() - session.captcha_issued < CAPTCHA_TTL_SECONDS
    return fresh and request.param("pCode").strip().upper() == session.captcha


def captcha(replica: Replica, request: Request) -> Response:
    blocked = _blocked(replica, request)
    if blocked:
        return blocked
    captcha_id = request.param("captchaId")
    if not CAPTCHA_ID.fullmatch(captcha_id):
        return Response(400, b"captchaId required", "text/plain;charset=UTF-8")
    rng = random.Random(f"{replica.world.seed}-{captcha_id}-{time.time_ns()}")
    code = new_code(rng, CAPTCHA_LENGTH)
    # Stored as a Session keyed by captchaId, so /__replica__/captcha?sid=<captchaId> can answer it.
    with replica.lock:
        replica.sessions[captcha_id] = Session(captcha_id, code, time.time())
    return Response(200, png_noise(100, 40, seed=rng.randint(0, 1 << 30)), "image/png")


def check(replica: Replica, request: Request) -> Response:
    blocked = _blocked(replica, request)
    if blocked:
        return blocked
    return Response(200, b"1" if _captcha_ok(replica, request) else b"0", "text/html;charset=UTF-8")


def search(replica: Replica, request: Request) -> Response:
    blocked = _blocked(replica, request)
    if blocked:
        return blocked
    if not _captcha_ok(replica, request):
        return Response.json(REFUSED)
    try:
        page = max(1, int(request.param("currentPage", "1")))
        size = min(max(1, int(request.param("pageSize", "10"))), 50)
    except ValueError:
        return Response.json({"messageCode": "paramError", "message": "参数错误"}, status=400)
    name = request.param("pName").strip()
    matches = [c for c in records_at(replica.world, replica.epoch) if name and name in c.subject.name]
    overlap = getattr(replica, "zxgk_page_overlap", PAGE_OVERLAP)
    start = max(0, (page - 1) * size - (overlap if page > 1 else 0))
    rows = [{"id": record_id(c.case_code), "caseCode": c.case_code, "iname": c.subject.name}
            for c in matches[start : start + size]]
    return Response.json([{"result": rows, "totalSize": len(matches), "totalPage": -(-len(matches) // size),
                           "currentPage": page}])


def disdetail(replica: Replica, request: Request) -> Response:
    blocked = _blocked(replica, request)
    if blocked:
        return blocked
    if not _captcha_ok(replica, request):
        return Response.json(REFUSED)
    wanted = (request.param("id"), request.param("caseCode"))
    for record in records_at(replica.world, replica.epoch):
        if (str(record_id(record.case_code)), record.case_code) == wanted:
            return Response.json(detail(replica.world, record))
    return Response.json({})


ROUTES = {
    ("GET", "/shixin/captchaNew.do"): captcha,
    ("GET", "/shixin/checkyzm.do"): check,
    ("POST", "/shixin/searchSX.do"): search,
    ("GET", "/shixin/disDetailNew"): disdetail,
}
