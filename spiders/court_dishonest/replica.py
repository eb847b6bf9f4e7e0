"""中国执行信息公开网 (zxgk.court.gov.cn): 失信被执行人 (dishonest judgment debtors), as the site is served since its
move under /gkw/ (registries.md §7.5, a 2026-10 probe, [idx 71045474619]; record fields §4.1).

Contract:
  GET  /gkw/html/shixin/index.html (also /shixin/)   the search page: form #myform (pName, pCardNum, pProvince,
       pCode, captchaId, currentPage), its inline search() that POSTs the form to searchSX, and the 瑞数 script;
       sets the server cookie lqWVdQzgOVyaO (§7.5 probe). The Tianai widget that fills pCode/captchaId once a
       person passes the slider is not served: a test, or the replica's hook, stands in for widget and person
  GET  /gkw/sx/captchaNew?captchaId=<32 alnum>&random=<float>   a Tianai behavioural (slider) challenge bound to
       the captchaId (§7.5)
  POST /gkw/sx/searchSX   pName, pCardNum, pProvince, pCode, captchaId, currentPage (§7.5 probe, form #myform)
       → a JSON ARRAY [{"result": [{id, caseCode, …}], "totalSize": n, "totalPage": p}] (the §4.1 shape)
  POST /gkw/sx/disDetailNew   id, caseCode, pCode, captchaId (§7.5); GET with the same query, as the page's own
       links write it with pCode= and captchaId= empty (probe ②): both served
       → JSON: iname, caseCode, cardNum (a person's ID number masked by the court, 3728271963****8934),
       courtName, areaName, gistId, gistUnit, duty, performance, performedPart, unperformPart, disruptTypeName,
       publishDate (YYYY年MM月DD日), regDate (YYYYMMDD), businessEntity, age and sexy (persons) (§4.1)
  GET  /gkw/sx/getPersonList, /gkw/sx/getUnitList   captcha-free: {"data": [{iname, cardNum, caseCode, id}]},
       the page's scrolling 公示名单 of recent listings, persons and organisations (probe ②). No search
       parameter, no total, no paging: not a way to find a given company's cases (the spider does not use them).
  瑞数 (§4.2, §7.5: "412 from every API without the 瑞数 token"): an API call (captchaNew, searchSX,
       disDetailNew, get*List) without the page's cookie pair gets HTTP 412 and a token page. The page sets
       lqWVdQzgOVyaO; its script computes lqWVdQzgOVyaT from it in a browser. creditwatch never runs challenge
       JS, so a plain-HTTP crawl is refused at its first API call. `browser_session(replica)` serves as though
       the session's browser ran the script: an API call then needs only the cookie of a loaded page (a session
       that never loaded the page still gets 412).
  The 2023 `.do` contract (§4.1: /shixin/captchaNew.do, checkyzm.do, searchSX.do, /shixin/disDetailNew) is gone
  (§7.5: "probably"): those paths get 404, an API path with the wrong method 405.
The replica's guesses: the captchaNew answer's shape (tianai-captcha's own CaptchaResponse/ImageCaptchaVO,
{id, captcha: {type: "SLIDER", backgroundImage, templateImage, …}}, dromara/tianai-captcha; the probe names only
"TianaiCaptchaRestPage"); the pass code the page receives once the slider is passed (a Tianai 二次验证 token, which
the page sends as pCode) and its lifetime; that a pass serves every page and detail of a search; searchSX keeping
the §4.1 answer shape and its answer to a wrong or expired pass (a 验证码 message); 5 rows a page (the /gkw/ form
sends no pageSize; small, so the world's few cases span pages); pName matching by substring; pProvince "" or "0"
meaning every province (the probe sends "", §4.1 sent "0"); the order of results and the `id` values; the index
page's markup beyond the form's fields; the 412 page's body; `duty` for a 个体工商户 quoting the operator's full ID
number (judgments quoted in 义务 do name parties; it exercises our masking); 10 rows in each get*List.
Site faults: every list page after the first repeats the last row of the page before (zxgk "dumps duplicated
data" when throttled; registries.md §4.2), so the last row spills past totalPage.
Data the world does not mark malformed, derived here: the second court record in the world is published with an
impossible publishDate (2月30日).
"""

from __future__ import annotations

import hashlib
import random
import re
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from replica.captcha import data_uri, png_noise
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
PASS_TTL_SECONDS = 300  # how long a passed slider's code is accepted (the replica's guess)
PAGE_SIZE = 5  # rows a searchSX page (the replica's guess: the /gkw/ form sends no pageSize)
PAGE_OVERLAP = 1  # rows repeated from the previous page (replica attribute `zxgk_page_overlap` overrides)
SCROLL_ROWS = 10  # rows in getPersonList / getUnitList
SERVER_COOKIE = "lqWVdQzgOVyaO"  # 瑞数 cookie the page sets (§7.5 probe: Set-Cookie lqWVdQzgOVyaO=…)
TOKEN_COOKIE = "lqWVdQzgOVyaT"  # 瑞数 cookie the page's script computes in a browser (§4.2)
CAPTCHA_ID = re.compile(r"[0-9A-Za-z]{32}")
REFUSED = {"messageCode": "pCodeError", "message": "验证码错误或已过期，请重新输入！"}
IMPOSSIBLE_DATE_REASON = "published_on: impossible date"
_GRANTED: weakref.WeakKeyDictionary[Replica, bool] = weakref.WeakKeyDictionary()


def browser_session(replica: Replica, granted: bool = True) -> None:
    """Serve `replica`'s zxgk as though the session's browser ran the page's 瑞数 script (no 412 once the page
    was loaded)."""
    _GRANTED[replica] = granted


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


def card_num(subject: Subject) -> str:
    return court_masked(subject.person_id) if subject.person_id else subject.uscc or ""


def detail(world: Any, record: Any) -> dict[str, Any]:
    subject = record.subject
    published = "2026年02月30日" if record.case_code == impossible_date_case(world) else _cn_date(record.published_on)
    payload: dict[str, Any] = {
        "id": record_id(record.case_code), "iname": subject.name, "caseCode": record.case_code,
        "cardNum": card_num(subject), "courtName": record.court, "areaName": record.area,
        "partyTypeName": "", "gistId": record.gist_id, "gistUnit": record.gist_unit, "duty": record.duty,
        "performance": record.performance, "performedPart": "暂无", "unperformPart": "暂无",
        "disruptTypeName": record.disrupt_type, "publishDate": published,
        "publishDateStamp": str(int(datetime.combine(record.published_on, datetime.min.time(), SHANGHAI).timestamp())),
        "regDate": f"{record.registered_on:%Y%m%d}", "businessEntity": subject.person_name or "",
    }
    if subject.person_id:  # a person's business: the court lists the operator's (masked) ID number
        pid = subject.person_id
        born = date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
        payload |= {"businessEntity": "", "sexy": "男性" if int(pid[16]) % 2 else "女性",
                    "age": str(world.today.year - born.year),
                    "duty": f"被执行人{subject.person_name}（公民身份号码{pid}）{record.duty}"}
    return payload


# -- 瑞数 -----------------------------------------------------------------------------------------------
def script_token(server_cookie: str) -> str:
    """What the page's script computes in a browser from the server cookie (never computed by creditwatch)."""
    return server_cookie[::-1] + "1"


def _token_page() -> Response:
    """§7.5 probe: 412 with a 瑞数 token page (a meta content token and the $_ts script)."""
    token = uuid.uuid4().hex
    page = (f'<html><head><meta charset="utf-8"><meta id="9DhefwqGPrzGxEp9hPaoag" content="{token}" r="m">'
            '<script>var $_ts=window["$_ts"];if(!$_ts)$_ts={};$_ts.nsd=84213;</script></head><body></body></html>')
    return Response(412, page.encode(), "text/html;charset=utf-8")


def _firewall(replica: Replica, request: Request) -> Response | None:
    """412 unless the session loaded the page and (in a browser) ran its script."""
    server = request.cookies.get(SERVER_COOKIE, "")
    if server and (_GRANTED.get(replica, False) or request.cookies.get(TOKEN_COOKIE) == script_token(server)):
        return None
    return _token_page()


def guarded(handler):  # noqa: ANN001, ANN201 (a route decorator)
    def route(replica: Replica, request: Request) -> Response:
        return _firewall(replica, request) or handler(replica, request)
    return route


# -- routes -------------------------------------------------------------------------------------------
INDEX_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>全国法院失信被执行人名单信息公布与查询</title>
<script>var $_ts=window["$_ts"];if(!$_ts)$_ts={{}};$_ts.cd="{server}";
document.cookie="{token_cookie}="+$_ts.cd.split("").reverse().join("")+"1; path=/";</script>
<script>function search(){{var x=new XMLHttpRequest();x.open("POST","../../sx/searchSX");
x.setRequestHeader("Content-Type","application/x-www-form-urlencoded;charset=UTF-8");
x.setRequestHeader("X-Requested-With","XMLHttpRequest");
x.send(new URLSearchParams(new FormData(document.getElementById("myform"))).toString());}}</script>
</head><body>
<form id="myform" method="post" action="">
  <input type="text" name="pName" id="pName" placeholder="被执行人姓名/名称">
  <input type="text" name="pCardNum" id="pCardNum" placeholder="身份证号码/组织机构代码">
  <select name="pProvince" id="pProvince"><option value="">全部</option></select>
  <input type="hidden" name="pCode" id="pCode"><input type="hidden" name="captchaId" id="captchaId">
  <input type="hidden" name="currentPage" id="currentPage" value="1">
  <button type="button" onclick="search()">查询</button>
</form>
<div id="captcha-box"></div>
</body></html>"""


def index(replica: Replica, request: Request) -> Response:
    server = request.cookies.get(SERVER_COOKIE) or uuid.uuid4().hex[:20]
    page = INDEX_PAGE.format(server=server, token_cookie=TOKEN_COOKIE)
    return Response(200, page.encode(), "text/html;charset=utf-8", {"Set-Cookie": f"{SERVER_COOKIE}={server}; Path=/"})


def _pass(replica: Replica, captcha_id: str) -> Session | None:
    with replica.lock:
        return replica.sessions.get(captcha_id)


def _pass_ok(replica: Replica, request: Request) -> bool:
    """A searchSX / disDetailNew call carries the code a passed slider gave, for the captchaId it was bound to."""
    session = _pass(replica, request.param("captchaId"))
    if session is None or not session.captcha:
        return False
    fresh = time.time() - session.captcha_issued < PASS_TTL_SECONDS
    return fresh and request.param("pCode").strip() == session.captcha


@guarded
def captcha(replica: Replica, request: Request) -> Response:
    captcha_id = request.param("captchaId")
    if not CAPTCHA_ID.fullmatch(captcha_id):
        return Response(400, b"captchaId required", "text/plain;charset=UTF-8")
    rng = random.Random(f"{replica.world.seed}-{captcha_id}-{time.time_ns()}")
    # The code the page receives once a person passes this slider. Stored as a Session keyed by captchaId, so
    # /__replica__/captcha?sid=<captchaId> can stand in for the person.
    code = uuid.UUID(int=rng.getrandbits(128)).hex
    with replica.lock:
        replica.sessions[captcha_id] = Session(captcha_id, code, time.time())
    background = data_uri(png_noise(60, 36, seed=rng.randint(0, 1 << 30)))
    template = data_uri(png_noise(11, 36, seed=rng.randint(0, 1 << 30)))
    return Response.json({"id": captcha_id, "captcha": {
        "type": "SLIDER", "backgroundImage": background, "templateImage": template,
        "backgroundImageTag": "default", "templateImageTag": "default",
        "backgroundImageWidth": 600, "backgroundImageHeight": 360, "templateImageWidth": 110,
        "templateImageHeight": 360, "data": None}})


@guarded
def search(replica: Replica, request: Request) -> Response:
    if not _pass_ok(replica, request):
        return Response.json(REFUSED)
    try:
        page = max(1, int(request.param("currentPage", "1")))
    except ValueError:
        return Response.json({"messageCode": "paramError", "message": "参数错误"}, status=400)
    name = request.param("pName").strip()
    everywhere = request.param("pProvince").strip() in ("", "0")
    matches = [c for c in records_at(replica.world, replica.epoch)
               if name and everywhere and name in c.subject.name]
    overlap = getattr(replica, "zxgk_page_overlap", PAGE_OVERLAP)
    start = max(0, (page - 1) * PAGE_SIZE - (overlap if page > 1 else 0))
    rows = [{"id": record_id(c.case_code), "caseCode": c.case_code, "iname": c.subject.name}
            for c in matches[start : start + PAGE_SIZE]]
    return Response.json([{"result": rows, "totalSize": len(matches), "totalPage": -(-len(matches) // PAGE_SIZE),
                           "currentPage": page}])


@guarded
def disdetail(replica: Replica, request: Request) -> Response:
    unpassed = not request.param("pCode") and not request.param("captchaId")  # the page's own links (probe ②)
    if not unpassed and not _pass_ok(replica, request):
        return Response.json(REFUSED)
    wanted = (request.param("id"), request.param("caseCode"))
    for record in records_at(replica.world, replica.epoch):
        if (str(record_id(record.case_code)), record.case_code) == wanted:
            return Response.json(detail(replica.world, record))
    return Response.json({})


def _scroll(replica: Replica, persons: bool) -> Response:
    listed = [c for c in records_at(replica.world, replica.epoch) if bool(c.subject.person_id) == persons]
    return Response.json({"data": [{"iname": c.subject.name, "cardNum": card_num(c.subject), "caseCode": c.case_code,
                                    "id": record_id(c.case_code)} for c in listed[:SCROLL_ROWS]]})


@guarded
def person_list(replica: Replica, request: Request) -> Response:
    return _scroll(replica, persons=True)


@guarded
def unit_list(replica: Replica, request: Request) -> Response:
    return _scroll(replica, persons=False)


ROUTES = {
    ("GET", "/gkw/html/shixin/index.html"): index,  # §7.5
    ("GET", "/shixin/"): index,  # §7.5 probe: /shixin/ answers the same page
    ("GET", "/gkw/sx/captchaNew"): captcha,  # §7.5
    ("POST", "/gkw/sx/searchSX"): search,  # §7.5 (answer shape §4.1)
    ("POST", "/gkw/sx/disDetailNew"): disdetail,  # §7.5 (fields §4.1)
    ("GET", "/gkw/sx/disDetailNew"): disdetail,  # §7.5 probe ②: the page's own links
    ("GET", "/gkw/sx/getPersonList"): person_list,  # §7.5
    ("GET", "/gkw/sx/getUnitList"): unit_list,  # §7.5
}


def not_found(replica: Replica, request: Request) -> Response:
    """A path the site does not serve: 404, among them the 2023 `.do` paths (§7.5: probably gone); an API path
    with the wrong method: 405 (the replica's guess at the Java server's answer)."""
    path = request.path.removeprefix(f"/{HOST}")
    if any(p == path for _, p in ROUTES):
        return Response(405, f"Request method '{request.method}' not supported".encode(), "text/plain;charset=UTF-8")
    return Response(404, b"<html><head><title>404 Not Found</title></head><body>404 Not Found</body></html>",
                    "text/html;charset=utf-8")
