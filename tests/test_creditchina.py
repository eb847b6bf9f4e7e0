"""信用中国 行政处罚 (creditchina_penalties): the replica's contract, full crawls against its ground truth,
the faults that must end the source incomplete, offline parsing of saved responses, personal data."""

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
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder
from pipelines.stages import NormalisePipeline
from replica.server import Replica
from replica.world import World
from spiders.creditchina_penalties import replica as site
from spiders.creditchina_penalties.spider import (
    MAX_CAPTCHA_TRIES,
    CreditchinaPenaltiesSpider,
    domain_of,
    fine_unit,
    is_refused,
    penalty_fields,
)
from spiders.source import sources

SOURCE = "creditchina_penalties"
FIXTURES = sources()["creditchina_penalties"].fixtures


# -- the replica speaks the contract ----------------------------------------------------------------
class Client:
    """A browser-like session on the replica: one cookie jar."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.api = replica.site_url(site.HOST) + site.API

    def search(self, keyword: str, page: int) -> tuple[int, dict]:
        query = urllib.parse.urlencode({"keyword": keyword, "type": "行政处罚", "page": page, "pageSize": 10})
        try:
            with self.opener.open(f"{self.api}/typeNameAndCountSearch?{query}") as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def verify(self, answer: str | None = None) -> dict:
        self.opener.open(f"{self.api}/verify/getVerify?_v=1").read()
        if answer is None:  # the test hook stands in for a person reading the image
            sid = next(c.value for c in self.jar if c.name == "JSESSIONID")
            with urllib.request.urlopen(f"{self.replica.base_url}/__replica__/captcha?sid={sid}") as hook:
                answer = json.load(hook)["answer"]
        form = urllib.parse.urlencode({"verifyInput": answer}).encode()
        with self.opener.open(f"{self.api}/verify/checkVerify?_v=2", data=form) as reply:
            return json.load(reply)


def test_unverified_session_is_refused_until_the_captcha_passes(quiet_replica: Replica) -> None:
    client = Client(quiet_replica)
    assert client.search("公司", 1) == (500, {"status": 40001, "message": "请刷新后重试！", "data": None})
    assert client.verify("ZZZZ") == {"msg": "验证码错误", "code": 1}
    assert client.search("公司", 1)[0] == 500
    assert client.verify() == {"msg": "验证成功", "code": 0}
    status, payload = client.search("公司", 1)
    assert status == 200 and payload["status"] == 1 and payload["message"] == "成功"
    assert len(payload["data"]["list"]) == 10
    assert payload["data"]["totalSize"] == -(-payload["data"]["total"] // 10)


def test_pages_shift_when_the_late_penalty_arrives(quiet_replica: Replica, world: World) -> None:
    client = Client(quiet_replica)
    client.verify()
    late = site.late_penalty(world, 0)
    assert late is not None
    first = client.search("公司", 1)[1]["data"]
    second = client.search("公司", 2)[1]["data"]
    assert second["total"] == first["total"] + 1
    assert late.decision_no not in {row["entity"]["cf_wsh"] for row in first["list"]}
    assert second["list"][0] == first["list"][-1]  # the row that was last on page 1 is pushed to page 2
    again = client.search("公司", 1)[1]["data"]
    assert again["list"][0]["entity"]["cf_wsh"] == late.decision_no


def test_rows_render_dates_amounts_and_malformed_values(world: World) -> None:
    penalties = {p.decision_no: p for p in world.penalties if p.platform == "creditchina"}
    for penalty in penalties.values():
        entity = site.penalty_row(penalty)["entity"]
        if penalty.malformed and penalty.malformed.startswith("decided_on"):
            assert "30" in str(entity["cf_jdrq"]) and "2" in str(entity["cf_jdrq"])
        elif penalty.date_style == "epoch_ms":
            assert isinstance(entity["cf_jdrq"], int)
        elif penalty.date_style == "cn":
            assert entity["cf_jdrq"].endswith("日")
    malformed_fine = next(p for p in penalties.values() if p.malformed and p.malformed.startswith("fine"))
    assert site.penalty_row(malformed_fine)["entity"]["cf_nr_fk"] == "待定"
    twins = [p for p in world.at(0)["penalties"] if p.platform == "creditchina" and site.is_twin(p)]
    assert twins and len(site.listing(world, 0)) == len(world.ground_truth(0)[SOURCE]["records"]) + 2 + len(twins)


# -- full crawls ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, dict]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-creditchina"
    manifest = crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")
    return RunFolder(run_dir), manifest


def test_every_penalty_once_and_malformed_ones_quarantined(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, manifest = crawled
    assert manifest["complete"], manifest["incomplete_reasons"]
    truth = world.ground_truth(0)[SOURCE]
    keys = [r["natural_key"] for r in pq.read_table(folder.records(SOURCE)).to_pylist()]
    assert len(keys) == len(set(keys)) and set(keys) == truth["records"]
    quarantined = pq.read_table(folder.quarantine(SOURCE)).to_pylist()
    assert {q["natural_key"]: q["field"] for q in quarantined} == {
        key: reason.split(":", 1)[0] for key, reason in truth["quarantined"].items()}
    # Twins and the shifted listing were read more than once; the dedupe pipeline kept one of each.
    assert manifest["duplicates_dropped"] > 0
    assert manifest["expected_rows"] == len(site.listing(world, 0))


def test_fields_are_typed_as_the_world_published_them(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, _ = crawled
    penalties = {p.decision_no: p for p in world.penalties}
    for row in pq.read_table(folder.records(SOURCE)).to_pylist():
        fields, penalty = json.loads(row["fields_json"]), penalties[row["natural_key"]]
        assert fields["decided_on"] == penalty.decided_on.isoformat()
        assert fields["published_on"] == penalty.published_on.isoformat()
        fine = fields["fine_wan"] if penalty.amount_in_wan else fields["fine_yuan"]
        assert (fine is None and penalty.fine_yuan is None) or float(fine) == float(penalty.fine_yuan)
        assert fields.get("subject_uscc_raw") == penalty.subject.uscc  # a wrong check character stays raw
        assert fields["subject_uscc"] in (penalty.subject.uscc, None)
        assert fields["authority"] == penalty.authority and fields["domain"] == "telecom"


def test_personal_id_numbers_never_leave_unmasked(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, _ = crawled
    ids = {p.subject.person_id for p in world.penalties if p.platform == "creditchina" and p.subject.person_id}
    assert ids
    text = "".join(json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
                   for path in folder.path.glob("*.parquet"))
    assert all(pid not in text for pid in ids)
    assert all(f"{pid[:3]}{'*' * 13}{pid[-2:]}" in text for pid in ids)  # masked, still there


def test_a_week_later_repaired_penalties_are_gone(world: World, tmp_path: Path) -> None:
    with Replica(world) as later:
        later.epoch = 1
        manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=later.base_url, solver="replica")
    assert manifest["complete"], manifest["incomplete_reasons"]
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    before, after = world.ground_truth(0)[SOURCE]["records"], world.ground_truth(1)[SOURCE]["records"]
    assert keys == after and before - after and not (before - after) & keys


# -- offline parsing of saved responses ------------------------------------------------------------
def spider(**kwargs: Any) -> CreditchinaPenaltiesSpider:
    crawler = get_crawler(CreditchinaPenaltiesSpider, settings_dict={"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    made = CreditchinaPenaltiesSpider.from_crawler(crawler, base_url="https://public.creditchina.gov.cn", **kwargs)
    made.passes = {term: 1 for term in made.terms}
    return made


def saved(name: str, request: Request, status: int = 200) -> TextResponse:
    return TextResponse(request.url, status=status, body=(FIXTURES / name).read_bytes(), encoding="utf-8",
                        request=request)


def test_page_one_yields_its_rows_and_asks_for_the_other_pages() -> None:
    reader = spider(terms="公司")
    request = reader.page_request("公司", 1, 1)
    out = list(reader.parse_page(saved("penalties_page1.json", request)))
    items = [o for o in out if isinstance(o, RecordItem)]
    pages = [o.meta["page"] for o in out if isinstance(o, Request)]
    assert len(items) == 10 and pages == [2, 3, 4, 5, 6]  # total 54 → 6 pages of 10
    assert reader.expected["公司"] == 54 and reader.received["公司"] == 10
    assert all(i.record_type == "penalty" and i.natural_key == i.fields["decision_no"] for i in items)
    assert "table_name" not in items[0].raw and items[0].raw["entity"]["cf_wsh"] == items[0].natural_key


def test_a_page_with_a_new_total_restarts_the_listing() -> None:
    reader = spider(terms="公司")
    list(reader.parse_page(saved("penalties_page1.json", reader.page_request("公司", 1, 1))))
    out = list(reader.parse_page(saved("penalties_page2_shifted.json", reader.page_request("公司", 2, 1))))
    restart = [o for o in out if isinstance(o, Request)]
    assert [(r.meta["page"], r.meta["pass"]) for r in restart] == [(1, 2)]
    assert reader.passes["公司"] == 2 and reader.received["公司"] == 0
    assert sum(isinstance(o, RecordItem) for o in out) == 10  # its rows are still read (dedupe keeps one)
    stale = list(reader.parse_page(saved("penalties_page1.json", reader.page_request("公司", 3, 1))))
    assert reader.received["公司"] == 0 and not any(isinstance(o, Request) for o in stale)


def test_refusal_parks_requests_until_the_session_is_verified() -> None:
    reader = spider(terms="公司,服务部")
    first, second = reader.page_request("公司", 1, 1), reader.page_request("服务部", 1, 1)
    asked = list(reader.parse_page(saved("refused_40001.json", first, status=500)))
    assert [r.url.split("?")[0].rsplit("/", 1)[1] for r in asked] == ["getVerify"]
    assert list(reader.parse_page(saved("refused_40001.json", second, status=500))) == []  # parked
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify", meta={"tries": 1})
    ok = TextResponse(check.url, body='{"msg":"验证成功","code":0}'.encode(), encoding="utf-8", request=check)
    resent = list(reader.parse_check(ok))
    assert sorted(r.meta["term"] for r in resent) == ["公司", "服务部"]
    assert all(r.meta["gen"] == 1 for r in resent) and reader.parked == []


def test_a_captcha_rejected_too_often_ends_the_source_incomplete() -> None:
    reader = spider()
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify",
                    meta={"tries": MAX_CAPTCHA_TRIES})
    wrong = TextResponse(check.url, body='{"msg":"验证码错误","code":1}'.encode(), encoding="utf-8", request=check)
    assert list(reader.parse_check(wrong)) == []
    assert any("captcha rejected" in reason for reason in reader.incomplete_reasons)


def test_an_individuals_id_is_masked_by_the_pipeline() -> None:
    reader = spider(terms="服务部")
    request = reader.page_request("服务部", 1, 1)
    (item,) = [o for o in reader.parse_page(saved("individual_page1.json", request)) if isinstance(o, RecordItem)]
    raw_facts = item.raw["entity"]["cf_sy"]
    assert "公民身份号码" in raw_facts
    cleaned = NormalisePipeline(CreditchinaPenaltiesSpider.fields).process_item(item)
    assert not cleaned.problems
    assert "*" * 13 in cleaned.fields["facts"] and cleaned.fields["facts"] != raw_facts


def test_small_readers() -> None:
    assert is_refused(saved("refused_40001.json", Request("https://x/"), status=500))
    assert not is_refused(saved("individual_page1.json", Request("https://x/")))
    assert fine_unit("罚款金额（万元）") == "万元" and fine_unit("罚款金额(元)") == "元"
    assert fine_unit("罚款金额") is None
    assert domain_of("北京市通信管理局") == "telecom" and domain_of("杭州市市场监督管理局") is None
    row = {"entity": {"cf_wsh": "X", "cf_nr_fk": "0.2"}, "sencesMap": {"cf_nr_fk": "罚款金额(万元)"}}
    assert penalty_fields(row)["fine_wan"] == "0.2" and "fine_yuan" not in penalty_fields(row)


def test_a_fine_without_a_unit_is_quarantined() -> None:
    reader = spider()
    row = json.loads((FIXTURES / "individual_page1.json").read_text("utf-8"))["data"]["list"][0]
    row["entity"]["cf_nr_fk"] = "5000"
    row["sencesMap"]["cf_nr_fk"] = "罚款金额"
    item = reader.read_penalty(saved("individual_page1.json", Request("https://x/")), row)
    assert [p["field"] for p in item.problems] == ["fine_yuan"]
