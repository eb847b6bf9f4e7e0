"""失信被执行人 (zxgk): a crawl of the replica (faults on, repeated rows across pages) equals its ground
truth; a missing solver, the 412 firewall and a redesign end the source incomplete; ID numbers are masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source, load, transform
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders.court_dishonest.replica import court_masked
from spiders.court_dishonest.spider import CourtDishonestSpider, refused, split_card_num
from spiders.source import sources

SOURCE = "court_dishonest"
FIXTURES = sources()["court_dishonest"].fixtures
LIVE = "https://zxgk.court.gov.cn"
PAGED = {"page_size": "2"}  # the replica holds few cases: small pages make paging (and its repeats) happen


def crawl(replica: Replica, run_dir: Path, solver: str = "replica") -> dict[str, Any]:
    return crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver=solver, spider_args=PAGED)


def rows(folder: RunFolder, quarantine: bool = False) -> list[dict[str, Any]]:
    return pq.read_table(folder.quarantine(SOURCE) if quarantine else folder.records(SOURCE)).to_pylist()


def assert_matches_truth(folder: RunFolder, truth: dict[str, Any]) -> None:
    keys = [r["natural_key"] for r in rows(folder)]
    assert len(keys) == len(set(keys))
    assert set(keys) == truth["records"]
    quarantined = rows(folder, quarantine=True)
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"])
    for q in quarantined:
        assert q["field"] == truth["quarantined"][q["natural_key"]].split(":")[0]


@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, dict[str, Any]]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-court"
    return RunFolder(run_dir), crawl(replica, run_dir)


# -- a crawl of the replica ---------------------------------------------------------------------------
def test_every_case_once_and_the_malformed_one_quarantined(crawled, world: World) -> None:
    folder, manifest = crawled
    assert manifest["complete"], manifest["incomplete_reasons"]
    assert_matches_truth(folder, world.ground_truth(0)[SOURCE])
    assert manifest["expected_rows"] >= len(world.ground_truth(0)[SOURCE]["records"])


def test_fields_are_typed_and_split_codes_from_id_numbers(crawled, world: World) -> None:
    folder, _ = crawled
    cases = {c.case_code: c for c in world.court_dishonest}
    people = 0
    for row in rows(folder):
        fields = json.loads(row["fields_json"])
        case = cases[row["natural_key"]]
        assert fields["subject_name"] == case.subject.name.strip()
        assert fields["published_on"] == case.published_on.isoformat()
        assert fields["registered_on"] == case.registered_on.isoformat()
        if case.subject.person_id:
            people += 1
            pid = case.subject.person_id
            assert fields["subject_id_number"] == pid[:3] + "*" * 13 + pid[-2:]
            assert fields["subject_uscc"] is None
        else:
            assert fields["subject_id_number"] is None
            assert fields["subject_uscc_raw"] == case.subject.uscc
    assert people >= 1


def test_no_id_number_leaves_the_archive_unmasked(crawled, world: World) -> None:
    folder, _ = crawled
    ids = [c.subject.person_id for c in world.court_dishonest if c.subject.person_id]
    assert ids
    text = json.dumps(rows(folder) + rows(folder, quarantine=True), ensure_ascii=False)
    for pid in ids:
        assert pid not in text  # the replica quotes it in full inside `duty`
        assert court_masked(pid) not in text  # the court's own mask keeps the birth year: ours does not
        assert pid[:3] + "*" * 13 + pid[-2:] in text


def test_epoch_one_drops_the_removed_case(world: World, tmp_path: Path) -> None:
    with Replica(world, Faults.none()) as replica:
        replica.epoch = 1
        manifest = crawl(replica, tmp_path / "run")
    assert manifest["complete"], manifest["incomplete_reasons"]
    truth = world.ground_truth(1)[SOURCE]
    assert_matches_truth(RunFolder(tmp_path / "run"), truth)
    gone = world.ground_truth(0)[SOURCE]["records"] - truth["records"]
    assert gone == {c.case_code for c in world.court_dishonest if c.epoch_removed == 1}


def test_the_firewall_412_without_its_cookie_blocks_the_source(world: World, tmp_path: Path) -> None:
    with Replica(world, Faults.none()) as replica:
        replica.zxgk_firewall = True
        manifest = crawl(replica, tmp_path / "run")
    assert manifest["complete"] is False and manifest["items"] == 0
    assert any("blocked" in r and "412" in r for r in manifest["incomplete_reasons"]), manifest["incomplete_reasons"]


def test_staging_types_the_cases(crawled, tmp_path: Path) -> None:
    folder, _ = crawled
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, folder.path)
    built = transform(warehouse, targets=["staging.stg_court__dishonest"])
    assert built["rows"]["staging.stg_court__dishonest"] == len(rows(folder))
    from warehouse.db import connect

    con = connect(warehouse)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'stg_court__dishonest'").fetchall())
    masked = con.execute("SELECT count(*) FROM staging.stg_court__dishonest "
                         "WHERE subject_id_number LIKE '___*************__'").fetchone()[0]
    con.close()
    assert types["published_on"] == "DATE" and types["registered_on"] == "DATE"
    assert masked >= 1


# -- offline: saved replica answers ---------------------------------------------------------------------
def spider(**kwargs: Any) -> CourtDishonestSpider:
    crawler = get_crawler(CourtDishonestSpider, {"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    return CourtDishonestSpider.from_crawler(crawler, **kwargs)


def answer(name: str, url: str, meta: dict[str, Any]) -> TextResponse:
    return TextResponse(url, body=(FIXTURES / name).read_bytes(), encoding="utf-8",
                        headers={"Content-Type": "application/json;charset=UTF-8"}, request=Request(url, meta=meta))


LIST_META = {"term": "公司", "captcha_id": "c" * 32, "code": "AB12", "tries": 1}


def test_a_list_page_asks_each_new_case_once_and_pages_on() -> None:
    s = spider(page_size="2")
    s.seen_ids["公司"] = {"770388034"}  # page 1 ended with this case; page 2 repeats it
    s.expect("公司", 6)
    out = list(s.parse_list(answer("search_page2.json", f"{LIVE}/shixin/searchSX.do", {**LIST_META, "page": 2})))
    details = [r for r in out if r.callback == s.parse_detail]
    pages = [r for r in out if r.callback == s.parse_list]
    assert [r.meta["case"] for r in details] == ["(2026)京0105执1004号"]
    assert "captchaId=" + "c" * 32 in details[0].url and "pCode=AB12" in details[0].url
    assert [r.meta["page"] for r in pages] == [3]
    assert s.received["公司"] == 1


def test_a_refused_captcha_while_paging_is_incomplete_not_empty() -> None:
    s = spider()
    url = f"{LIVE}/shixin/searchSX.do"
    assert list(s.parse_list(answer("refused.json", url, {**LIST_META, "page": 1}))) == []
    assert any("captcha expired" in r for r in s.incomplete_reasons)


def test_a_person_detail_keeps_the_number_for_the_masking_pipeline() -> None:
    (item,) = spider().parse_detail(answer("detail_person.json", f"{LIVE}/shixin/disDetailNew", {"case": "x"}))
    detail = json.loads((FIXTURES / "detail_person.json").read_text("utf-8"))
    assert item.natural_key == detail["caseCode"]
    assert item.fields["subject_id_number"] == detail["cardNum"] and "****" in detail["cardNum"]
    assert item.fields["subject_uscc"] is None
    assert item.fields["published_on"] == detail["publishDate"]


def test_a_company_detail_carries_its_code() -> None:
    (item,) = spider().parse_detail(answer("detail_company.json", f"{LIVE}/shixin/disDetailNew", {"case": "x"}))
    detail = json.loads((FIXTURES / "detail_company.json").read_text("utf-8"))
    assert item.fields["subject_uscc"] == detail["cardNum"] and item.fields["subject_id_number"] is None
    assert item.fields["legal_rep"] == detail["businessEntity"]


def test_a_detail_without_its_keys_is_layout_drift() -> None:
    s = spider()
    url = f"{LIVE}/shixin/disDetailNew"
    drifted = TextResponse(url, body=b'{"inameV2": "x"}', encoding="utf-8", request=Request(url, meta={"case": "x"}))
    assert list(s.parse_detail(drifted)) == []
    assert any("layout changed" in r and "caseCode" in r for r in s.incomplete_reasons)


def test_split_card_num() -> None:
    assert split_card_num("3728271963****8934", {}) == (None, "3728271963****8934")
    assert split_card_num("91110000MKMGX7XMHH", {}) == ("91110000MKMGX7XMHH", None)
    assert split_card_num("12345678-9", {"sexy": "男性"}) == (None, "12345678-9")
    assert split_card_num("", {}) == (None, None)


def test_refused_recognises_the_captcha_answer_only() -> None:
    assert refused(json.loads((FIXTURES / "refused.json").read_text("utf-8")))
    assert not refused([{"result": [], "totalSize": 0, "totalPage": 0}])
    assert not refused({"message": "系统繁忙"})


def test_page_size_is_checked() -> None:
    with pytest.raises(ValueError, match="page_size"):
        spider(page_size="500")
