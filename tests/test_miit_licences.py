"""MIIT telecom licences -- 电信业务经营许可证 (the dxxzsp app, registries.md §3.1 as corrected by §7.3).

The replica speaks the §7.3 contract and refuses the old requests (JSON calls without the page's XHR headers,
a captcha-less list call, the USCC read from getreporty); a crawl with faults on equals its ground truth, the
USCC coming from the annual-report page and NULL for a licence without a report; saved answers are read
offline by the spider's callbacks."""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from parsel import Selector
from scrapy import FormRequest, Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import CrawlError, crawl_source, load, transform
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder, read_manifest
from replica.server import Faults, Replica
from replica.world import World
from spiders.base import challenge_reason
from spiders.miit_licences.replica import without_report
from spiders.miit_licences.spider import MiitLicencesSpider
from spiders.platforms.miit_dxxzsp import (
    ReportLayoutError,
    ReportYear,
    parse_report_year,
    report_table,
)
from spiders.platforms.miit_dxxzsp_replica import FILINGS, AnnualReportFiling
from spiders.source import sources

SOURCE = "miit_licences"
HOST = "dxzhgl.miit.gov.cn"
LIVE = f"https://{HOST}"
SEARCH_PAGE = "/dxxzsp/xkz/xkzgl/resource/qiyesearch.jsp"
FIXTURES = sources()[SOURCE].fixtures


# -- a client of the replica, as the site's own page calls it ------------------------------------------------
class Client:
    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.site = replica.site_url(HOST)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def xhr(self) -> dict[str, str]:
        return {"X-Requested-With": "XMLHttpRequest", "Referer": f"{self.site}{SEARCH_PAGE}"}

    def call(self, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None,
             method: str = "POST") -> tuple[int, bytes]:
        data = urllib.parse.urlencode(form or {}).encode() if method == "POST" else None
        request = urllib.request.Request(f"{self.site}{path}", data=data, method=method,
                                         headers=self.xhr() if headers is None else headers)
        try:
            with self.opener.open(request) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def json(self, path: str, **form: str) -> Any:
        status, body = self.call(path, form)
        assert status == 200, (status, body[:200])
        return json.loads(body)

    def captcha(self, term: str = "科技") -> str:
        image = self.json("/dxxzsp/corpinfo/getCode", num=term)
        assert image["src"].startswith("data:image/png;base64,")
        sid = next(c.value for c in self.jar if c.name == "JSESSIONID")
        # The test hook stands in for a person reading the image.
        with urllib.request.urlopen(f"{self.replica.base_url}/__replica__/captcha?sid={sid}") as hook:
            return json.load(hook)["answer"]


def licences_named(world: World, term: str) -> set[str]:
    return {lic.lic_id for company, lic in world.licences() if term in company.name}


# -- the contract, and the old requests refused ---------------------------------------------------------------
@pytest.mark.parametrize("path", ["/dxxzsp/corpinfo/getCode", "/dxxzsp/corpinfo/getcorpinfocount.wf",
                                  "/dxxzsp/corpinfo/getcorpinfo.wf", "/dxxzsp/corpinfo/getreporty"])
def test_json_calls_without_the_page_headers_are_refused_as_the_old_spider_sent_them(quiet_replica: Replica,
                                                                                     path: str) -> None:
    client = Client(quiet_replica)
    for headers in ({}, {"X-Requested-With": "XMLHttpRequest"}, {"Referer": f"{client.site}{SEARCH_PAGE}"}):
        status, body = client.call(path, {"num": "科技", "type": "xuke"}, headers=headers)
        assert status == 403 and "拦截" in body.decode("utf-8")
    response = HtmlResponse(f"{LIVE}{path}", status=403, body=(FIXTURES / "waf_refusal.html").read_bytes())
    assert challenge_reason(response) == "HTTP 403 (access denied)"  # the spider reports it as blocked


def test_a_wrong_captcha_is_refused_and_the_right_one_counts(quiet_replica: Replica) -> None:
    client = Client(quiet_replica)
    answer = client.captcha()
    assert len(answer) == 7 and all(c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789" for c in answer)
    wrong = client.json("/dxxzsp/corpinfo/getcorpinfocount.wf", num="科技", type="xuke", code="AAAAAAA")
    assert wrong == {"flag": "0"}
    right = client.json("/dxxzsp/corpinfo/getcorpinfocount.wf", num="科技", type="xuke", code=answer)
    assert right["c"] == len(licences_named(quiet_replica.world, "科技")) > 0


def test_pages_cover_every_match_once_and_hold_at_most_100(quiet_replica: Replica) -> None:
    client = Client(quiet_replica)
    answer = client.captcha("技术")
    form = {"num": "技术", "type": "xuke", "code": answer}
    seen: list[str] = []
    for page in range(1, 10):
        seen += [r["lic_id"] for r in client.json("/dxxzsp/corpinfo/getcorpinfo.wf", **form, pageNum=str(page),
                                                  pageSize="5")["listyj"]]
    assert sorted(seen) == sorted(licences_named(quiet_replica.world, "技术"))
    everything = client.json("/dxxzsp/corpinfo/getcorpinfo.wf", **{**form, "num": "有限"}, pageNum="1",
                             pageSize="500")["listyj"]
    assert 0 < len(everything) <= 100


def test_the_captcha_less_list_call_of_2025_is_refused(quiet_replica: Replica) -> None:
    # [idx 5947110648]: pageNum/pageSize in the query, num and type in the body, no code, no captcha asked.
    client = Client(quiet_replica)
    status, body = client.call("/dxxzsp/corpinfo/getcorpinfo.wf?pageNum=1&pageSize=10",
                               {"num": "科技", "type": "xuke"})
    assert status == 200 and json.loads(body) == {"flag": "0"}


def test_getreporty_answers_only_the_year_so_the_old_uscc_read_gets_nothing(quiet_replica: Replica,
                                                                           world: World) -> None:
    client = Client(quiet_replica)
    none = without_report(world)
    filed = next(lic for _, lic in world.licences() if lic.lic_id not in none)
    report = client.json("/dxxzsp/corpinfo/getreporty", num=filed.lic_id)
    assert report == {"FILL_YEAR": str(world.today.year - 1)}
    assert report.get("CREDIT_CODE") is None  # what the old spider read as the USCC
    bodies = {client.call("/dxxzsp/corpinfo/getreporty", {"num": lic_id})[1] for lic_id in none}
    assert bodies == {b"ssss", b'"ssss"'}  # both forms of "the string ssss" are served


def test_the_annual_report_page_carries_the_uscc_and_needs_no_xhr_headers(quiet_replica: Replica,
                                                                         world: World) -> None:
    client = Client(quiet_replica)
    none = without_report(world)
    company, lic = next((c, lic) for c, lic in world.licences() if lic.lic_id not in none)
    status, page = client.call(f"/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp?num={lic.lic_id}&type=yreport",
                               headers={}, method="GET")
    table = report_table(Selector(text=page.decode("utf-8")))
    assert status == 200 and table is not None
    assert table["统一社会信用代码"] == company.uscc and table["许可证编码"] == lic.licence_no
    assert table["填报年度"] == str(world.today.year - 1)
    _, empty = client.call(f"/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp?num={sorted(none)[0]}&type=yreport",
                           headers={}, method="GET")
    assert report_table(Selector(text=empty.decode("utf-8"))) == {}


def test_a_wrong_method_or_path_gets_the_servers_error(quiet_replica: Replica) -> None:
    client = Client(quiet_replica)
    assert client.call("/dxxzsp/corpinfo/getCode", method="GET")[0] == 405
    assert client.call("/dxxzsp/corpinfo/getreport", {"num": "x"})[0] == 404


def test_filing_years_come_from_the_world_family_at_each_epoch(world: World) -> None:
    # How another source (issue 15's annual reports) shapes what getreporty answers: the latest-added live
    # filing of a licence wins; a licence without one has filed for last year.
    mine = World(seed=world.seed)
    late, lapsed = [lic.lic_id for _, lic in mine.licences() if lic.lic_id not in without_report(mine)][:2]
    mine.family(FILINGS).extend([AnnualReportFiling(late, None), AnnualReportFiling(late, 2025, epoch_added=1),
                                 AnnualReportFiling(lapsed, 2023)])
    with Replica(mine, Faults.none()) as replica:
        client = Client(replica)
        answers = [client.call("/dxxzsp/corpinfo/getreporty", {"num": lic})[1] for lic in (late, lapsed)]
        replica.epoch = 1
        later = client.json("/dxxzsp/corpinfo/getreporty", num=late)
    assert answers[0] in (b"ssss", b'"ssss"') and json.loads(answers[1]) == {"FILL_YEAR": "2023"}
    assert later == {"FILL_YEAR": "2025"}


# -- a crawl of the replica, faults on -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-test"
    crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")
    return RunFolder(run_dir)


def records(folder: RunFolder) -> list[dict[str, Any]]:
    return pq.read_table(folder.records(SOURCE)).to_pylist()


def test_every_licence_once_and_the_malformed_one_quarantined(crawled: RunFolder, world: World) -> None:
    truth = world.ground_truth()[SOURCE]
    keys = [r["natural_key"] for r in records(crawled)]
    assert len(keys) == len(set(keys))
    assert set(keys) == truth["records"]
    quarantined = pq.read_table(crawled.quarantine(SOURCE)).to_pylist()
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"])
    assert all(q["field"] == "licence_no" and q["reason"] for q in quarantined)


def test_manifest_says_complete_and_counts_the_faults(crawled: RunFolder, replica: Replica) -> None:
    manifest = read_manifest(crawled.manifest(SOURCE))
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.browser_session is False
    assert manifest.items + manifest.quarantined == len(replica.world.licences())
    assert manifest.retries > 0  # the replica injected faults and the crawl recovered from them


def test_the_uscc_comes_from_the_annual_report_and_is_null_without_one(crawled: RunFolder, world: World) -> None:
    by_lic = {lic.lic_id: (company, lic) for company, lic in world.licences()}
    none = without_report(world)
    assert none and none <= {r["natural_key"] for r in records(crawled)}
    for row in records(crawled):
        fields, raw = json.loads(row["fields_json"]), json.loads(row["raw_json"])
        company, lic = by_lic[row["natural_key"]]
        assert fields["licence_no"] == lic.licence_no
        assert [t["expires_on"] for t in fields["business_types"]] == [t.expires_on.isoformat()
                                                                     for t in lic.business_types]
        if lic.lic_id in none:
            assert fields["uscc"] is None and raw["annual_report"] is None
            assert row["url"].endswith("/dxxzsp/corpinfo/getreporty")
        else:
            assert fields["uscc"] == company.uscc == raw["annual_report"]["统一社会信用代码"]
            assert "/qiyereport.jsp?" in row["url"] and "type=yreport" in row["url"]


def test_staging_says_which_licences_have_no_annual_report(crawled: RunFolder, world: World, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, crawled.path)
    transform(warehouse, targets=["staging.stg_miit__licences"])
    from warehouse.db import connect

    con = connect(warehouse)
    rows = con.execute("SELECT lic_id, uscc, has_annual_report FROM staging.stg_miit__licences").fetchall()
    con.close()
    assert {lic for lic, _, has in rows if not has} == without_report(world)
    assert all((uscc is None) == (not has) for _, uscc, has in rows)


def test_a_second_week_changes_only_what_the_site_changed(world: World, tmp_path: Path) -> None:
    # Week 2: a licence without a report files its first one, so its USCC becomes known: one changed
    # licence; nothing new, nothing removed (captchas and sessions leave no trace in the records).
    mine = World(seed=world.seed)
    first = sorted(without_report(mine))[0]
    mine.family(FILINGS).append(AnnualReportFiling(first, mine.today.year, epoch_added=1))
    warehouse = tmp_path / "w.duckdb"
    results = []
    for epoch, run_id in ((0, "20261123T000000Z-a"), (1, "20261130T000000Z-b")):
        with Replica(mine, Faults.none()) as replica:  # a server (and port) per week: nothing of it may leak in
            replica.epoch = epoch
            manifest = crawl_source(SOURCE, tmp_path / run_id, replica_url=replica.base_url, solver="replica")
        assert manifest.complete, manifest.incomplete_reasons
        results.append(load(warehouse, tmp_path / run_id))
    assert (results[1]["new"], results[1]["changed"], results[1]["removed"]) == (0, 1, 0)
    changed = next(r for r in records(RunFolder(tmp_path / "20261130T000000Z-b")) if r["natural_key"] == first)
    owner = next(c for c, lic in mine.licences() if lic.lic_id == first)
    assert json.loads(changed["fields_json"])["uscc"] == owner.uscc


def test_evidence_is_archived_with_an_index(crawled: RunFolder) -> None:
    index = (crawled.path / "evidence" / f"{SOURCE}.index.jsonl").read_text("utf-8").splitlines()
    entries = [json.loads(line) for line in index]
    assert entries and all(len(e["sha256"]) == 64 for e in entries)
    first = entries[0]
    assert (crawled.path / "evidence" / first["sha256"][:2] / f"{first['sha256']}.gz").exists()


def test_an_unreachable_site_is_incomplete(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens there; every request fails after its retries.
    manifest = crawl_source(SOURCE, tmp_path / "run", replica_url="http://127.0.0.1:9", solver="replica")
    assert manifest.complete is False
    assert any("page failed" in reason for reason in manifest.incomplete_reasons)


def test_a_crashing_crawl_leaves_an_incomplete_manifest(tmp_path: Path) -> None:
    with pytest.raises(CrawlError):
        crawl_source(SOURCE, tmp_path / "run", replica_url="http://127.0.0.1:9",
                     settings={"ITEM_PIPELINES": {"no.such.Pipeline": 1}})
    manifest = read_manifest(tmp_path / "run" / f"{SOURCE}.manifest.json")
    assert manifest.complete is False and manifest.finish_reason == "crashed"


# -- offline: saved answers --------------------------------------------------------------------------------------
def spider() -> MiitLicencesSpider:
    crawler = get_crawler(MiitLicencesSpider, {"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    s = MiitLicencesSpider.from_crawler(crawler)
    s.retry_or_fail = lambda req, reason: s.page_failed(req.url, reason)  # no engine offline
    return s


def answer(name: str, path: str, meta: dict[str, Any], cls: type = TextResponse) -> TextResponse:
    url = f"{LIVE}{path}"
    return cls(url, body=(FIXTURES / name).read_bytes(), encoding="utf-8", request=Request(url, meta=meta))


def fixture_row(index: int = 0) -> dict[str, Any]:
    return json.loads((FIXTURES / "corpinfo_page1.json").read_text("utf-8"))["listyj"][index]


def test_getreporty_is_read_in_each_documented_form() -> None:
    filed = (FIXTURES / "getreporty.json").read_text("utf-8")
    assert parse_report_year(filed) == ReportYear("2025", filed)
    for name in ("getreporty_ssss.txt", "getreporty_ssss.json"):
        assert not parse_report_year((FIXTURES / name).read_text("utf-8")).filed
    assert not parse_report_year('{"ssss": "1"}').filed  # the key the 2026 client tests for
    with pytest.raises(ReportLayoutError):
        parse_report_year('{"CREDIT_CODE": "91640000LW5TDYP14Q"}')  # the old shape is not a year
    with pytest.raises(ValueError):
        parse_report_year('{"FILL_YEA')  # cut off: fetched again, never read as "no report"


def test_the_report_table_is_read_and_a_redesign_is_not() -> None:
    table = report_table(Selector(text=(FIXTURES / "qiyereport.html").read_text("utf-8")))
    assert table is not None and table["统一社会信用代码"] == "91640000LW5TDYP14Q" and table["填报年度"] == "2025"
    assert report_table(Selector(text=(FIXTURES / "qiyereport_no_report.html").read_text("utf-8"))) == {}
    assert report_table(Selector(text=(FIXTURES / "qiyereport_drifted.html").read_text("utf-8"))) is None


def test_a_licence_without_a_report_is_kept_with_its_uscc_null() -> None:
    s, row = spider(), fixture_row(1)
    for name in ("getreporty_ssss.txt", "getreporty_ssss.json"):
        (item,) = list(s.parse_report_year(answer(name, "/dxxzsp/corpinfo/getreporty", {"row": row})))
        assert isinstance(item, RecordItem) and item.natural_key == row["lic_id"]
        assert item.fields["uscc"] is None and item.raw["annual_report"] is None
        assert item.fields["licence_no"] == row["license_no"] and item.fields["business_types"]
    assert not s.incomplete_reasons


def test_a_filed_report_is_read_from_the_report_page() -> None:
    s, row = spider(), fixture_row(0)
    (request,) = list(s.parse_report_year(answer("getreporty.json", "/dxxzsp/corpinfo/getreporty",
                                                 {"row": row, "cookiejar": 0})))
    assert request.method == "GET" and request.url == (f"{LIVE}/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp?"
                                                       f"num={row['lic_id']}&type=yreport")
    assert request.headers[b"Referer"] == f"{LIVE}{SEARCH_PAGE}".encode()
    page = answer("qiyereport.html", request.url.removeprefix(LIVE), request.meta, HtmlResponse)
    (item,) = list(s.parse_report_page(page))
    assert item.fields["uscc"] == "91640000LW5TDYP14Q" == item.raw["annual_report"]["统一社会信用代码"]
    assert set(item.raw["annual_report"]) == {"统一社会信用代码"}  # not the company's phone, complaints, …
    assert item.url == request.url


def test_a_redesigned_report_page_is_layout_drift_not_a_null_uscc() -> None:
    s = spider()
    page = answer("qiyereport_drifted.html", "/dxxzsp/xkz/xkzgl/resource/qiyereport.jsp?num=x&type=yreport",
                  {"row": fixture_row(0)}, HtmlResponse)
    assert list(s.parse_report_page(page)) == []
    assert any("layout changed" in r and "指标名称" in r for r in s.incomplete_reasons)


def test_the_count_leads_to_pages_of_100_with_the_captcha_and_the_page_headers() -> None:
    s = spider()
    meta = {"term": "科技", "code": "AB12CD3", "cookiejar": 0, "tries": 1}
    response = TextResponse(f"{LIVE}/dxxzsp/corpinfo/getcorpinfocount.wf", body=b'{"c": 150}',
                            request=Request(f"{LIVE}/x", meta=meta))
    pages = list(s.parse_count(response))
    assert [p.url for p in pages] == [f"{LIVE}/dxxzsp/corpinfo/getcorpinfo.wf"] * 2
    for number, page in enumerate(pages, start=1):
        assert isinstance(page, FormRequest) and page.method == "POST"
        assert dict(urllib.parse.parse_qsl(page.body.decode())) == {
            "num": "科技", "type": "xuke", "code": "AB12CD3", "pageNum": str(number), "pageSize": "100"}
        assert page.headers[b"X-Requested-With"] == b"XMLHttpRequest"
        assert page.headers[b"Referer"] == f"{LIVE}{SEARCH_PAGE}".encode()
    assert s.expected["科技"] == 150


def test_a_wrong_captcha_is_asked_again_then_the_term_is_given_up() -> None:
    s = spider()
    wrong = (FIXTURES / "count_wrong_captcha.json").read_bytes()

    def count(tries: int) -> list[Any]:
        meta = {"term": "科技", "code": "AAAAAAA", "cookiejar": 3, "tries": tries}
        return list(s.parse_count(TextResponse(f"{LIVE}/x", body=wrong, request=Request(f"{LIVE}/x", meta=meta))))

    (again,) = count(1)
    assert again.url.endswith("/dxxzsp/corpinfo/getCode") and again.meta["tries"] == 2
    assert again.meta["cookiejar"] == 3  # the same session asks again
    assert count(3) == [] and any("rejected 3 times" in r for r in s.incomplete_reasons)


def test_each_licence_is_followed_once_across_terms() -> None:
    s = spider()
    body = (FIXTURES / "corpinfo_page1.json").read_bytes()

    def page(term: str) -> list[Any]:
        meta = {"term": term, "code": "AB12CD3", "cookiejar": 0, "tries": 1, "page": 1}
        return list(s.parse_page(TextResponse(f"{LIVE}/x", body=body, request=Request(f"{LIVE}/x", meta=meta))))

    first = page("科技")
    rows = json.loads(body)["listyj"]
    assert [dict(urllib.parse.parse_qsl(r.body.decode())) for r in first] == [{"num": r["lic_id"]} for r in rows]
    assert all(r.url.endswith("/dxxzsp/corpinfo/getreporty") for r in first)
    assert page("数据") == []  # the same licences found by another term
    assert s.received["科技"] == s.received["数据"] == len(rows)
