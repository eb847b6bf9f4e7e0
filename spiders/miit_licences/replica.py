"""MIIT 电信业务市场综合管理信息系统 (dxzhgl.miit.gov.cn / tsm.miit.gov.cn), the `dxxzsp` app.

Contract (registries.md §3.1, from a 2026 CLI and a 2025 script): all POST, form-encoded;
  /dxxzsp/corpinfo/getCode            num            → {"src": "data:image/png;base64,…"}, 7-char captcha
  /dxxzsp/corpinfo/getcorpinfocount.wf num,type,code → {"flag":"0"} wrong captcha, else {"c": count}
  /dxxzsp/corpinfo/getcorpinfo.wf      + pageNum,pageSize → {"listyj": [{company_name, faren,
      license_no, fzjg, lic_id, ywzlInfos:[{ywzl, fgfw, fzrq, jzrq}]}]}
  /dxxzsp/corpinfo/getreporty          num=<lic_id>  → the licence's annual report.
Uncertain, and the replica's guess: the JSON keys of getreporty (the reference saw only the HTML
page's row labels 填报年度/企业名称/统一社会信用代码/…), and the date format of fzrq/jzrq.
`num` matches a licence number exactly or a company name by substring, as the site's search does.
"""

from __future__ import annotations

import random
import time

from replica.captcha import data_uri, new_code, png_noise
from replica.server import Replica, Request, Response

HOST = "dxzhgl.miit.gov.cn"
CAPTCHA_LENGTH = 7
CAPTCHA_TTL_SECONDS = 300


def _matches(replica: Replica, num: str) -> list:
    num = num.strip()
    if not num:
        return []
    return [(c, lic) for c, lic in replica.world.licences() if lic.licence_no == num or num in c.name]


def _captcha_ok(replica: Replica, request: Request, response: Response) -> bool:
    session = replica.session(request, response)
    code = request.param("code").strip().upper()
    fresh = time.time() - session.captcha_issued < CAPTCHA_TTL_SECONDS
    return bool(session.captcha) and fresh and code == session.captcha


def get_code(replica: Replica, request: Request) -> Response:
    response = Response()
    session = replica.session(request, response)
    rng = random.Random(f"{replica.world.seed}-{session.sid}-{time.time_ns()}")
    session.captcha = new_code(rng, CAPTCHA_LENGTH)
    session.captcha_issued = time.time()
    payload = Response.json({"src": data_uri(png_noise(seed=rng.randint(0, 1 << 30)))})
    payload.headers.update(response.headers)
    return payload


def count(replica: Replica, request: Request) -> Response:
    response = Response()
    if not _captcha_ok(replica, request, response):
        return _with(Response.json({"flag": "0", "msg": "验证码错误"}), response)
    return _with(Response.json({"flag": "1", "c": len(_matches(replica, request.param("num")))}), response)


def corp_info(replica: Replica, request: Request) -> Response:
    response = Response()
    if not _captcha_ok(replica, request, response):
        return _with(Response.json({"flag": "0", "msg": "验证码错误"}), response)
    page, size = int(request.param("pageNum", "1")), min(int(request.param("pageSize", "10")), 100)
    rows = _matches(replica, request.param("num"))[(page - 1) * size : page * size]
    listyj = [
        {
            "company_name": company.name,
            "faren": company.legal_rep,
            "license_no": lic.licence_no,
            "fzjg": lic.issuer,
            "lic_id": lic.lic_id,
            "ywzlInfos": [
                {"ywzl": t.label, "fgfw": t.coverage, "fzrq": t.issued_on.isoformat(), "jzrq": t.expires_on.isoformat()}
                for t in lic.business_types
            ],
        }
        for company, lic in rows
    ]
    return _with(Response.json({"flag": "1", "listyj": listyj, "pageNum": page, "pageSize": size}), response)


def annual_report(replica: Replica, request: Request) -> Response:
    lic_id = request.param("num")
    for company, lic in replica.world.licences():
        if lic.lic_id == lic_id:
            return Response.json({
                "FILL_YEAR": str(replica.world.today.year - 1),
                "COMPANY_NAME": company.name,
                "CREDIT_CODE": company.uscc,
                "LEGAL_PERSON": company.legal_rep,
                "LICENSE_NO": lic.licence_no,
                "REG_ADDRESS": company.address,
            })
    return Response.json({})


def ground_truth(world, epoch: int = 0) -> dict[str, dict]:  # noqa: ANN001 (World; avoids an import cycle)
    kept = {lic.lic_id for _, lic in world.licences() if not lic.malformed}
    quarantined = {lic.lic_id: lic.malformed for _, lic in world.licences() if lic.malformed}
    return {"miit_licences": {"records": kept, "quarantined": quarantined}}


def _with(payload: Response, session_carrier: Response) -> Response:
    payload.headers.update(session_carrier.headers)
    return payload


ROUTES = {
    ("POST", "/dxxzsp/corpinfo/getCode"): get_code,
    ("POST", "/dxxzsp/corpinfo/getcorpinfocount.wf"): count,
    ("POST", "/dxxzsp/corpinfo/getcorpinfo.wf"): corp_info,
    ("POST", "/dxxzsp/corpinfo/getreporty"): annual_report,
}
