"""The replica speaks MIIT's dxxzsp contract: captcha first, counts, pages, annual reports."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.parse
import urllib.request

from replica.server import Replica


def _client() -> urllib.request.OpenerDirector:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    return opener


def _post(opener: urllib.request.OpenerDirector, url: str, **form: str) -> dict:
    with opener.open(url, data=urllib.parse.urlencode(form).encode()) as answer:
        return json.load(answer)


def _captcha(opener: urllib.request.OpenerDirector, replica: Replica) -> str:
    site = replica.site_url("dxzhgl.miit.gov.cn")
    image = _post(opener, f"{site}/dxxzsp/corpinfo/getCode", num="科技")
    assert image["src"].startswith("data:image/png;base64,")
    jar = next(h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor))
    sid = next(c.value for c in jar if c.name == "JSESSIONID")
    # The test hook stands in for a person reading the image.
    with urllib.request.urlopen(f"{replica.base_url}/__replica__/captcha?sid={sid}") as hook:
        return json.load(hook)["answer"]


def test_wrong_captcha_is_refused_and_right_one_counts(quiet_replica: Replica) -> None:
    opener = _client()
    site = quiet_replica.site_url("dxzhgl.miit.gov.cn")
    answer = _captcha(opener, quiet_replica)
    assert len(answer) == 7
    wrong = _post(opener, f"{site}/dxxzsp/corpinfo/getcorpinfocount.wf", num="科技", type="xuke", code="AAAAAAA")
    assert wrong["flag"] == "0"
    right = _post(opener, f"{site}/dxxzsp/corpinfo/getcorpinfocount.wf", num="科技", type="xuke", code=answer)
    expected = sum(1 for company, _ in quiet_replica.world.licences() if "科技" in company.name)
    assert right["c"] == expected > 0


def test_pages_cover_every_match_once(quiet_replica: Replica) -> None:
    opener = _client()
    site = quiet_replica.site_url("dxzhgl.miit.gov.cn")
    answer = _captcha(opener, quiet_replica)
    seen: list[str] = []
    for page in range(1, 10):
        rows = _post(opener, f"{site}/dxxzsp/corpinfo/getcorpinfo.wf", num="技术", type="xuke", code=answer,
                     pageNum=str(page), pageSize="5")["listyj"]
        seen += [row["lic_id"] for row in rows]
    expected = {lic.lic_id for company, lic in quiet_replica.world.licences() if "技术" in company.name}
    assert sorted(seen) == sorted(expected)
    report = _post(opener, f"{site}/dxxzsp/corpinfo/getreporty", num=seen[0])
    assert len(report["CREDIT_CODE"]) == 18
