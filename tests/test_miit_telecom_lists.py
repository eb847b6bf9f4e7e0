"""MIIT 电信业务经营不良名单/失信名单 notices: a crawl of the replica (faults on) equals its ground truth;
HTML tables, GBK pages, .xlsx attachments and image-only notices are read offline from saved pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source, load, transform
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders.miit_telecom_lists.spider import MiitTelecomListsSpider, list_kind, notice_id, table_rows
from spiders.source import sources

SOURCE = "miit_telecom_lists"
FIXTURES = sources()["miit_telecom_lists"].fixtures
LIVE = "https://www.miit.gov.cn"


def crawl(replica: Replica, run_dir: Path) -> dict[str, Any]:
    return crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")


def rows(folder: RunFolder, quarantine: bool = False) -> list[dict[str, Any]]:
    path = folder.quarantine(SOURCE) if quarantine else folder.records(SOURCE)
    return pq.read_table(path).to_pylist()


def entries_by_key(world: World) -> dict[str, Any]:
    return {e.key: (n, e) for n in world.telecom_notices for e in n.entries}


@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, dict[str, Any]]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-miitlists"
    return RunFolder(run_dir), crawl(replica, run_dir)


# -- a crawl of the replica ---------------------------------------------------------------------------
def assert_matches_truth(folder: RunFolder, truth: dict[str, Any]) -> None:
    keys = [r["natural_key"] for r in rows(folder)]
    assert len(keys) == len(set(keys))
    assert set(keys) == truth["records"]
    quarantined = rows(folder, quarantine=True)
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"])
    for key, reason in truth["quarantined"].items():
        fields = {q["field"] for q in quarantined if q["natural_key"] == key}
        assert reason.split(":")[0] in fields, (key, fields)


def test_every_entry_once_and_the_unreadable_in_quarantine(crawled, world: World) -> None:
    folder, manifest = crawled
    assert manifest["complete"], manifest["incomplete_reasons"]
    assert_matches_truth(folder, world.ground_truth(0)[SOURCE])


def test_the_image_notice_is_a_reported_gap_with_its_url(crawled, world: World) -> None:
    folder, _ = crawled
    images = [n for n in world.telecom_notices if n.format == "image"]
    quarantined = [q for q in rows(folder, quarantine=True) if q["field"] == "notice"]
    assert sorted(q["natural_key"] for q in quarantined) == sorted(n.notice_id for n in images)
    assert all(f"id={q['natural_key']}" in q["url"] and "image" in q["reason"] for q in quarantined)


def test_fields_are_read_from_tables_gbk_pages_and_attachments(crawled, world: World) -> None:
    folder, _ = crawled
    expected = entries_by_key(world)
    formats = set()
    for row in rows(folder):
        fields = json.loads(row["fields_json"])
        notice, entry = expected[row["natural_key"]]
        formats.add(notice.format)
        assert fields["subject_name"] == entry.subject.name
        assert fields["subject_uscc"] == entry.subject.uscc
        assert fields["licence_no"] == entry.licence_no
        assert fields["decided_on"] == entry.decided_on.isoformat()
        assert fields["list_kind"] == entry.list_kind
        assert fields["unit"] == entry.unit
        assert fields["notice_published_on"] == notice.published_on.isoformat()
    assert formats == {"html", "xlsx"}


def test_epoch_one_brings_the_new_notice(world: World, tmp_path: Path) -> None:
    with Replica(world, Faults.none()) as replica:
        replica.epoch = 1
        manifest = crawl(replica, tmp_path / "run")
    assert manifest["complete"], manifest["incomplete_reasons"]
    truth = world.ground_truth(1)[SOURCE]
    assert_matches_truth(RunFolder(tmp_path / "run"), truth)
    new = truth["records"] - world.ground_truth(0)[SOURCE]["records"]
    assert new and all(key.startswith("n202611bad-") for key in new)


def test_truncated_pages_are_fetched_again_not_read_as_short(world: World, tmp_path: Path) -> None:
    faults = Faults.none()
    faults.truncated = 1.0  # every first answer cut in half: HTML, xlsx alike
    with Replica(world, faults) as replica:
        manifest = crawl(replica, tmp_path / "run")
    assert manifest["complete"], manifest["incomplete_reasons"]
    assert manifest["retries"] > 0
    assert_matches_truth(RunFolder(tmp_path / "run"), world.ground_truth(0)[SOURCE])


def test_staging_types_the_entries(crawled, tmp_path: Path) -> None:
    folder, _ = crawled
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, folder.path)
    built = transform(warehouse, targets=["staging.stg_miit__telecom_list_entries"])
    assert built["rows"]["staging.stg_miit__telecom_list_entries"] == len(rows(folder))
    from warehouse.db import connect

    con = connect(warehouse)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'stg_miit__telecom_list_entries'").fetchall())
    kinds = {r[0] for r in con.execute(
        "SELECT DISTINCT list_kind FROM staging.stg_miit__telecom_list_entries").fetchall()}
    con.close()
    assert types["decided_on"] == "DATE" and types["notice_published_on"] == "DATE"
    assert kinds == {"bad", "dishonest"}


# -- offline: saved replica pages -------------------------------------------------------------------------
def spider() -> MiitTelecomListsSpider:
    crawler = get_crawler(MiitTelecomListsSpider, {"CREDITWATCH_CAPTCHA_SOLVER": "none"})
    return MiitTelecomListsSpider.from_crawler(crawler)


def html(name: str, url: str, meta: dict[str, Any] | None = None, header: str = "text/html") -> HtmlResponse:
    return HtmlResponse(url, body=(FIXTURES / name).read_bytes(), headers={"Content-Type": header},
                        request=Request(url, meta=meta or {}))


def notice(name: str, key: str) -> list[Any]:
    url = f"{LIVE}/jgsj/xgj/gzdt/art/detail.html?id={key}"
    return list(spider().parse_notice(html(name, url, {"listed_title": "", "listed_on": None})))


def test_list_pages_pick_list_notices_and_skip_repeated_rows() -> None:
    s = spider()
    first = list(s.parse_list(html("list_page1.html", f"{LIVE}/jgsj/xgj/gzdt/index.html?page=1", {"page": 1})))
    notices = [notice_id(r.url) for r in first if r.callback == s.parse_notice]
    # The policy notice naming both lists (and nobody) is not followed.
    assert notices == ["n202610bad", "n202607dishonest"]
    assert [r.meta["page"] for r in first if r.callback == s.parse_list] == [2]
    second = list(s.parse_list(html("list_page2.html", f"{LIVE}/jgsj/xgj/gzdt/index.html?page=2", {"page": 2})))
    assert [notice_id(r.url) for r in second if r.callback == s.parse_notice] == ["n202607bad", "n202604bad"]
    assert s.received["notice list"] == 9  # 10 rows shown, one repeated from page 1
    assert all(r.url.startswith(LIVE + "/jgsj/") for r in first + second)


def test_a_gbk_page_declared_gb2312_reads_as_chinese(world: World) -> None:
    items = notice("notice_table_gbk.html", "n202607dishonest")
    assert b"charset=\"gb2312\"" in (FIXTURES / "notice_table_gbk.html").read_bytes()
    expected = entries_by_key(world)
    assert [i.natural_key for i in items] == [e.key for e in world.telecom_notices[2].entries]
    for item in items:
        assert isinstance(item, RecordItem)
        assert item.fields["subject_name"] == expected[item.natural_key][1].subject.name
        assert item.fields["list_kind"] == "dishonest"


def test_an_impossible_date_is_kept_raw_for_the_pipeline_to_quarantine() -> None:
    items = notice("notice_table.html", "n202604bad")
    assert len(items) == 3
    assert [i.fields["decided_on"] for i in items].count("2026年2月30日") == 1


def test_an_attachment_notice_is_fetched_and_read_with_openpyxl(world: World) -> None:
    s = spider()
    url = f"{LIVE}/jgsj/xgj/gzdt/art/detail.html?id=n202607bad"
    (request,) = list(s.parse_notice(html("notice_xlsx.html", url, {"listed_title": "", "listed_on": None})))
    assert "ext=xlsx" in request.url
    attachment = Response(request.url, body=(FIXTURES / "attachment.xlsx").read_bytes(), request=request)
    items = list(s.parse_attachment(attachment))
    xlsx_notice = next(n for n in world.telecom_notices if n.format == "xlsx")
    assert [i.natural_key for i in items] == [e.key for e in xlsx_notice.entries]
    assert all(i.fields["notice_url"] == url and i.url == request.url for i in items)
    assert [i.fields["decided_on"].date() for i in items] == [e.decided_on for e in xlsx_notice.entries]


def test_an_image_only_notice_becomes_one_quarantined_row() -> None:
    (item,) = notice("notice_image.html", "n202610bad")
    assert item.natural_key == "n202610bad"
    assert [p["field"] for p in item.problems] == ["notice"]
    assert item.raw["images"] and "ext=png" in item.raw["images"][0]


def test_a_redesigned_notice_page_is_layout_drift() -> None:
    s = spider()
    url = f"{LIVE}/jgsj/xgj/gzdt/art/detail.html?id=n202604bad"
    assert list(s.parse_notice(html("notice_drifted.html", url, {"listed_title": "", "listed_on": None}))) == []
    assert any("layout changed" in r and "con_con" in r for r in s.incomplete_reasons)


def test_unreadable_attachment_bytes_are_not_read_as_an_empty_list() -> None:
    s = spider()
    request = Request(f"{LIVE}/cms_files/filemanager/download.html?id=x&ext=xlsx", meta={"notice": {}})
    bad = Response(request.url, body=(FIXTURES / "attachment.xlsx").read_bytes()[:2000], request=request)
    s.retry_or_fail = lambda req, reason: s.page_failed(req.url, reason)  # no engine offline
    assert list(s.parse_attachment(bad)) == []
    assert any("unreadable .xlsx" in r for r in s.incomplete_reasons)


# -- pure helpers -------------------------------------------------------------------------------------------
def test_list_kind_names_exactly_one_list() -> None:
    assert list_kind("关于纳入电信业务经营不良名单企业的公告") == "bad"
    assert list_kind("纳入失信名单") == "dishonest"
    assert list_kind("电信业务经营不良名单和失信名单") is None
    assert list_kind("工作动态") is None


def test_notice_id_from_either_url_form() -> None:
    assert notice_id(f"{LIVE}/jgsj/xgj/gzdt/art/2020/art_8a5c1f.html") == "8a5c1f"
    assert notice_id(f"{LIVE}/jgsj/xgj/gzdt/art/detail.html?id=n202604bad") == "n202604bad"
    with pytest.raises(ValueError, match="carries no notice id"):
        notice_id(f"{LIVE}/jgsj/xgj/gzdt/index.html")


def test_table_rows_find_the_header_below_a_title_and_drop_blank_rows() -> None:
    parsed = table_rows([["名单"], ["序号", "经营者名称"], ["1", "甲公司"], [None, " "], ["2", "乙公司"]])
    assert parsed == (["序号", "经营者名称"], [["1", "甲公司"], ["2", "乙公司"]])
    assert table_rows([["序号", "企业名称"], ["1", "甲公司"]]) is None


def test_a_notice_naming_both_lists_reads_each_table_under_its_lead_line() -> None:
    head = "".join(f"<td>{c}</td>" for c in ("序号", "经营者名称", "统一社会信用代码", "许可证编号", "处理日期",
                                             "列入事由", "列入单位"))

    def table(name: str, licence: str) -> str:
        cells = "".join(f"<td>{c}</td>" for c in ("1", name, "", licence, "2026-01-05", "事由", "北京市通信管理局"))
        return f"<table><tr>{head}</tr><tr>{cells}</tr></table>"

    title = "关于2026年第一季度电信业务经营不良名单和失信名单的公告"
    page = (f'<html><head><meta charset="utf-8"></head><body><h1 id="con_title">{title}</h1>'
            '<span id="con_time">发布时间：2026-01-20</span><div id="con_con">'
            f"<p>一、纳入电信业务经营不良名单的企业</p>{table('甲科技有限公司', '京B2-20240001')}"
            f"<p>二、纳入电信业务经营失信名单的企业</p>{table('乙科技有限公司', 'B1-20240002')}</div></body></html>")
    url = f"{LIVE}/jgsj/xgj/gzdt/art/2026/art_q1both.html"
    response = HtmlResponse(url, body=page.encode(), request=Request(url, meta={"listed_title": title}))
    items = list(spider().parse_notice(response))
    assert [(i.natural_key, i.fields["list_kind"]) for i in items] == [
        ("q1both-京B2-20240001", "bad"), ("q1both-B1-20240002", "dishonest")]


@pytest.mark.parametrize(("title", "followed"), [
    ("关于2026年第一季度纳入电信业务经营不良名单企业的公告", True),
    ("关于2020年第三季度电信业务经营不良名单和失信名单的公告", True),
    ("关于做好电信业务经营不良名单和失信名单管理工作的通知", False),
    ("信息通信管理局2026年工作要点", False),
])
def test_which_titles_are_list_notices(title: str, followed: bool) -> None:
    from spiders.miit_telecom_lists.spider import LIST_NOTICE

    assert bool(LIST_NOTICE.search(title)) is followed
