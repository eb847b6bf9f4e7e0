"""MIIT 电信业务市场综合管理信息系统, the `dxxzsp` app, as the replica serves it to every source that reads it
(registries.md §3.1, corrected by §7.3). Licences come from the shared world (replica/world.py Company/Licence);
annual-report years from the world family `licence_annual_reports` that any source may populate.

Contract (§3.1, §7.3; `[idx 57477897775]` a 2026 client in plain HTTP, `[idx 5947110648]` a 2025 script):
  POST /dxxzsp/corpinfo/getCode              num                         → {"src": "data:image/png;base64,…"}
       a 7-character captcha (A–Z0–9), bound to the session (JSESSIONID) that asked for it
  POST /dxxzsp/corpinfo/getcorpinfocount.wf  num, type=xuke, code        → {"flag": "0"} (wrong) | {"c": count}
  POST /dxxzsp/corpinfo/getcorpinfo.wf       + pageNum, pageSize (≤ 100) → {"listyj": [{company_name, faren,
       license_no, fzjg, lic_id, ywzlInfos: [{ywzl, fgfw, fzrq, jzrq}]}]}
  POST /dxxzsp/corpinfo/getshouquan.wf?pageNum=1&pageSize=100, num=<lic_id> → [{name, nameints, yewu, num}]
  POST /dxxzsp/corpinfo/getreporty           num=<lic_id>                → {"FILL_YEAR": "2025"}, or ssss: no report
  GET  /dxxzsp/xkz/xkzgl/resource/qiyesearch.jsp?num=…&type=xuke        → the public result page (filled by script)
  GET  /dxxzsp/xkz/xkzgl/resource/qiyereport.jsp?num=<lic_id>&type=yreport → the annual report, a table
       序号 / 指标名称 / 值 (填报年度, 企业名称, 统一社会信用代码, 法定代表人, 许可证编码, 注册住所, …)
`num` matches a licence number exactly or a company name by substring, as the site's search does.

The replica's guesses (nothing here was seen on the live site):
- JSON calls without `X-Requested-With: XMLHttpRequest` and a Referer on qiyesearch.jsp get a 403 block page,
  as a WAF-fronted app answers (the site sets `wzws_sessionid`, a 网站卫士 WAF cookie, §3.1). The .jsp pages
  are linked from operators' site footers, so they answer without those headers.
- getcorpinfo.wf without a code (the 2025 script's call) answers `{"flag":"0"}` like a wrong captcha.
- `ssss` is sent as bare text for some licences and as a JSON string for others (the reference says "the
  string"); an unknown lic_id also answers `ssss`. qiyereport.jsp for a licence without a report, or an unknown
  num, shows the table's header row only.
- the dates fzrq/jzrq as ISO dates; getshouquan.wf answers [] (the world has no authorisations); a known path
  with the wrong method is a 405, an unknown path a Tomcat 404.
- a redesign (layout drift) of qiyereport.jsp shows the report as a definition list instead of a table.

The paths are written here, not imported from the spider side (spiders/platforms/miit_dxxzsp.py): the
replica is the contract the spider is tested against, and must not move when the spider does.
"""

from __future__ import annotations

import hashlib
import random
import string
import time
from dataclasses import dataclass
from html import escape
from typing import Any

from replica.captcha import data_uri, png_noise
from replica.server import Replica, Request, Response
from replica.world import REGIONS, live_at

HOST = "dxzhgl.miit.gov.cn"
CAPTCHA_LENGTH = 7
CAPTCHA_ALPHABET = string.ascii_uppercase + string.digits  # A–Z0–9 (§7.3)
CAPTCHA_TTL_SECONDS = 300
MAX_PAGE_SIZE = 100
NO_REPORT = "ssss"
SEARCH_PAGE = "/dxxzsp/xkz/xkzgl/resource/qiyesearch.jsp"
REPORT_PAGE = "/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp"
FILINGS = "licence_annual_reports"  # the world family of annual-report filings (see AnnualReportFiling)


# -- annual reports: data a source can populate -----------------------------------------------------------
@dataclass
class AnnualReportFiling:
    """A licence's telecom annual report -- 电信业务经营许可年报: the latest year it has filed (None: never
    filed, getreporty answers `ssss`). A source adds these to `world.family(FILINGS)` in its populate(); the
    latest-added live entry for a licence wins. A licence with no entry has filed for last year."""

    lic_id: str
    year: int | None
    epoch_added: int = 0
    epoch_removed: int | None = None


def filed_year(world: Any, lic_id: str, epoch: int = 0) -> int | None:
    """The latest year `lic_id` has filed an annual report for, as the site shows it at `epoch`."""
    live = [f for f in world.families.get(FILINGS, ()) if f.lic_id == lic_id and live_at(f, epoch)]
    return live[-1].year if live else world.today.year - 1


def licence_by_id(world: Any, lic_id: str) -> tuple[Any, Any] | None:
    return next(((c, lic) for c, lic in world.licences() if lic.lic_id == lic_id), None)


def report_rows(world: Any, company: Any, lic: Any, year: int) -> list[tuple[str, str]]:
    """The rows of qiyereport.jsp's table for a filed report (指标名称, 值)."""
    digest = hashlib.sha256(lic.lic_id.encode()).hexdigest()
    capital = (int(digest[:4], 16) % 50 + 1) * 100
    return [
        ("填报年度", str(year)),
        ("企业名称", company.name),
        ("统一社会信用代码", company.uscc),
        ("法定代表人", company.legal_rep),
        ("许可证编码", lic.licence_no),
        ("注册住所", company.address),
        ("注册属地", REGIONS[company.region][2].removesuffix("通信管理局")),
        ("注册资本", f"{capital}万元"),
        ("许可证业务种类", "；".join(t.label for t in lic.business_types)),
        ("企业性质", "民营企业"),
        ("上市情况", "未上市"),
        ("客户投诉服务电话", f"400-{int(digest[4:8], 16) % 900 + 100}-{int(digest[8:12], 16) % 9000 + 1000}"),
        ("用户投诉量", str(int(digest[12:14], 16) % 20)),
        ("用户投诉回复率", "100%"),
    ]


# -- answers to wrong requests ------------------------------------------------------------------------------
def _xhr_ok(request: Request) -> bool:
    headers = {k.lower(): v for k, v in request.headers.items()}
    referer = headers.get("referer", "").split("?", 1)[0]
    return headers.get("x-requested-with") == "XMLHttpRequest" and referer.endswith(SEARCH_PAGE)


def waf_refusal() -> Response:
    """The replica's guess at the WAF's block page for a JSON call the site's page would not make."""
    page = ("<html><head><meta charset=\"utf-8\"><title>访问被拦截</title></head><body><h2>您的访问被拦截</h2>"
            "<p>您的请求不符合本站安全策略，已被网站防火墙拦截。</p></body></html>")
    return Response(403, page.encode("utf-8"), "text/html;charset=utf-8")


def xhr_only(handler: Any) -> Any:
    """A JSON route that the WAF guards: refused without the page's XHR headers (the replica's guess)."""

    def guarded(replica: Replica, request: Request) -> Response:
        return handler(replica, request) if _xhr_ok(request) else waf_refusal()

    guarded.__name__ = handler.__name__
    return guarded


def not_found(replica: Replica, request: Request) -> Response:
    """A known path with the wrong method: 405; any other path: Tomcat's 404 (the replica's guess)."""
    path = request.path.removeprefix(f"/{HOST}")
    if any(p == path for _, p in ROUTES):
        page = f"<html><body><h1>HTTP Status 405 – Method Not Allowed</h1><p>{escape(request.method)}</p></body></html>"
        return Response(405, page.encode(), "text/html;charset=utf-8", {"Allow": "POST, GET"})
    page = "<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>"
    return Response(404, page.encode(), "text/html;charset=utf-8")


# -- the search ----------------------------------------------------------------------------------------------
def matches(replica: Replica, num: str) -> list[tuple[Any, Any]]:
    num = num.strip()
    if not num:
        return []
    return [(c, lic) for c, lic in replica.world.licences() if lic.licence_no == num or num in c.name]


def _captcha_ok(replica: Replica, request: Request, carrier: Response) -> bool:
    session = replica.session(request, carrier)
    code = request.param("code").strip().upper()
    fresh = time.time() - session.captcha_issued < CAPTCHA_TTL_SECONDS
    return bool(session.captcha) and bool(code) and fresh and code == session.captcha


def _with(payload: Response, carrier: Response) -> Response:
    payload.headers.update(carrier.headers)  # a new session's Set-Cookie
    return payload


def get_code(replica: Replica, request: Request) -> Response:
    # §3.1/§7.3: POST getCode, num → {"src": data URI}; the text is bound to the session
    carrier = Response()
    session = replica.session(request, carrier)
    rng = random.Random(f"{replica.world.seed}-{session.sid}-{time.time_ns()}")
    session.captcha = "".join(rng.choice(CAPTCHA_ALPHABET) for _ in range(CAPTCHA_LENGTH))
    session.captcha_issued = time.time()
    return _with(Response.json({"src": data_uri(png_noise(seed=rng.randint(0, 1 << 30)))}), carrier)


def count(replica: Replica, request: Request) -> Response:
    # §3.1/§7.3: POST getcorpinfocount.wf, num, type=xuke, code → {"flag":"0"} on a wrong captcha, else {"c": n}
    carrier = Response()
    if not _captcha_ok(replica, request, carrier):
        return _with(Response.json({"flag": "0"}), carrier)
    return _with(Response.json({"c": len(matches(replica, request.param("num")))}), carrier)


def _int(text: str, default: int) -> int:
    try:
        return int(text)
    except ValueError:
        return default


def corp_info(replica: Replica, request: Request) -> Response:
    # §3.1/§7.3: POST getcorpinfo.wf, + pageNum, pageSize (≤100; form or query) → listyj rows. Without the
    # session's captcha: flag 0 (the replica's guess for the 2025 captcha-less call)
    carrier = Response()
    if not _captcha_ok(replica, request, carrier):
        return _with(Response.json({"flag": "0"}), carrier)
    page = max(1, _int(request.param("pageNum", "1"), 1))
    size = min(max(1, _int(request.param("pageSize", "10"), 10)), MAX_PAGE_SIZE)
    rows = matches(replica, request.param("num"))[(page - 1) * size : page * size]
    listyj = [
        {
            "company_name": company.name,
            "faren": company.legal_rep,
            "license_no": lic.licence_no,
            "fzjg": lic.issuer,
            "lic_id": lic.lic_id,
            "ywzlInfos": [{"ywzl": t.label, "fgfw": t.coverage, "fzrq": t.issued_on.isoformat(),
                           "jzrq": t.expires_on.isoformat()} for t in lic.business_types],
        }
        for company, lic in rows
    ]
    return _with(Response.json({"listyj": listyj}), carrier)


def authorisations(replica: Replica, request: Request) -> Response:
    # §3.1: POST getshouquan.wf?pageNum&pageSize, num=<lic_id> → a list {name, nameints, yewu, num}; the world
    # has no 授权 (authorised subsidiaries), so every licence answers []
    return Response.json([])


def annual_report_year(replica: Replica, request: Request) -> Response:
    # §7.3: POST getreporty, num=<lic_id> → {"FILL_YEAR": "<year>"} only (no USCC), or the string ssss
    lic_id = request.param("num").strip()
    found = licence_by_id(replica.world, lic_id)
    year = filed_year(replica.world, lic_id, replica.epoch) if found else None
    if year is not None:
        return Response.json({"FILL_YEAR": str(year)})
    if int(hashlib.sha256(lic_id.encode()).hexdigest()[0], 16) % 2:
        return Response.json(NO_REPORT)  # "ssss", a JSON string
    return Response(200, NO_REPORT.encode(), "text/html;charset=UTF-8")  # bare text


# -- the pages -----------------------------------------------------------------------------------------------
def _page(title: str, body: str) -> Response:
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"/><title>{escape(title)}</title></head>'
            f"<body>{body}</body></html>")
    return Response(200, html.encode("utf-8"), "text/html;charset=UTF-8")


def search_page(replica: Replica, request: Request) -> Response:
    # §3.1: GET qiyesearch.jsp?num=…&type=xuke, the public result page; its script asks getCode and the
    # .wf calls, so the page itself carries no licence
    num = escape(request.param("num"))
    body = (f'<div class="search"><input id="num" value="{num}"/><img id="codeImg" alt="验证码"/>'
            '<input id="code" maxlength="7"/><button id="searchBtn">查询</button></div>'
            '<div id="result"></div><script src="../js/qiyesearch.js"></script>')
    return _page("电信业务经营许可证查询", body)


def report_page(replica: Replica, request: Request) -> Response:
    # §3.1/§7.3: GET qiyereport.jsp?num=<lic_id>&type=yreport → the latest annual report, 序号 / 指标名称 / 值
    lic_id = request.param("num").strip()
    found = licence_by_id(replica.world, lic_id)
    year = filed_year(replica.world, lic_id, replica.epoch) if found else None
    rows = report_rows(replica.world, *found, year) if found and year is not None else []
    if replica.html_drift(request):
        items = "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in rows)
        return _page("年报公示", f'<div class="report-v2"><dl>{items}</dl></div>')
    cells = [("序号", "指标名称", "值")] + [(str(i), name, value) for i, (name, value) in enumerate(rows, 1)]
    trs = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    return _page("年报公示", f'<div class="report"><table class="table" border="1">{trs}</table></div>')


ROUTES = {
    ("POST", "/dxxzsp/corpinfo/getCode"): xhr_only(get_code),
    ("POST", "/dxxzsp/corpinfo/getcorpinfocount.wf"): xhr_only(count),
    ("POST", "/dxxzsp/corpinfo/getcorpinfo.wf"): xhr_only(corp_info),
    ("POST", "/dxxzsp/corpinfo/getshouquan.wf"): xhr_only(authorisations),
    ("POST", "/dxxzsp/corpinfo/getreporty"): xhr_only(annual_report_year),
    ("GET", SEARCH_PAGE): search_page,
    ("GET", REPORT_PAGE): report_page,
}
