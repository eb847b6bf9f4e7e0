"""信用中国 行政处罚 (creditchina_penalties): the replica's contract (registries.md §7.1, §1.2, §1.5), the old wrong
request refused, full crawls against the ground truth, offline parsing of saved responses, personal data."""

from __future__ import annotations

import http.cookiejar
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source
from pipelines.item_pipelines import NormalisePipeline
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders.creditchina_penalties import replica as site
from spiders.creditchina_penalties.spider import (
    DEFAULT_TERMS,
    CreditchinaPenaltiesSpider,
    domain_of,
    fine_unit,
    penalty_fields,
)
from spiders.platforms import creditchina_replica as cc
from spiders.platforms.creditchina import (
    MAX_CAPTCHA_ASKS,
    MAX_CAPTCHA_TRIES,
    PAGE_SIZE,
    Hit,
    entity_category,
    entity_search,
    is_refused,
    passed_check,
    site_list,
)
from spiders.source import sources
from tests.helpers import only_fault

SOURCE = "creditchina_penalties"
FIXTURES = sources()[SOURCE].fixtures
SEARCH = {"scenes": "defaultScenario", "tableName": "credit_xyzx_tyshxydm", "searchState": "2",
          "entityType": "1,2,4,5,6,7,8", "templateId": ""}


# -- the replica speaks the contract ----------------------------------------------------------------------
class Client:
    """A browser-like session on the replica: one cookie jar."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.api = replica.site_url(cc.HOST) + cc.API

    def get(self, path: str, method: str = "GET", **query: Any) -> tuple[int, dict]:
        request = urllib.request.Request(f"{self.api}{path}?{urllib.parse.urlencode(query)}", method=method)
        try:
            with self.opener.open(request) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as error:
            return error.code, json.load(error)

    def search(self, keyword: str, page: int = 1) -> tuple[int, dict]:
        return self.get("/catalogSearchHome", keyword=keyword, page=page, pageSize=10, **SEARCH)

    def category(self, entity: cc.Entity, page: int = 1, type_name: str = "行政管理", **extra: Any) -> dict:
        query = {"source": "", "type": type_name, "searchState": "1", "entityType": entity.entity_type,
                 "scenes": "defaultscenario", "keyword": entity.name, "tyshxydm": entity.code, "page": page,
                 "pageSize": 10, "pubSort": "desc", **extra}
        status, payload = self.get("/typeSourceSearch", **query)
        assert status == 200 and payload["status"] == 1, payload
        return payload["data"]

    def verify(self, answer: str | None = None, method: str = "POST") -> dict:
        self.opener.open(f"{self.api}/verify/getVerify?_v=1").read()
        if answer is None:  # the test hook stands in for a person reading the image
            with urllib.request.urlopen(f"{self.replica.base_url}/__replica__/captcha?sid={self.cookie('JSESSIONID')}"
                                        ) as hook:
                answer = json.load(hook)["answer"]
        form = urllib.parse.urlencode({"verifyInput": answer})
        if method == "GET":
            reply = self.opener.open(f"{self.api}/verify/checkVerify?_v=2&{form}")
        else:
            reply = self.opener.open(f"{self.api}/verify/checkVerify?_v=2", data=form.encode())
        with reply:
            return json.load(reply)

    def cookie(self, name: str) -> str | None:
        return next((c.value for c in self.jar if c.name == name), None)


def verified(replica: Replica) -> Client:
    client = Client(replica)
    assert client.verify() == {"msg": "验证成功", "code": 0}
    return client


def heavy_entity(world: World) -> cc.Entity:
    heavy = site.heavy_subject(world)
    return next(e for e in cc.entities(world) if e.name == heavy.name and e.code == heavy.uscc)


def test_unverified_session_is_refused_until_the_captcha_passes(quiet_replica: Replica) -> None:
    client = Client(quiet_replica)
    assert client.search("公司") == (500, {"status": 40001, "message": "请刷新后重试！", "data": None})
    assert client.verify("ZZZZ") == {"msg": "验证码错误", "code": 1}
    assert client.search("公司")[0] == 500 and client.cookie("vcode") is None
    assert client.verify() == {"msg": "验证成功", "code": 0}
    assert client.cookie("vcode") == "1"  # what 2026 pages watch for (§7.1)
    status, payload = client.search("公司")
    assert status == 200 and payload["status"] == 1 and payload["message"] == "成功"
    assert len(payload["data"]["list"]) == 10
    assert payload["data"]["totalSize"] == -(-payload["data"]["total"] // 10)
    # One capture names the check GET, another POST: the site takes both.
    other = Client(quiet_replica)
    assert other.verify(method="GET") == {"msg": "验证成功", "code": 0} and other.search("公司")[0] == 200


def test_entity_hits_carry_a_stable_recid_and_a_per_session_uuid(quiet_replica: Replica, world: World) -> None:
    one, two = verified(quiet_replica), verified(quiet_replica)
    first, second = one.search("公司")[1]["data"]["list"], two.search("公司")[1]["data"]["list"]
    assert set(first[0]) == {"accurate_entity_name", "accurate_entity_code", "uuid", "recid",
                             "accurate_entity_name_query", "entityType"}
    assert [h["recid"] for h in first] == [h["recid"] for h in second]
    assert all(a["uuid"] != b["uuid"] for a, b in zip(first, second, strict=True))
    company = world.companies[0]
    [hit] = one.search(company.uscc)[1]["data"]["list"]  # a USCC finds its entity exactly
    assert hit["accurate_entity_name"] == company.name and hit["accurate_entity_code"] == company.uscc
    assert one.search("")[1]["data"]["total"] == 0


def test_a_category_lists_the_entitys_penalties_and_licences(quiet_replica: Replica, world: World) -> None:
    client, entity = verified(quiet_replica), heavy_entity(world)
    rows = client.category(entity)["list"] + client.category(entity, page=2)["list"]
    tables = {row["table_name"] for row in rows}
    assert "credit_xyzx_fr_xzcf_new" in tables and "credit_xyzx_fr_xzxk_new" in tables
    assert any(t.startswith("credit_xyzx_fr_xzcf_20") for t in tables)  # a twin in its year table
    assert all(set(row) >= {"table_name", "entity", "columnList", "sencesMap", "dataSource"} for row in rows)
    assert {row["entity"]["cf_xdr_shxym"] for row in rows if "xzcf" in row["table_name"]} == {entity.code}
    only = client.category(entity, type_name="行政处罚")
    assert only["total"] == sum("xzcf" in row.payload["table_name"] for row in cc_rows(world, entity))
    assert client.category(entity, type_name="不存在的类别") == {"page": 1, "total": 0, "totalSize": 0, "list": []}
    # The entityType must be the hit's: a 个体工商户 asked as an organisation finds nothing.
    person = next(e for e in cc.entities(world) if e.entity_type == "2" and cc_rows(world, e))
    assert client.category(person)["total"] == len(cc_rows(world, person))
    assert client.category(person, entityType="1")["total"] == 0


def cc_rows(world: World, entity: cc.Entity, epoch: int = 0) -> list[cc.Row]:
    return cc.category_rows(world, epoch, entity, "行政管理")


def test_the_old_first_level_request_yields_companies_not_penalties(quiet_replica: Replica, world: World) -> None:
    """The first spider read penalties from typeNameAndCountSearch?type=行政处罚 (§7.1): its rows are companies."""
    client, rows, page = verified(quiet_replica), [], 1
    old = {"keyword": "公司", "type": "行政处罚", "searchState": "2", "entityType": "1,2,4,5,6,7,8", "pageSize": 10}
    while True:
        status, payload = client.get("/typeNameAndCountSearch", page=page, **old)
        assert status == 200 and payload["status"] == 1
        rows += payload["data"]["list"]
        if page >= payload["data"]["totalSize"]:
            break
        page += 1
    assert rows and all(set(row) == {"name", "count", "tyshxydm", "zzjgdm", "entity_type"} for row in rows)
    text = json.dumps(rows, ensure_ascii=False)
    truth = world.ground_truth(0)[SOURCE]
    assert not any(key in text for key in truth["records"] | set(truth["quarantined"]))
    assert sum(row["count"] for row in rows) >= len(truth["records"])  # it counts them, never lists them


def test_the_site_answers_unknown_paths_and_methods(quiet_replica: Replica) -> None:
    client = verified(quiet_replica)
    status, payload = client.get("/pub_penalty_name", name="公司")  # the legacy API (§1.3) is gone
    assert status == 404 and payload["error"] == "Not Found" and payload["path"] == "/private-api/pub_penalty_name"
    status, payload = client.get("/catalogSearchHome", method="POST", keyword="公司")
    assert status == 405 and payload["error"] == "Method Not Allowed"
    status, payload = client.get("/catalogSearch", tableName="credit_nothing_here", keyword="", page=1)
    assert status == 200 and payload["data"]["total"] == 0
    assert client.get("/info") == (200, {"status": 1, "message": "成功", "data": None})


def test_pages_shift_when_the_late_penalty_arrives(quiet_replica: Replica, world: World) -> None:
    client, entity = verified(quiet_replica), heavy_entity(world)
    late = site.late_penalty(world, 0)
    first, second = client.category(entity), client.category(entity, page=2)
    assert first["totalSize"] == 2 and second["total"] == first["total"] + 1
    assert late.decision_no not in {row["entity"].get("cf_wsh") for row in first["list"]}
    assert second["list"][0] == first["list"][-1]  # the row that was last on page 1 is pushed to page 2
    again = client.category(entity)["list"]
    assert late.decision_no in {row["entity"].get("cf_wsh") for row in again}


def test_the_default_terms_reach_every_penalised_subject_and_every_company(world: World) -> None:
    found = {(e.name, e.code) for term in DEFAULT_TERMS for e in cc.search(world, term)}
    assert {(p.subject.name, p.subject.uscc or "") for p in site.mine(world)} <= found
    assert {(c.name, c.uscc) for c in world.companies} <= found  # an operator without records is visited too


def test_rows_render_dates_amounts_and_malformed_values(world: World) -> None:
    penalties = {p.decision_no: p for p in site.mine(world)}
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


# -- full crawls --------------------------------------------------------------------------------------------
def expected_rows(world: World, epoch: int = 0, terms: tuple[str, ...] = DEFAULT_TERMS) -> int:
    """What a complete crawl of `terms` must count: every hit, every entity's whole category."""
    hits = [e for term in terms for e in cc.search(world, term)]
    return len(hits) + sum(len(cc_rows(world, e, epoch)) for e in {e.recid: e for e in hits}.values())


@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, dict]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-creditchina"
    manifest = crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")
    return RunFolder(run_dir), manifest


def test_every_penalty_once_and_malformed_ones_quarantined(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, manifest = crawled
    assert manifest.complete, manifest.incomplete_reasons
    truth = world.ground_truth(0)[SOURCE]
    keys = [r["natural_key"] for r in pq.read_table(folder.records(SOURCE)).to_pylist()]
    assert len(keys) == len(set(keys)) and set(keys) == truth["records"]
    quarantined = pq.read_table(folder.quarantine(SOURCE)).to_pylist()
    assert {q["natural_key"]: q["field"] for q in quarantined} == {
        key: reason.split(":", 1)[0] for key, reason in truth["quarantined"].items()}
    # Twins and the shifted listing were read more than once; the dedupe pipeline kept one of each.
    assert manifest.duplicates_dropped > 0
    # Every hit and every row of every entity's category, the late penalty included: the shifted listing
    # was read again (counting its first reading would miss one row).
    assert manifest.expected_rows == expected_rows(world)


def test_fields_are_typed_as_the_world_published_them(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, _ = crawled
    penalties = {p.decision_no: p for p in site.mine(world)}
    rows = pq.read_table(folder.records(SOURCE)).to_pylist()
    for row in rows:
        fields, penalty = json.loads(row["fields_json"]), penalties[row["natural_key"]]
        assert fields["decided_on"] == penalty.decided_on.isoformat()
        assert fields["published_on"] == penalty.published_on.isoformat()
        fine = fields["fine_wan"] if penalty.amount_in_wan else fields["fine_yuan"]
        assert (fine is None and penalty.fine_yuan is None) or float(fine) == float(penalty.fine_yuan)
        assert fields.get("subject_uscc_raw") == penalty.subject.uscc  # a wrong check character stays raw
        assert fields["subject_uscc"] in (penalty.subject.uscc, None)
        assert fields["authority"] == penalty.authority and fields["domain"] == "telecom"
        raw = json.loads(row["raw_json"])  # the row as published, less the table it came from
        assert set(raw) == {"entity", "columnList", "sencesMap", "dataSource", "data_catalog"}
        assert raw["entity"]["cf_wsh"] == row["natural_key"]


def test_personal_id_numbers_never_leave_unmasked(crawled: tuple[RunFolder, dict], world: World) -> None:
    folder, _ = crawled
    ids = {p.subject.person_id for p in site.mine(world) if p.subject.person_id}
    assert ids
    text = "".join(json.dumps(pq.read_table(path).to_pylist(), ensure_ascii=False)
                   for path in folder.path.glob("*.parquet"))
    assert all(pid not in text for pid in ids)
    assert all(f"{pid[:3]}{'*' * 13}{pid[-2:]}" in text for pid in ids)  # masked, still there


def test_a_week_later_repaired_penalties_are_gone(world: World, tmp_path: Path) -> None:
    with Replica(world) as later:
        later.epoch = 1
        manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=later.base_url, solver="replica")
    assert manifest.complete, manifest.incomplete_reasons
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    before, after = world.ground_truth(0)[SOURCE]["records"], world.ground_truth(1)[SOURCE]["records"]
    assert keys == after
    assert len(before - after) == 2 and len(after - before) == 1  # two repaired, one new
    assert manifest.expected_rows == expected_rows(world, 1)


def test_a_crawl_reads_in_one_session(world: World, tmp_path: Path) -> None:
    """The first request goes alone and its answer opens the session every later one shares. Sent together, the
    first requests opened a session each; a listing read partly in one and partly in another could miss the
    late penalty (hidden from a session until it reads page 1): once, under load, a complete week-1 crawl did."""
    with Replica(world, Faults.none()) as later:
        later.epoch = 1
        opened = set(later.sessions)
        manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=later.base_url, solver="replica")
        sessions = set(later.sessions) - opened
    assert manifest.complete, manifest.incomplete_reasons
    assert len(sessions) == 1
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    assert keys == world.ground_truth(1)[SOURCE]["records"]


def test_a_session_whose_check_expires_mid_crawl_is_verified_again(world: World, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # ~5 minutes live (§1.5). The replica's clock runs 0.1 s per look, so a check expires after some fifteen
    # looks however fast or slow the machine is (a wall-clock TTL made this depend on the load).
    clock = itertools.count()
    monkeypatch.setattr(cc, "time", SimpleNamespace(time=lambda: next(clock) / 10, time_ns=time.time_ns))
    monkeypatch.setattr(cc, "VERIFIED_TTL_SECONDS", 1.5)
    with Replica(world, Faults.none()) as short:
        manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=short.base_url, solver="replica")
        checks = short.hits[f"/{cc.HOST}{cc.API}/verify/checkVerify"]
    assert manifest.complete, manifest.incomplete_reasons
    assert checks > 1
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    assert keys == world.ground_truth(0)[SOURCE]["records"]


def test_a_check_whose_answer_was_cut_short_still_verifies_the_session(world: World, tmp_path: Path) -> None:
    # Every first attempt comes back cut short, the check's too: the site took the code (a code is good for
    # one check), so the retried check reads "验证码错误" although the session is verified. Counting that
    # as a wrong answer ended the source after three (the fault suite's occasional "captcha rejected").
    with Replica(world, only_fault("truncated")) as cut:
        manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=cut.base_url, solver="replica")
    assert manifest.complete, manifest.incomplete_reasons
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    assert keys == world.ground_truth(0)[SOURCE]["records"]


def test_a_watchlist_crawls_only_its_entities(quiet_replica: Replica, world: World, tmp_path: Path) -> None:
    heavy = heavy_entity(world)
    person = next(p.subject for p in site.mine(world, 0) if p.subject.person_id and not p.malformed)
    terms = f"{heavy.code},{person.name}"
    manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=quiet_replica.base_url, solver="replica",
                            spider_args={"terms": terms})
    assert manifest.complete, manifest.incomplete_reasons
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    wanted = {p.decision_no for p in site.mine(world, 0) if not p.malformed
              and (p.subject.uscc == heavy.code or p.subject is person)}
    assert keys == wanted and len(wanted) > PAGE_SIZE


def test_a_browser_session_reads_the_same_penalties(quiet_replica: Replica, world: World, tmp_path: Path) -> None:
    """Through Chromium (scrapy-playwright) the 40001 refusal arrives as HTTP 500 with the JSON inside the
    rendered page; the session is verified, the entity's pages shift and are read again, as without it."""
    assert Path("/usr/bin/chromium").exists(), "Debian's chromium is needed (apt-get install chromium)"
    heavy = heavy_entity(world)
    manifest = crawl_source(SOURCE, tmp_path / "run", replica_url=quiet_replica.base_url, solver="replica",
                            browser=True, timeout=300, spider_args={"terms": heavy.code})
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.browser_session is True
    keys = {r["natural_key"] for r in pq.read_table(RunFolder(tmp_path / "run").records(SOURCE)).to_pylist()}
    assert keys == {p.decision_no for p in site.mine(world, 0) if not p.malformed and p.subject.uscc == heavy.code}
    assert manifest.expected_rows == expected_rows(world, 0, (heavy.code,))  # the late row included


# -- offline parsing of saved responses ------------------------------------------------------------------------
def spider(**kwargs: Any) -> CreditchinaPenaltiesSpider:
    crawler = get_crawler(CreditchinaPenaltiesSpider, settings_dict={"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    return CreditchinaPenaltiesSpider.from_crawler(crawler, base_url="https://public.creditchina.gov.cn", **kwargs)


def saved(name: str, request: Request, status: int = 200) -> TextResponse:
    return TextResponse(request.url, status=status, body=(FIXTURES / name).read_bytes(), encoding="utf-8",
                        request=request)


def fixture_rows(name: str) -> list[dict]:
    return json.loads((FIXTURES / name).read_text("utf-8"))["data"]["list"]


def fixture_hit(name: str = "category_page1.json", entity_type: str = "1") -> Hit:
    """The entity a saved category page belongs to, as its entity-search hit would name it."""
    entity = next(r["entity"] for r in fixture_rows(name) if "xzcf" in r["table_name"])
    return Hit(entity["cf_xdr_mc"], entity["cf_xdr_shxym"], entity_type, cc.recid_of(entity["cf_xdr_mc"],
                                                                                  entity["cf_xdr_shxym"]))


def test_entity_search_visits_each_hit_once_with_its_own_parameters() -> None:
    reader = spider(terms="公司")
    request = reader.listing_request(entity_search("公司"), 1)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.url).query, keep_blank_values=True)
    assert request.url.split("?")[0].endswith("/private-api/catalogSearchHome")
    assert {k: v[0] for k, v in query.items()} == {"keyword": "公司", **SEARCH, "page": "1", "pageSize": "10"}
    out = list(reader.parse_listing(saved("entity_search_page1.json", request)))
    categories = [o for o in out if o.meta["listing"].path == "/typeSourceSearch"]
    pages = [o.meta["page"] for o in out if o.meta["listing"].path == "/catalogSearchHome"]
    assert pages == [2, 3, 4, 5, 6, 7] and len(categories) == 10  # 67 hits → 7 pages; 10 entities
    hits = fixture_rows("entity_search_page1.json")
    first = urllib.parse.parse_qs(urllib.parse.urlsplit(categories[0].url).query, keep_blank_values=True)
    assert {k: v[0] for k, v in first.items()} == {
        "source": "", "type": "行政管理", "searchState": "1", "entityType": hits[0]["entityType"],
        "scenes": "defaultscenario", "keyword": hits[0]["accurate_entity_name"],
        "tyshxydm": hits[0]["accurate_entity_code"], "page": "1", "pageSize": "10", "pubSort": "desc"}
    assert hits[0]["uuid"] not in categories[0].url  # the session's uuid is never a key (§1.2)
    assert reader.expected["search 公司"] == 67 and reader.received["search 公司"] == 10
    again = list(reader.parse_listing(saved("entity_search_page1.json", reader.listing_request(entity_search("公司"),
                                                                                               2))))
    assert not [o for o in again if o.meta["listing"].path == "/typeSourceSearch"]  # the same recids: visited


def test_a_category_page_yields_its_penalties_and_leaves_licences_out() -> None:
    reader = spider()
    request = reader.listing_request(entity_category(fixture_hit(), "行政管理"), 1)
    out = list(reader.parse_listing(saved("category_page1.json", request)))
    items = [o for o in out if isinstance(o, RecordItem)]
    pages = [o.meta["page"] for o in out if isinstance(o, Request)]
    rows = fixture_rows("category_page1.json")
    assert pages == [2] and len(items) == sum("xzcf" in r["table_name"] for r in rows) < len(rows)
    key = request.meta["listing"].key
    assert reader.expected[key] == 16 and reader.received[key] == 10  # licence rows count towards the total
    assert all(i.record_type == "penalty" and i.natural_key == i.fields["decision_no"] for i in items)
    assert "table_name" not in items[0].raw and items[0].raw["entity"]["cf_wsh"] == items[0].natural_key
    assert set(items[0].raw) == {"entity", "columnList", "sencesMap", "dataSource", "data_catalog"}


def test_a_page_with_a_new_total_reads_the_listing_again() -> None:
    reader, hit = spider(), fixture_hit()
    listing = entity_category(hit, "行政管理")
    list(reader.parse_listing(saved("category_page1.json", reader.listing_request(listing, 1))))
    out = list(reader.parse_listing(saved("category_page2_shifted.json", reader.listing_request(listing, 2))))
    restart = [o for o in out if isinstance(o, Request)]
    assert [(r.meta["page"], r.meta["pass"]) for r in restart] == [(1, 2)]
    assert reader.passes[listing.key] == 2 and reader.received[listing.key] == 0
    assert any(isinstance(o, RecordItem) for o in out)  # its rows are still read (dedupe keeps one)
    stale = list(reader.parse_listing(saved("category_page1.json", reader.listing_request(listing, 2, 1))))
    assert reader.received[listing.key] == 0 and not any(isinstance(o, Request) for o in stale)


def test_the_old_request_reads_no_penalty_from_company_rows() -> None:
    """A spider drifting back to typeNameAndCountSearch rows gets companies: no record, the source incomplete."""
    reader = spider()
    old = site_list("行政处罚", reader="read_category_row", search_state="2")
    out = list(reader.parse_listing(saved("site_list_companies.json", reader.listing_request(old, 1))))
    assert not [o for o in out if isinstance(o, RecordItem)]
    assert any("missing table_name, entity" in reason for reason in reader.incomplete_reasons)


def test_refusal_parks_requests_until_the_session_is_verified() -> None:
    reader = spider(terms="公司,服务部")
    first = reader.listing_request(entity_search("公司"), 1)
    second = reader.listing_request(entity_search("服务部"), 1)
    asked = list(reader.parse_listing(saved("refused_40001.json", first, status=500)))
    assert [r.url.split("?")[0].rsplit("/", 1)[1] for r in asked] == ["getVerify"]
    assert list(reader.parse_listing(saved("refused_40001.json", second, status=500))) == []  # parked
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify", meta={"tries": 1})
    ok = TextResponse(check.url, body='{"msg":"验证成功","code":0}'.encode(), encoding="utf-8", request=check)
    resent = list(reader.parse_check(ok))
    assert sorted(r.meta["listing"].key for r in resent) == ["search 公司", "search 服务部"]
    assert all(r.meta["gen"] == 1 for r in resent) and reader.parked == []


def test_a_check_passes_on_code_zero_or_the_vcode_cookie() -> None:
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify")

    def answer(body: str, cookie: str | None = None) -> TextResponse:
        headers = {"Set-Cookie": cookie} if cookie else {}
        return TextResponse(check.url, body=body.encode(), encoding="utf-8", request=check, headers=headers)

    assert passed_check(answer('{"msg":"验证成功","code":0}'), {"msg": "验证成功", "code": 0})
    assert passed_check(answer("{}", "vcode=1; Path=/"), {})
    assert not passed_check(answer('{"msg":"验证码错误","code":1}'), {"msg": "验证码错误", "code": 1})
    assert not passed_check(answer("{}", "vcode=; Path=/"), {})


def test_a_captcha_rejected_too_often_ends_the_source_incomplete() -> None:
    reader = spider()
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify",
                    meta={"tries": MAX_CAPTCHA_TRIES})
    wrong = TextResponse(check.url, body='{"msg":"验证码错误","code":1}'.encode(), encoding="utf-8", request=check)
    assert list(reader.parse_check(wrong)) == []
    assert any("captcha rejected" in reason for reason in reader.incomplete_reasons)


def test_a_rejection_after_a_refetched_captcha_is_not_counted_but_stays_bounded() -> None:
    # A captcha image fetched again may be replaced by the late answer of the lost first fetch.
    reader = spider()
    wrong = '{"msg":"验证码错误","code":1}'.encode()
    check = Request("https://public.creditchina.gov.cn/private-api/verify/checkVerify",
                    meta={"tries": MAX_CAPTCHA_TRIES, "asked": 1, "image_retried": True})
    (again,) = reader.parse_check(TextResponse(check.url, body=wrong, encoding="utf-8", request=check))
    assert again.meta["tries"] == MAX_CAPTCHA_TRIES and again.meta["asked"] == 2
    assert not reader.incomplete_reasons
    check = Request(check.url, meta={"tries": 1, "asked": MAX_CAPTCHA_ASKS, "image_retried": True})
    assert list(reader.parse_check(TextResponse(check.url, body=wrong, encoding="utf-8", request=check))) == []
    assert any(f"captcha rejected {MAX_CAPTCHA_ASKS} times" in r for r in reader.incomplete_reasons)


def test_an_individuals_id_is_masked_by_the_pipeline() -> None:
    reader = spider()
    request = reader.listing_request(entity_category(fixture_hit("category_individual.json", "2"), "行政管理"), 1)
    (item,) = [o for o in reader.parse_listing(saved("category_individual.json", request))
               if isinstance(o, RecordItem)]
    raw_facts = item.raw["entity"]["cf_sy"]
    assert "公民身份号码" in raw_facts
    cleaned = NormalisePipeline(CreditchinaPenaltiesSpider.fields).process_item(item)
    assert not cleaned.problems
    assert "*" * 13 in cleaned.fields["facts"] and cleaned.fields["facts"] != raw_facts


def test_small_readers() -> None:
    assert is_refused(saved("refused_40001.json", Request("https://x/"), status=500))
    assert not is_refused(saved("category_individual.json", Request("https://x/")))
    assert fine_unit("罚款金额（万元）") == "万元" and fine_unit("罚款金额(元)") == "元"
    assert fine_unit("罚款金额") is None
    assert domain_of("北京市通信管理局") == "telecom" and domain_of("杭州市市场监督管理局") is None
    row = {"entity": {"cf_wsh": "X", "cf_nr_fk": "0.2"}, "sencesMap": {"cf_nr_fk": "罚款金额(万元)"}}
    assert penalty_fields(row)["fine_wan"] == "0.2" and "fine_yuan" not in penalty_fields(row)


def test_a_fine_without_a_unit_is_quarantined() -> None:
    reader = spider()
    row = fixture_rows("category_individual.json")[0]
    row["entity"]["cf_nr_fk"] = "5000"
    row["sencesMap"]["cf_nr_fk"] = "罚款金额"
    item = reader.read_penalty(saved("category_individual.json", Request("https://x/")), row)
    assert [p["field"] for p in item.problems] == ["fine_yuan"]
