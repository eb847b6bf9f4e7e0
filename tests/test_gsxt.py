"""国家企业信用信息公示系统 (gsxt): the replica speaks the app API, and a crawl of it (faults on) equals the
replica's ground truth; epoch 1 shows removals as changed listings; firewalls and drift end it incomplete."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source
from pipelines.items import RecordItem
from pipelines.normalise import clean_text, mask_id_number
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders.gsxt_records import replica as gsxt
from spiders.gsxt_records.spider import GsxtRecordsSpider, listing_key, strip_markup
from spiders.source import sources
from tests.helpers import assert_incomplete_because, only_fault
from transforms.build import build
from warehouse.db import connect
from warehouse.load import load_run

FIXTURES = sources()["gsxt_records"].fixtures
SOURCE = "gsxt_records"
STAGING = ["staging.stg_gsxt__abnormal_operations", "staging.stg_gsxt__serious_illegal", "staging.stg_gsxt__penalties"]


def _crawl(world: World, run_dir: Path, epoch: int = 0, faults: Faults | None = None, granted: bool = True) -> dict:
    with Replica(world, faults) as replica:
        replica.epoch = epoch
        gsxt.browser_session(replica, granted)
        return crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")


@pytest.fixture(scope="module")
def runs(world: World, tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[RunFolder, dict]]:
    """One crawl per epoch, with the replica's default faults on."""
    out = {}
    for epoch in (0, 1):
        run_dir = tmp_path_factory.mktemp("gsxt") / f"2026112{3 + epoch}T000000Z-e{epoch}"
        out[epoch] = (RunFolder(run_dir), _crawl(world, run_dir, epoch))
    return out


def _records(folder: RunFolder) -> dict[str, dict[str, Any]]:
    rows = pq.read_table(folder.records(SOURCE)).to_pylist()
    assert len(rows) == len({r["natural_key"] for r in rows}), "a record was written twice"
    return {r["natural_key"]: r for r in rows}


def _fields(row: dict[str, Any]) -> dict[str, Any]:
    return json.loads(row["fields_json"])


# -- (a) a full crawl equals the ground truth ------------------------------------------------------------

@pytest.mark.parametrize("epoch", [0, 1])
def test_crawl_equals_ground_truth_and_quarantines_the_malformed(runs: dict, world: World, epoch: int) -> None:
    folder, manifest = runs[epoch]
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.retries > 0  # default faults were injected and recovered from
    truth = world.ground_truth(epoch)[SOURCE]
    assert set(_records(folder)) == truth["records"]
    quarantined = pq.read_table(folder.quarantine(SOURCE)).to_pylist()
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"]) != set()
    for q in quarantined:
        assert q["field"] == truth["quarantined"][q["natural_key"]].split(":")[0] and q["reason"]


def test_fields_are_read_as_published(runs: dict, world: World) -> None:
    records = _records(runs[0][0])
    entity_of = {id(p): e for e in gsxt.entities(world) for p in e.penalties}
    bad = gsxt.site_malformed(world)
    seen_units = set()
    for p in world.at(0)["penalties"]:
        if p.platform != "gsxt" or p.decision_no in bad:
            continue
        fields = _fields(records[p.decision_no])
        entity = entity_of[id(p)]
        assert fields["subject_name"] == clean_text(entity.name)  # markup stripped, script kept
        assert fields["subject_uscc_raw" if entity.uscc else "subject_uscc"] == (entity.uscc or None)
        assert fields["decided_on"] == p.decided_on.isoformat()
        assert fields["authority"] == p.authority
        assert (fields["fine_wan"] and json.loads(fields["fine_wan"])) == (p.fine_yuan and int(p.fine_yuan))
        seen_units.add(p.amount_in_wan)
    assert seen_units == {True, False}  # both 万元 and 元 renderings were read
    names = {_fields(r)["subject_name"] for r in records.values()}
    assert any(re.search("[網華啓術]", n) for n in names)  # traditional names survive, GBK pages included


# -- (b) epoch 1: gone, new, and changed ---------------------------------------------------------------

def test_epoch_one_removals_are_changes_and_penalties_come_and_go(runs: dict, world: World) -> None:
    before, after = _records(runs[0][0]), _records(runs[1][0])
    gone = {p.decision_no for p in world.penalties if p.platform == "gsxt" and p.epoch_removed == 1}
    new = {p.decision_no for p in world.penalties if p.platform == "gsxt" and p.epoch_added == 1}
    assert gone and new
    assert gone <= set(before) and not gone & set(after)
    assert new <= set(after) and not new & set(before)
    changed = [a for a in world.abnormal_listings if a.removed_in_epoch == 1]
    assert changed
    # Keyed on the entity's USCC, not on pripid (whose query-time suffix changed between the two crawls, §7.2).
    code = {a.subject.name: e.uscc or e.name for e in gsxt.entities(world) for a in e.abnormal}
    for listing in changed:
        row = gsxt.abnormal_row(listing, 0)
        key = listing_key(code[listing.subject.name], row["abntime"], row["speCause_CN"])
        assert _fields(before[key])["removed_on"] is None
        assert _fields(after[key])["removed_on"] == listing.removed_on.isoformat()
        assert _fields(after[key])["removal_reason"] == listing.removal_reason
        assert before[key]["content_hash"] != after[key]["content_hash"]


# -- (c) what must end the source incomplete ---------------------------------------------------------------

def test_without_a_browser_session_the_firewall_blocks_the_source(world: World, tmp_path: Path) -> None:
    # (challenge pages and layout drift: tests/test_fault_suite.py, for every source)
    manifest = _crawl(world, tmp_path / "run", faults=only_fault(None), granted=False)
    assert_incomplete_because(manifest, "HTTP 521 firewall challenge (加速乐")
    assert manifest.items == 0


# -- (e) personal data -------------------------------------------------------------------------------------

def test_an_individuals_id_number_is_served_but_never_stored_unmasked(runs: dict, world: World) -> None:
    ids = {p.subject.person_id for p in world.at(0)["penalties"] if p.platform == "gsxt" and p.subject.person_id}
    assert ids
    folder = runs[0][0]
    stored = json.dumps(pq.read_table(folder.records(SOURCE)).to_pylist(), ensure_ascii=False)
    stored += json.dumps(pq.read_table(folder.quarantine(SOURCE)).to_pylist(), ensure_ascii=False)
    for number in ids:
        assert number not in stored
        assert mask_id_number(number) in stored  # it was published (in penContent) and kept, masked


# -- the replica's contract ------------------------------------------------------------------------------------

@pytest.fixture
def site(world: World) -> Iterator[tuple[Replica, str]]:
    with Replica(world, Faults.none()) as replica:
        yield replica, replica.site_url(gsxt.HOST)


def _search(url: str, word: str, page: int, headers: dict[str, str] | None = None) -> dict:
    form = urllib.parse.urlencode({"conditions": "{}", "searchword": word, "sourceType": "W"}).encode()
    request = urllib.request.Request(f"{url}/gsxt/corp-query-app-search-{page}.html", data=form, headers=headers or {})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)["data"]["result"]


def test_without_clearance_521_and_the_script_computes_the_cookie(site: tuple[Replica, str]) -> None:
    _replica, url = site
    with pytest.raises(urllib.error.HTTPError) as refused:
        _search(url, "科技", 1)
    assert refused.value.code == 521
    script = refused.value.read().decode()
    jsluid = refused.value.headers["Set-Cookie"].split(";")[0]
    # What a browser running the script would set; creditwatch itself never does this.
    clearance = "".join(re.findall(r"'([^']*)'", script.split("document.cookie=")[1])[:3]).split(";")[0]
    result = _search(url, "科技", 1, {"Cookie": f"{jsluid}; {clearance}"})
    assert result["recordsTotal"] > 0


def test_search_highlights_repeats_page_boundaries_and_covers_every_match(site: tuple[Replica, str],
                                                                          world: World) -> None:
    replica, url = site
    gsxt.browser_session(replica)
    first = _search(url, "科技", 1)
    assert "<font color=red>科技</font>" in first["data"][0]["entName"]
    pages = [first] + [_search(url, "科技", p) for p in range(2, first["totalPage"] + 1)]
    assert pages[1]["data"][0] == pages[0]["data"][-1]  # the boundary row repeats
    found = {row["pripid"] for page in pages for row in page["data"]}
    expected = {gsxt.published_pripid(replica, e) for e in gsxt.entities(world) if "科技" in e.name}
    assert found == expected and first["recordsTotal"] == len(expected)


def test_pripid_carries_a_query_time_that_changes_between_sessions(site: tuple[Replica, str], world: World) -> None:
    """§7.2: the pripid ends in a query time (epoch ms) that changes per session; the entity pages answer the
    pripid as the search gave it, and nothing for the bare id."""
    replica, url = site
    gsxt.browser_session(replica)
    entity = next(e for e in gsxt.entities(world) if e.penalties)
    week0 = gsxt.published_pripid(replica, entity)
    assert re.fullmatch(rf"{entity.pripid}-\d{{13}}", week0)
    replica.epoch = 1
    try:
        assert gsxt.published_pripid(replica, entity) != week0
    finally:
        replica.epoch = 0
    path = "/gsxt/corp-query-entprise-info-punishmentdetail-{}.html?nodeNum=" + entity.node + "&start=0"
    with urllib.request.urlopen(url + path.format(week0)) as answer:
        assert json.loads(answer.read().decode("gbk" if entity.node in gsxt.GBK_NODES else "utf-8"))["data"]
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(url + path.format(entity.pripid))


def test_entity_pages_of_some_nodes_are_gbk(site: tuple[Replica, str], world: World) -> None:
    replica, url = site
    gsxt.browser_session(replica)
    entity = next(e for e in gsxt.entities(world) if e.node in gsxt.GBK_NODES and e.penalties)
    pripid = gsxt.published_pripid(replica, entity)
    path = f"/gsxt/corp-query-entprise-info-punishmentdetail-{pripid}.html?nodeNum={entity.node}&start=0"
    with urllib.request.urlopen(url + path) as answer:
        assert answer.headers["Content-Type"] == "text/html;charset=GBK"
        body = answer.read()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert json.loads(body.decode("gbk"))["data"][0]["penDecNo"] == entity.penalties[0].decision_no


# -- (d) offline parsing of saved replica responses ------------------------------------------------------------

@pytest.fixture
def spider() -> GsxtRecordsSpider:
    return GsxtRecordsSpider.from_crawler(get_crawler(GsxtRecordsSpider))


def _response(name: str, url: str, meta: dict, content_type: str = "application/json;charset=UTF-8") -> TextResponse:
    cls = HtmlResponse if content_type.startswith("text/html") else TextResponse
    return cls(url, body=(FIXTURES / name).read_bytes(), headers={"Content-Type": content_type},
               request=Request(url, meta=meta))


ENTITY = {"pripid": "D91EFFF2D70336001A2F000003-1618992356543", "entName": "成都華凱網絡科技股份有限公司",
          "nodeNum": "510000", "entType": "1", "uniscId": "91510000KYL2TKM3WK"}


def test_search_page_strips_markup_pages_on_and_counts_distinct_entities(spider: GsxtRecordsSpider) -> None:
    spider.found["科技"] = set()
    out = list(spider.parse_search(_response("search_1.json", "http://x/s-1", {"term": "科技", "page": 1})))
    pages = [r for r in out if "app-search" in r.url]
    bases = [r for r in out if "entbaseInfo" in r.url]
    assert [r.meta["page"] for r in pages] == [2, 3, 4]
    assert len(bases) == 10 and all("<" not in r.meta["entity"]["entName"] for r in bases)
    out2 = list(spider.parse_search(_response("search_2.json", "http://x/s-2", {"term": "科技", "page": 2})))
    assert len(out2) == 9  # the repeated boundary row is not fetched again
    assert spider.expected["search 科技"] == 36 and spider.received["search 科技"] == 19
    assert strip_markup("北京<font color=red>科技</font>有限公司") == "北京科技有限公司"


def test_gbk_pages_decode_and_read_into_a_penalty(spider: GsxtRecordsSpider) -> None:
    base = _response("entbaseinfo.gbk", "http://x/b", {"entity": {k: v for k, v in ENTITY.items() if k != "uniscId"}},
                     "text/html;charset=GBK")
    sections = list(spider.parse_base(base))
    assert [r.meta["section"] for r in sections] == ["entBusExcep", "illInfo", "punishmentdetail"]
    assert sections[0].meta["entity"]["uniscId"] == ENTITY["uniscId"]
    page = _response("punishmentdetail.gbk", "http://x/p",
                     {"entity": ENTITY, "section": "punishmentdetail", "start": 0}, "text/html;charset=GBK")
    [item] = list(spider.parse_section(page))
    assert isinstance(item, RecordItem) and item.record_type == "penalty"
    assert item.natural_key == "苏市监处罚〔2026〕108号"
    assert item.fields["subject_name"] == "成都華凱網絡科技股份有限公司"
    assert item.fields["decided_on"] == 1770220800000 and item.fields["authority"] == "南京市市场监督管理局"


def test_listing_pages_beyond_the_first_are_requested_and_keys_come_from_raw_values(spider: GsxtRecordsSpider) -> None:
    page = _response("entbusexcep_start0.json", "http://x/e", {"entity": ENTITY, "section": "entBusExcep", "start": 0})
    out = list(spider.parse_section(page))
    follow = [r for r in out if isinstance(r, Request)]
    items = [r for r in out if isinstance(r, RecordItem)]
    assert [r.meta["start"] for r in follow] == [5] and "start=5" in follow[0].url
    assert len(items) == 5 and spider.expected[f"entBusExcep {ENTITY['pripid']}"] == 7
    assert items[4].natural_key.startswith(f"{ENTITY['uniscId']}|1499011200000|")  # never the pripid (§7.2)
    assert len({i.natural_key for i in items}) == 5
    assert items[2].fields["removed_on"] == "2020-01-10" and items[0].fields["removed_on"] == ""


def test_a_521_page_or_a_drifted_row_marks_the_source_incomplete(spider: GsxtRecordsSpider) -> None:
    challenge = HtmlResponse("http://x/s", status=521, body=b"<script>document.cookie=('__jsl_clearance=1')</script>",
                             request=Request("http://x/s", meta={"term": "科技", "page": 1}))
    assert list(spider.parse_search(challenge)) == []
    drifted = TextResponse("http://x/p", body=json.dumps({"recordsTotal": 1, "data": [{"penDecNoV2": "x"}]}).encode(),
                           request=Request("http://x/p", meta={"entity": ENTITY, "section": "punishmentdetail",
                                                                "start": 0}))
    assert list(spider.parse_section(drifted)) == []
    reasons = spider.incomplete_reasons
    assert any("521" in r for r in reasons) and any("missing penDecNo" in r for r in reasons)


# -- staging models ---------------------------------------------------------------------------------------------

def test_staging_models_rename_and_cast(runs: dict, world: World, tmp_path: Path) -> None:
    con = connect(tmp_path / "w.duckdb")
    load_run(con, runs[0][0].path)
    build(con, targets=STAGING)
    counts = {name: con.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for name in STAGING}
    truth = world.ground_truth(0)[SOURCE]["records"]
    assert sum(counts.values()) == len(truth) and all(counts.values())
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'stg_gsxt__penalties'").fetchall())
    assert types["decided_on"] == "DATE" and types["fine_yuan"] == "DECIMAL(18,2)"
    fines = dict(con.execute("SELECT decision_no, fine_yuan FROM staging.stg_gsxt__penalties").fetchall())
    for p in world.at(0)["penalties"]:
        if p.decision_no in fines:
            assert fines[p.decision_no] == p.fine_yuan
    listed = con.execute("SELECT min(listed_on), count(removed_on) "
                         "FROM staging.stg_gsxt__abnormal_operations").fetchone()
    assert listed[0] is not None and listed[1] == sum(1 for a in world.abnormal_listings
                                                      if a.removed_on and a.removed_in_epoch is None)
    con.close()


def test_two_sessions_with_different_pripid_suffixes_change_nothing(world: World, tmp_path: Path) -> None:
    """§7.2: the same week crawled in two sessions (each replica start gives pripid a new query-time suffix)
    loads as 0 new, 0 changed, 0 removed: nothing is keyed on pripid."""
    suffixes = []
    con = connect(tmp_path / "w.duckdb")
    try:
        for n in (1, 2):
            run_dir = tmp_path / f"2026112{n}T000000Z-s{n}"
            with Replica(world, Faults.none()) as replica:
                gsxt.browser_session(replica)
                suffixes.append(gsxt.published_pripid(replica, gsxt.entities(world)[0]).rsplit("-", 1)[1])
                assert crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica").complete
            loaded = load_run(con, run_dir)
        assert suffixes[0] != suffixes[1]
        assert (loaded.new, loaded.changed, loaded.removed) == (0, 0, 0)
    finally:
        con.close()
