"""MIIT 电信业务经营不良名单/失信名单 notices (registries.md §3.2, §7.4): the replica serves the column through the
jpaas unit API and refuses the old requests (the shell page read as a list, the old notice URLs, a bare API
call); a crawl of the replica (faults on) equals its ground truth, following a notice to tsm.miit.gov.cn when it
points there; HTML tables, GBK pages, .xlsx attachments, image-only notices and tsm's pages are read offline."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler

from flows.stages import crawl_source, load, transform
from pipelines.items import RecordItem
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders.miit_telecom_lists.spider import (
    LIST_NOTICE,
    MiitTelecomListsSpider,
    list_kind,
    notice_id,
    period,
    table_rows,
    unit_items,
)
from spiders.source import sources

SOURCE = "miit_telecom_lists"
FIXTURES = sources()[SOURCE].fixtures
LIVE = "https://www.miit.gov.cn"
TSM = "https://tsm.miit.gov.cn"
UNIT = "/api-gateway/jpaas-publish-server/front/page/build/unit"
UNIT_QUERY = {"webId": "8d828e408d90447786ddbe128d495e9e", "tplSetId": "209741b2109044b5b7695700b2bec37e",
              "pageType": "column", "tagId": "当前栏目_list", "editType": "null",
              "pageId": "85674bba20f34e4e8db4559b89d0cf75", "parseType": "buildstatic"}


def crawl(replica: Replica, run_dir: Path) -> dict[str, Any]:
    return crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver="replica")


def rows(folder: RunFolder, quarantine: bool = False) -> list[dict[str, Any]]:
    path = folder.quarantine(SOURCE) if quarantine else folder.records(SOURCE)
    return pq.read_table(path).to_pylist()


def entries_by_key(world: World) -> dict[str, Any]:
    return {e.key: (n, e) for n in world.telecom_notices for e in n.entries}


def notice_of(world: World, fmt: str, kinds: tuple[str, ...] = ("bad",)) -> Any:
    return next(n for n in world.telecom_notices if n.format == fmt and n.list_kinds == kinds and not n.epoch_added)


@pytest.fixture(scope="module")
def crawled(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> tuple[RunFolder, dict[str, Any]]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-miitlists"
    return RunFolder(run_dir), crawl(replica, run_dir)


# -- the replica's contract, and the old requests refused -------------------------------------------------
def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def unit_url(replica: Replica, page: int = 1, **changes: str) -> str:
    query = {**UNIT_QUERY, "paramJson": json.dumps({"pageNo": page, "pageSize": "15"}, separators=(",", ":")),
             **changes}
    return f"{replica.site_url('www.miit.gov.cn')}{UNIT}?{urllib.parse.urlencode(query)}"


def column_referer(replica: Replica) -> dict[str, str]:
    return {"Referer": f"{replica.site_url('www.miit.gov.cn')}/jgsj/xgj/gzdt/index.html"}


def test_the_column_page_is_a_shell_so_the_old_read_finds_no_notice(quiet_replica: Replica) -> None:
    # What the old spider requested (…/index.html?page=1) and read (ul#list > li, div.page[data-total]).
    status, body = fetch(f"{quiet_replica.site_url('www.miit.gov.cn')}/jgsj/xgj/gzdt/index.html?page=1")
    shell = HtmlResponse(f"{LIVE}/jgsj/xgj/gzdt/index.html?page=1", body=body)
    assert status == 200
    assert shell.css("ul#list > li") == [] and shell.css("div.page::attr(data-total)").get() is None
    assert "不良名单" not in shell.text and "/art/" not in shell.text
    script = shell.css('script[src*="unitbuild.js"]')
    assert script.attrib["url"] == UNIT and UNIT_QUERY["pageId"] in script.attrib["querydata"]


def test_the_old_notice_urls_are_not_served(quiet_replica: Replica, world: World) -> None:
    notice = notice_of(world, "html")
    site = quiet_replica.site_url("www.miit.gov.cn")
    assert fetch(f"{site}/jgsj/xgj/gzdt/art/detail.html?id={notice.notice_id}")[0] == 404
    path = f"/jgsj/xgj/gzdt/art/{notice.published_on.year}/art_{notice.notice_id}.html"
    assert fetch(f"{site}{path}")[0] == 200


def test_the_unit_api_refuses_a_bare_request_and_wrong_parameters(quiet_replica: Replica) -> None:
    status, _ = fetch(unit_url(quiet_replica))
    assert status == 403  # no Referer: refused as [idx 71595435488] reports
    referer = column_referer(quiet_replica)
    status, body = fetch(unit_url(quiet_replica), referer)
    answer = json.loads(body)
    assert status == 200 and answer["success"] is True and "<li>" in answer["data"]["html"]
    for wrong in ({"pageId": "0" * 32}, {"webId": "x"}, {"paramJson": "{pageNo:1"}):
        assert json.loads(fetch(unit_url(quiet_replica, **wrong), referer)[1])["success"] is False


def test_unit_pages_announce_the_count_and_overlap_by_a_row(quiet_replica: Replica) -> None:
    referer = column_referer(quiet_replica)
    pages = [unit_items(json.loads(fetch(unit_url(quiet_replica, page), referer)[1])["data"]["html"])
             for page in (1, 2, 3, 4)]
    (first, count), (second, _), (third, _), (fourth, _) = pages
    assert len(first) == len(second) == 15 and first[-1] == second[0]
    hrefs = {r["href"] for page, _ in pages for r in page}
    assert count == len(hrefs) == 15 + 14 + len(third) and fourth == []


def test_tsm_serves_its_notice_list_and_notices(quiet_replica: Replica, world: World) -> None:
    tsm = quiet_replica.site_url("tsm.miit.gov.cn")
    status, page = fetch(f"{tsm}/telecom-manage/web/notice/list/1/1")
    assert status == 200 and len(HtmlResponse(f"{TSM}/x", body=page).css("ul#noticelist1 > li")) == 10
    assert HtmlResponse(f"{TSM}/x", body=fetch(f"{tsm}/telecom-manage/web/notice/list/1/99")[1]).css(
        "ul#noticelist1 > li") == []
    number = notice_of(world, "tsm", ("bad", "dishonest")).tsm_numbers["dishonest"]
    status, body = fetch(f"{tsm}/telecom-manage/web/notice/0/{number}.html")
    assert status == 200 and "ke-zeroborder" in body.decode("utf-8")
    assert fetch(f"{tsm}/telecom-manage/web/notice/0/9.html")[0] == 404


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
    assert manifest.complete, manifest.incomplete_reasons
    assert_matches_truth(folder, world.ground_truth(0)[SOURCE])


def test_the_image_notice_is_a_reported_gap_with_its_url(crawled, world: World) -> None:
    folder, _ = crawled
    images = [n for n in world.telecom_notices if n.format == "image"]
    quarantined = [q for q in rows(folder, quarantine=True) if q["field"] == "notice"]
    assert sorted(q["natural_key"] for q in quarantined) == sorted(n.notice_id for n in images)
    assert all(f"art_{q['natural_key']}.html" in q["url"] and "image" in q["reason"] for q in quarantined)


def test_fields_are_read_from_tables_gbk_pages_attachments_and_tsm(crawled, world: World) -> None:
    folder, _ = crawled
    expected = entries_by_key(world)
    formats = set()
    for row in rows(folder):
        fields, raw = json.loads(row["fields_json"]), json.loads(row["raw_json"])
        notice, entry = expected[row["natural_key"]]
        formats.add(notice.format)
        assert fields["subject_name"] == entry.subject.name
        assert fields["subject_uscc"] == entry.subject.uscc
        assert fields["licence_no"] == entry.licence_no
        assert fields["decided_on"] == entry.decided_on.isoformat()
        assert fields["list_kind"] == entry.list_kind
        assert fields["unit"] == entry.unit
        assert fields["notice_published_on"] == notice.published_on.isoformat()
        assert fields["notice_url"].endswith(f"/art_{notice.notice_id}.html")
        if notice.format == "tsm":  # read on tsm, referenced by the www notice that points there
            assert "/tsm.miit.gov.cn/telecom-manage/web/notice/0/" in row["url"]
            assert row["url"].endswith(f"/{raw['tsm_notice']['number']}.html")
    assert formats == {"html", "xlsx", "tsm"}


def test_epoch_one_brings_the_new_notice_and_nothing_else_changes(crawled, world: World, tmp_path: Path) -> None:
    with Replica(world, Faults.none()) as replica:  # another server, another port: nothing of it may leak in
        replica.epoch = 1
        manifest = crawl(replica, tmp_path / "20261130T000000Z-week1")
    assert manifest.complete, manifest.incomplete_reasons
    truth = world.ground_truth(1)[SOURCE]
    assert_matches_truth(RunFolder(tmp_path / "20261130T000000Z-week1"), truth)
    new = truth["records"] - world.ground_truth(0)[SOURCE]["records"]
    latest = next(n for n in world.telecom_notices if n.epoch_added == 1)
    assert new and all(key.startswith(f"{latest.notice_id}-") for key in new)
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, crawled[0].path)
    week = load(warehouse, tmp_path / "20261130T000000Z-week1")
    assert (week["new"], week["changed"], week["removed"]) == (len(new), 0, 0)


def test_truncated_pages_are_fetched_again_not_read_as_short(world: World, tmp_path: Path) -> None:
    faults = Faults.none()
    faults.truncated = 1.0  # every first answer cut in half: JSON, HTML, xlsx alike, on both hosts
    with Replica(world, faults) as replica:
        manifest = crawl(replica, tmp_path / "run")
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.retries > 0
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
    s = MiitTelecomListsSpider.from_crawler(crawler)
    s.retry_or_fail = lambda req, reason: s.page_failed(req.url, reason)  # no engine offline
    return s


def html(name: str, url: str, meta: dict[str, Any] | None = None, header: str = "text/html") -> HtmlResponse:
    return HtmlResponse(url, body=(FIXTURES / name).read_bytes(), headers={"Content-Type": header},
                        request=Request(url, meta=meta or {}))


def unit(name: str, page: int, body: bytes | None = None) -> TextResponse:
    url = f"{LIVE}{UNIT}?page={page}"
    return TextResponse(url, body=body or (FIXTURES / name).read_bytes(), encoding="utf-8",
                        request=Request(url, meta={"page": page}))


def art_url(notice: Any) -> str:
    return f"{LIVE}/jgsj/xgj/gzdt/art/{notice.published_on.year}/art_{notice.notice_id}.html"


def notice(name: str, url: str, s: MiitTelecomListsSpider | None = None) -> list[Any]:
    return list((s or spider()).parse_notice(html(name, url, {"listed_title": "", "listed_on": None})))


def test_the_first_unit_request_is_the_references_call_with_the_column_as_referer() -> None:
    request = spider().unit_request(1)
    parts = urllib.parse.urlsplit(request.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{LIVE}{UNIT}"
    query = dict(urllib.parse.parse_qsl(parts.query))
    assert query == {**UNIT_QUERY, "paramJson": '{"pageNo":1,"pageSize":"15"}'}
    assert request.headers[b"Referer"] == f"{LIVE}/jgsj/xgj/gzdt/index.html".encode()


def test_unit_pages_pick_list_notices_and_skip_repeated_rows(world: World) -> None:
    s = spider()
    first = list(s.parse_unit(unit("unit_page1.json", 1)))
    followed = [notice_id(r.url) for r in first if r.callback == s.parse_notice]
    page = json.loads((FIXTURES / "unit_page1.json").read_text("utf-8"))["data"]["html"]
    shown = [notice_id(r["href"]) for r in unit_items(page)[0]]
    notices = sorted(world.at(0)["telecom_notices"], key=lambda n: (n.published_on, n.notice_id), reverse=True)
    assert followed == [n.notice_id for n in notices if n.notice_id in shown] and len(followed) >= 3
    # The policy notice naming both lists (and nobody) is shown but not followed.
    policy = next(r for r in unit_items(page)[0] if "管理工作的通知" in r["title"])
    assert notice_id(policy["href"]) in shown and notice_id(policy["href"]) not in followed
    assert [r.meta["page"] for r in first if r.callback == s.parse_unit] == [2]
    assert all(r.url.startswith(LIVE + "/jgsj/xgj/gzdt/art/") for r in first if r.callback == s.parse_notice)
    second = list(s.parse_unit(unit("unit_page2.json", 2)))
    assert s.received["notice list"] == 29  # 30 rows shown, one repeated from page 1
    assert [r.meta["page"] for r in second if r.callback == s.parse_unit] == [3]
    third = list(s.parse_unit(unit("unit_page3.json", 3)))
    assert s.received["notice list"] == s.expected["notice list"]
    assert [r for r in third if r.callback == s.parse_unit] == []


def test_without_a_pager_the_column_is_paged_until_a_short_page() -> None:
    def without_pager(name: str) -> bytes:
        payload = json.loads((FIXTURES / name).read_text("utf-8"))
        payload["data"]["html"] = payload["data"]["html"].split('<div class="pagination"')[0]
        return json.dumps(payload, ensure_ascii=False).encode()

    s = spider()
    first = list(s.parse_unit(unit("unit_page1.json", 1, without_pager("unit_page1.json"))))
    assert [r.meta["page"] for r in first if r.callback == s.parse_unit] == [2]
    last = list(s.parse_unit(unit("unit_page3.json", 3, without_pager("unit_page3.json"))))
    assert [r for r in last if r.callback == s.parse_unit] == [] and not s.incomplete_reasons


def test_a_unit_answer_without_rows_or_pager_is_layout_drift_and_a_refusal_is_reported() -> None:
    s = spider()
    empty = json.dumps({"success": True, "data": {"html": "<div></div>"}}).encode()
    assert list(s.parse_unit(unit("", 1, empty))) == []
    refused = json.dumps({"success": False, "code": 500, "message": "页面单元不存在", "data": None},
                         ensure_ascii=False).encode()
    assert list(s.parse_unit(unit("", 1, refused))) == []
    assert any("layout changed" in r for r in s.incomplete_reasons)
    assert any("unit API refused" in r and "页面单元不存在" in r for r in s.incomplete_reasons)


def test_a_gbk_page_declared_gb2312_reads_as_chinese_and_keeps_the_impossible_date(world: World) -> None:
    gbk = notice_of(world, "html")
    assert b'charset="gb2312"' in (FIXTURES / "notice_table_gbk.html").read_bytes()
    items = notice("notice_table_gbk.html", art_url(gbk))
    assert [i.natural_key for i in items] == [e.key for e in gbk.entries]
    for item, entry in zip(items, gbk.entries, strict=True):
        assert isinstance(item, RecordItem)
        assert item.fields["subject_name"] == entry.subject.name and item.fields["list_kind"] == "bad"
    # Kept raw: the pipeline quarantines it (decided_on: impossible date).
    assert [i.fields["decided_on"] for i in items].count("2026年2月30日") == 1


def test_a_dishonest_list_table_is_read(world: World) -> None:
    dishonest = notice_of(world, "html", ("dishonest",))
    items = notice("notice_table.html", art_url(dishonest))
    assert [(i.natural_key, i.fields["list_kind"]) for i in items] == [(e.key, "dishonest") for e in dishonest.entries]


def test_an_attachment_notice_is_fetched_and_read_with_openpyxl(world: World) -> None:
    s, xlsx_notice = spider(), notice_of(world, "xlsx")
    url = art_url(xlsx_notice)
    (request,) = notice("notice_xlsx.html", url, s)
    assert request.url.startswith(f"{LIVE}/cms_files/filemanager/1226211233/attach/") and request.url.endswith(".xlsx")
    attachment = Response(request.url, body=(FIXTURES / "attachment.xlsx").read_bytes(), request=request)
    items = list(s.parse_attachment(attachment))
    assert [i.natural_key for i in items] == [e.key for e in xlsx_notice.entries]
    assert all(i.fields["notice_url"] == url and i.url == request.url for i in items)
    assert [i.fields["decided_on"].date() for i in items] == [e.decided_on for e in xlsx_notice.entries]


def test_an_image_only_notice_becomes_one_quarantined_row(world: World) -> None:
    image = notice_of(world, "image")
    (item,) = notice("notice_image.html", art_url(image))
    assert item.natural_key == image.notice_id
    assert [p["field"] for p in item.problems] == ["notice"]
    (image_src,) = item.raw["images"]  # as published: a path on the site, not the URL fetched
    assert image_src.startswith("/cms_files/") and image_src.endswith(".png")


def test_a_redesigned_notice_page_is_layout_drift(world: World) -> None:
    s = spider()
    assert notice("notice_drifted.html", art_url(notice_of(world, "html", ("dishonest",))), s) == []
    assert any("layout changed" in r and "con_con" in r for r in s.incomplete_reasons)


def test_a_notice_pointing_to_tsm_is_followed_to_its_lists_there(world: World) -> None:
    s, pointing = spider(), notice_of(world, "tsm", ("bad", "dishonest"))
    (start,) = notice("notice_tsm.html", art_url(pointing), s)
    assert start.url == f"{TSM}/telecom-manage/web/notice/list/1/1" and start.meta["wanted"] == ["bad", "dishonest"]
    (onwards,) = list(s.parse_tsm_list(html("tsm_list_page1.html", start.url, start.meta)))
    assert onwards.url.endswith("/list/1/2") and onwards.meta["found"] == []  # licence notices only on page 1
    meta = {**onwards.meta, "page": 5}
    details = list(s.parse_tsm_list(html("tsm_list_page5.html", f"{TSM}/telecom-manage/web/notice/list/1/5", meta)))
    assert sorted((r.meta["list_kind"], r.url) for r in details) == [
        (kind, f"{TSM}/telecom-manage/web/notice/0/{pointing.tsm_numbers[kind]}.html") for kind in ("bad", "dishonest")]
    items = []
    for request in details:
        name = f"tsm_notice_{request.meta['list_kind']}.html"
        items += list(s.parse_tsm_notice(html(name, request.url, request.meta)))
    assert sorted((i.natural_key, i.fields["list_kind"]) for i in items) == sorted(
        (e.key, e.list_kind) for e in pointing.entries)
    assert all(i.fields["notice_url"] == art_url(pointing) and i.url.startswith(f"{TSM}/") for i in items)
    assert not s.incomplete_reasons


def test_a_tsm_pointer_whose_list_cannot_be_found_is_incomplete(world: World) -> None:
    s = spider()
    base = {"notice_id": "x", "notice_title": "关于2026年第三季度纳入电信业务经营不良名单企业的公告",
            "notice_url": f"{LIVE}/jgsj/xgj/gzdt/art/2026/art_x.html", "notice_published_on": "2026-10-20",
            "list_kind": "bad"}
    meta = {"notice": base, "wanted": ["bad"], "found": [], "page": 5}
    # Page 5 lists nothing of that quarter and is months older than the notice: the search stops there.
    assert list(s.parse_tsm_list(html("tsm_list_page5.html", f"{TSM}/x/5", meta))) == []
    empty = HtmlResponse(f"{TSM}/x/9", body=b'<html><body><ul id="noticelist1"></ul></body></html>',
                         request=Request(f"{TSM}/x/9", meta={**meta, "page": 9}))
    assert list(s.parse_tsm_list(empty)) == []
    assert sum("points to tsm.miit.gov.cn" in r for r in s.incomplete_reasons) == 2


# -- pure helpers -------------------------------------------------------------------------------------------
def test_list_kind_names_exactly_one_list() -> None:
    assert list_kind("关于纳入电信业务经营不良名单企业的公告") == "bad"
    assert list_kind("纳入失信名单") == "dishonest"
    assert list_kind("电信业务经营不良名单和失信名单") is None
    assert list_kind("工作动态") is None


def test_period_reads_the_quarter_in_either_form() -> None:
    assert period("关于2025年第四季度电信业务经营不良名单和失信名单的公告") == ("2025", "四")
    assert period("2020年三季度电信业务经营不良名单") == ("2020", "三")
    assert period("2026年第1季度") == ("2026", "一")
    assert period("信息通信管理局2026年工作要点") is None


def test_notice_id_from_the_cms_url() -> None:
    assert notice_id(f"{LIVE}/jgsj/xgj/gzdt/art/2020/art_8a5c1f.html") == "8a5c1f"
    with pytest.raises(ValueError, match="carries no notice id"):
        notice_id(f"{LIVE}/jgsj/xgj/gzdt/art/detail.html?id=n202604bad")  # the old replica's form


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
    ("2025年第四季度纳入电信业务经营失信名单企业名单", True),  # tsm's title form
    ("关于做好电信业务经营不良名单和失信名单管理工作的通知", False),
    ("关于2026年第3批《中华人民共和国增值电信业务经营许可证》审批结果的公示", False),
    ("信息通信管理局2026年工作要点", False),
])
def test_which_titles_are_list_notices(title: str, followed: bool) -> None:
    assert bool(LIST_NOTICE.search(title)) is followed
