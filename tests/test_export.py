"""The weekly export: workbook layout, CSV/Parquet round trips, formula injection, watchlists."""

from __future__ import annotations

import csv
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from replica.world import uscc_check_char
from tests.helpers import licence_fields, write_run
from transforms.build import build
from transforms.export import (
    SHEETS,
    WatchlistError,
    collect_tables,
    display_frame,
    escape_cell,
    export_week,
    read_watchlist,
    sheet_queries,
    watchlist_scope,
)
from transforms.report import collect_report
from transforms.reporting import iso_week, parse_week
from warehouse.db import connect
from warehouse.facts import import_facts
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)
WEEK = "2026-W47"  # 2026-11-16 … 2026-11-22: the second crawl (11-20) falls in it


def uscc(body: str) -> str:
    first17 = ("91110000" + body)[:17]
    return first17 + uscc_check_char(first17)


BAD, DISHONEST, HISTORY, CLEAN = (uscc(b) for b in ("BBBBBBBB2", "CCCCCCCC3", "DDDDDDDD4", "AAAAAAAA1"))
NAMES = {BAD: "北京劣迹科技有限公司", DISHONEST: "北京失信网络科技有限公司", HISTORY: "北京旧账数据科技有限公司",
         CLEAN: "北京清朗科技有限公司"}
INJECTION = "=cmd|' /C calc'!A0"


def penalty(code: str, number: str, decided: str, content: str = "罚款5000元", authority: str = "北京市通信管理局"
            ) -> dict:
    return {"decision_no": number, "subject_name": NAMES[code], "subject_uscc": code, "penalty_kinds_text": "罚款",
            "content": content, "fine_yuan": "5000", "decided_on": decided, "published_on": decided,
            "authority": authority, "domain": "telecom"}


def list_entry(code: str, kind: str) -> dict:
    return {"list_kind": kind, "subject_name": NAMES[code], "subject_uscc": code, "licence_no": None,
            "decided_on": "2026-10-01", "reason": "未按规定报告年报信息", "unit": "北京市通信管理局",
            "notice_title": "公告", "notice_url": "http://x", "notice_published_on": "2026-10-20"}


def licences() -> dict:
    return {f"l{n}": licence_fields(n, NAMES[code], expires="2027-03-01" if code == BAD else "2029-01-01")
            | {"uscc": code} for n, code in enumerate((BAD, DISHONEST, HISTORY, CLEAN), 1)}


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse: week 46 one penalty (gone in week 47); week 47 a penalty carrying a formula, lists."""
    root = tmp_path_factory.mktemp("wh")
    path = root / "data" / "creditwatch.duckdb"
    con = connect(path)
    week46, week47 = "2026-11-10T06:00:00+00:00", "2026-11-20T06:00:00+00:00"
    write_run(root / "runs", "r1", "miit_licences", licences(), finished_at=week46)
    write_run(root / "runs", "r1", "creditchina_penalties", {"P-old": penalty(HISTORY, "京通管罚〔2025〕1号",
                                                                             "2025-05-01")},
              finished_at=week46, record_type="penalty")
    load_run(con, root / "runs" / "r1")
    write_run(root / "runs", "r2", "miit_licences", licences(), finished_at=week47)
    write_run(root / "runs", "r2", "creditchina_penalties", {
        "P-new": penalty(BAD, "京通管罚〔2026〕9号", "2026-05-01", content=INJECTION, authority="@SUM(1+1)"),
    }, finished_at=week47, record_type="penalty")
    write_run(root / "runs", "r2", "miit_telecom_lists",
              {"bad-1": list_entry(BAD, "bad"), "dis-1": list_entry(DISHONEST, "dishonest")},
              finished_at=week47, record_type="telecom_list_entry")
    load_run(con, root / "runs" / "r2")
    facts = root / "facts.csv"
    facts.write_text("reference,obligations_done_date,corrected_date,note\n"
                     "京通管罚〔2026〕9号,2026-05-20,2026-05-20,paid\n", "utf-8")
    import_facts(con, facts, "tester")
    build(con, as_of=AS_OF)
    con.close()
    return path


@pytest.fixture
def con(snapshot: Path):
    con = connect(snapshot, read_only=True)
    yield con
    con.close()


def test_formula_cells_are_escaped_and_others_untouched() -> None:
    assert escape_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert escape_cell("+86 10") == "'+86 10"
    assert escape_cell("-1") == "'-1"
    assert escape_cell("@SUM(A1)") == "'@SUM(A1)"
    assert escape_cell("北京云启科技有限公司") == "北京云启科技有限公司"
    assert escape_cell(-1) == -1  # numbers are numbers, not text


@given(st.text())
def test_no_escaped_cell_starts_a_formula(text: str) -> None:
    assert not str(escape_cell(text)).startswith(("=", "+", "-", "@"))


def test_iso_week_names_the_folder_and_parses_back() -> None:
    assert iso_week(date(2026, 11, 23)) == "2026-W48"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    assert parse_week("2026-W47") == (date(2026, 11, 16), date(2026, 11, 22))
    assert parse_week(iso_week(date(2027, 1, 1)))[0] == date(2026, 12, 28)
    for bad in ("2026-47", "2026-W54", "W47"):
        with pytest.raises(ValueError, match=bad):
            parse_week(bad)


def test_workbook_layout_types_and_highlight(con, tmp_path: Path) -> None:
    result = export_week(con, tmp_path, WEEK)
    book = openpyxl.load_workbook(next(p for p in result.files if p.suffix == ".xlsx"))
    assert book.sheetnames == ["概览", "本周新增", "在公示", "可申请修复", "修复进度", "待复核", "许可证风险",
                               "年报预警", "云服务信用评价"]
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.auto_filter.ref and sheet.auto_filter.ref.startswith("A1:"), sheet.title
        assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), sheet.title
    open_sheet = book["在公示"]
    headers = [c.value for c in open_sheet[1]]
    rows = [dict(zip(headers, (c for c in row), strict=True)) for row in open_sheet.iter_rows(min_row=2)]
    by_type = {r["记录类型"].value: r for r in rows}
    assert set(by_type) == {"行政处罚", "电信业务经营不良名单", "电信业务经营失信名单"}
    # Only the dishonest-list row is filled; dates are real dates shown as yyyy-mm-dd.
    fills = {t: r["企业名称"].fill.fgColor.rgb for t, r in by_type.items()}
    assert fills["电信业务经营失信名单"].endswith("F8D7DA")
    assert not fills["行政处罚"].endswith("F8D7DA")
    event = by_type["行政处罚"]["决定/列入日期"]
    assert event.value == datetime(2026, 5, 1) and event.number_format == "yyyy-mm-dd"
    assert by_type["行政处罚"]["内容摘要"].value == "'" + INJECTION
    assert by_type["行政处罚"]["作出决定机关"].value == "'@SUM(1+1)"
    assert open_sheet.column_dimensions["B"].width >= 20  # a company name fits
    assert result.row_counts["open_records"] == 3 and result.unmatched == []


def test_week_sheet_holds_that_weeks_changes(con) -> None:
    frames = collect_tables(con, WEEK)
    changes = {(c, r) for c, r in frames["new_this_week"][["change", "reference"]].itertuples(index=False)}
    assert ("new", "京通管罚〔2026〕9号") in changes and ("removed", "京通管罚〔2025〕1号") in changes
    earlier = collect_tables(con, "2026-W45")
    assert earlier["new_this_week"].empty
    with pytest.raises(ValueError, match="after the warehouse's as-of date 2026-11-23"):
        collect_tables(con, "2026-W50")


def test_sheets_agree_with_the_marts(con) -> None:
    frames = collect_tables(con, WEEK)
    for key, mart in (("open_records", "open_records"), ("removal_candidates", "removal_candidates"),
                      ("review_queue", "review_queue")):
        expected = sorted(r for (r,) in con.execute(f"SELECT record_id FROM marts.{mart}").fetchall())
        assert sorted(frames[key]["record_id"]) == expected, key
    assert frames["removal_candidates"]["removal_status"].tolist() == ["eligible"]
    assert "罚款缴纳凭证" in frames["removal_candidates"]["materials"].iloc[0]
    assert frames["licence_risk"]["operator_name"].tolist() == [NAMES[BAD]]
    # Dimension 1 as marts.operator_risk holds it, with the records that decided it.
    cloud = frames["cloud_rating"].set_index("operator_id")
    mart = con.execute("SELECT operator_id, cloud_rating_dimension1, cloud_rating_dimension1_reasons "
                       "FROM marts.operator_risk").fetchall()
    assert {o: (level, reasons) for o, level, reasons in mart} == {
        o: (row.cloud_rating_dimension1, row.cloud_rating_dimension1_reasons) for o, row in cloud.iterrows()}


def test_corrected_dates_and_dimension_one_reach_the_workbook(con, tmp_path: Path) -> None:
    result = export_week(con, tmp_path, WEEK)
    book = openpyxl.load_workbook(next(p for p in result.files if p.suffix == ".xlsx"))
    open_sheet = book["在公示"]
    headers = [c.value for c in open_sheet[1]]
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in open_sheet.iter_rows(min_row=2)]
    fine = next(r for r in rows if r["记录类型"] == "行政处罚")
    # 36号令 一般, decided 2026-05-01: shown through 2027-05-01, first not shown 2027-05-02.
    assert (fine["公示截止日"], fine["停止公示日（首个不再公示日）"]) == (datetime(2027, 5, 1), datetime(2027, 5, 2))
    assert fine["说明（缺失信息/假定）"].startswith("assumed: severity=general")
    assert fine["省份"] == "北京"
    assert "列入严重违法失信名单风险日" in headers and "另一解读：停止公示日" in headers
    cloud = book["云服务信用评价"]
    cloud_headers = [c.value for c in cloud[1]]
    cloud_rows = {r[1]: dict(zip(cloud_headers, r, strict=True)) for r in cloud.iter_rows(min_row=2, values_only=True)}
    # The licences in this warehouse are CDN only: the list entries are for other business, not scored
    # but listed for a person; the MIIT penalties make a violation record (20).
    dishonest = cloud_rows[NAMES[DISHONEST]]
    assert dishonest["维度一：电信业务经营信用(分)"] == 30 and dishonest["需报自律委员会的名单条目"] == 1
    assert "自律委员会" in dishonest["报备说明"]
    assert cloud_rows[NAMES[HISTORY]]["维度一：电信业务经营信用(分)"] == 20
    assert "京通管罚〔2025〕1号" in cloud_rows[NAMES[HISTORY]]["维度一得分依据"]


def test_csv_and_parquet_round_trip(con, tmp_path: Path) -> None:
    export_week(con, tmp_path, WEEK)
    frames = collect_tables(con, WEEK)
    queries = {q.sheet.key: q for q in sheet_queries(con, WEEK)}
    for sheet in SHEETS:
        raw = (tmp_path / f"{sheet.key}.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), sheet.key
        with (tmp_path / f"{sheet.key}.csv").open(encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == sheet.headers("zh")
        shown = display_frame(sheet, frames[sheet.key], "zh")
        assert len(rows) - 1 == len(shown), sheet.key
        back = pq.read_table(tmp_path / f"{sheet.key}.parquet")
        assert back.column_names == [c.name for c in sheet.columns]
        if sheet.key in queries:  # the mart's rows with their SQL types (DATE, DECIMAL, lists), in the sheet's order
            query = queries[sheet.key]
            columns = ", ".join(back.column_names)
            assert back.to_pylist() == con.sql(f"SELECT {columns} FROM ({query.sql})",
                                               params=query.params).to_arrow_table().to_pylist(), sheet.key
            if "record_id" in back.column_names:
                assert back.column("record_id").to_pylist() == frames[sheet.key]["record_id"].tolist()
            assert back.num_rows == len(frames[sheet.key]), sheet.key
        else:
            pd.testing.assert_frame_equal(back.to_pandas().astype(str), frames[sheet.key].astype(str),
                                          check_dtype=False)
    with (tmp_path / "open_records.csv").open(encoding="utf-8-sig", newline="") as handle:
        penalty_row = next(r for r in csv.DictReader(handle) if r["记录类型"] == "行政处罚")
    assert penalty_row["内容摘要"] == "'" + INJECTION and penalty_row["决定/列入日期"] == "2026-05-01"
    assert all(not v.startswith(("=", "+", "-", "@")) for v in penalty_row.values())


def test_english_headers_and_labels(con, tmp_path: Path) -> None:
    result = export_week(con, tmp_path, WEEK, lang="en")
    book = openpyxl.load_workbook(next(p for p in result.files if p.suffix == ".xlsx"))
    assert book.sheetnames[:3] == ["Summary", "New this week", "Open records"]
    text = (tmp_path / "open_records.csv").read_text("utf-8-sig")
    assert text.startswith("Operator id,Company name,Record type") and "Telecom dishonest list" in text
    with pytest.raises(ValueError, match="unknown export language 'fr'"):
        export_week(con, tmp_path, WEEK, lang="fr")


def test_watchlist_covers_exactly_its_records_and_names_misses(con, tmp_path: Path) -> None:
    watchlist = tmp_path / "group.csv"
    watchlist.write_text(f"name,uscc\n,{BAD}\n{NAMES[DISHONEST]},\n上海不存在科技有限公司,\n", "utf-8")
    scope = watchlist_scope(con, watchlist)
    result = export_week(con, tmp_path / "out", WEEK, scope=scope)
    frames = collect_tables(con, WEEK, scope)
    open_ = frames["open_records"]
    assert set(open_["subject_name"]) == {NAMES[BAD], NAMES[DISHONEST]}
    assert len(open_) == 3
    assert set(open_["operator_name"]) == {NAMES[BAD], NAMES[DISHONEST]}  # the licensed operators it names
    assert frames["licence_risk"]["operator_name"].tolist() == [NAMES[BAD]]
    assert [(e.line, e.name) for e in result.unmatched] == [(4, "上海不存在科技有限公司")]
    summary = (tmp_path / "out" / "summary.csv").read_text("utf-8-sig")
    assert "未匹配条目,line 4: 上海不存在科技有限公司" in summary
    only_history = tmp_path / "history.csv"
    only_history.write_text(f"name,uscc\n{NAMES[HISTORY]},{HISTORY}\n", "utf-8")
    history_scope = watchlist_scope(con, only_history)
    frames = collect_tables(con, WEEK, history_scope)
    assert frames["open_records"].empty and frames["licence_risk"].empty
    assert history_scope.unmatched == ()  # it holds a licence
    assert frames["new_this_week"]["change"].tolist() == ["removed"]


@pytest.mark.parametrize(("content", "message"), [
    ("name,uscc\n北京甲科技有限公司,\n,\n", r"bad\.csv: line 3: neither a name nor a USCC"),
    ("name,uscc\n北京甲科技有限公司,91110000XXXXXXXXX1\n", r"bad\.csv: line 2: .*USCC|bad\.csv: line 2"),
    ("name\n北京甲科技有限公司\n", r"bad\.csv: line 1: missing column\(s\) uscc"),
    (f"name,uscc\n甲,{BAD}\n乙,{BAD}\n", rf"bad\.csv: line 3: USCC {BAD} already on line 2"),
    ("name,uscc\n", r"bad\.csv: no entries"),
])
def test_bad_watchlist_names_file_and_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, "utf-8")
    with pytest.raises(WatchlistError, match=message):
        read_watchlist(path)


def test_watchlist_in_gbk_is_read_like_ingest(tmp_path: Path) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes("name,uscc\n北京甲科技有限公司,\n".encode("gbk"))
    assert [e.name for e in read_watchlist(path)] == ["北京甲科技有限公司"]


def sheet_rows(path: Path, title: str) -> int:
    return openpyxl.load_workbook(path, read_only=True)[title].max_row - 1


@pytest.mark.parametrize("watchlist", [None, f"name,uscc\n,{BAD}\n{NAMES[HISTORY]},\n"])
def test_workbook_report_and_marts_count_the_same(con, tmp_path: Path, watchlist: str | None) -> None:
    """For one week and one scope, the workbook's sheets, the report's headline and the marts agree."""
    scope = None
    if watchlist is not None:
        (tmp_path / "w.csv").write_text(watchlist, "utf-8")
        scope = watchlist_scope(con, tmp_path / "w.csv")
        operators = list(scope.operators)
        assert len(operators) == 2
    else:
        operators = [o for (o,) in con.execute("SELECT operator_id FROM core.licensed_operators").fetchall()]
    result = export_week(con, tmp_path / "out", WEEK, **({"scope": scope} if scope else {}))
    book = next(p for p in result.files if p.suffix == ".xlsx")
    report = dict(collect_report(con, WEEK, "zh", **({"scope": scope} if scope else {})).headline)

    def mart(sql: str) -> int:
        return con.execute(sql, {"ops": operators}).fetchone()[0]

    in_scope = "list_contains($ops, operator_id)"
    expected = {
        ("在公示", "在公示记录数"): mart(f"SELECT count(*) FROM marts.open_records WHERE {in_scope}"),
        ("可申请修复", "可申请修复"): mart(f"SELECT count(*) FROM marts.removal_candidates WHERE {in_scope}"),
        ("许可证风险", "续期受影响或年报未报的许可证"):
            mart(f"SELECT count(*) FROM marts.licence_risk WHERE {in_scope}"),
        ("年报预警", "年报预警（未报送）"): mart(f"SELECT count(*) FROM marts.annual_report_warnings WHERE {in_scope}"),
        ("本周新增", None): mart("SELECT count(*) FROM marts.weekly_changes WHERE reporting_week = '2026-W47' "
                                f"AND link_status IN ('linked', 'review') AND {in_scope}"),
    }
    for (title, headline), count in expected.items():
        assert sheet_rows(book, title) == count, title
        if headline:
            assert int(report[headline]) == count, headline
    new = mart("SELECT count(*) FROM marts.weekly_changes WHERE reporting_week = '2026-W47' AND change = 'new' "
               f"AND link_status IN ('linked', 'review') AND {in_scope}")
    assert int(report["本周新增"]) == new
    assert expected[("在公示", "在公示记录数")] > 0


def test_a_table_longer_than_a_worksheet_goes_on_in_continuation_sheets(con, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past Excel's row limit (xlsxwriter would drop the rows without a word) a table continues on
    "<title> (2)", …: every row is in the workbook once, each part with its header, frozen and filtered."""
    import transforms.export as export

    expected = {spec.key: len(frame) for spec, frame in
                ((s, collect_tables(con, WEEK)[s.key]) for s in SHEETS)}
    assert expected["open_records"] == 3
    monkeypatch.setattr(export, "EXCEL_MAX_ROWS", 3)  # two rows a sheet
    result = export_week(con, tmp_path, WEEK)
    book = openpyxl.load_workbook(next(p for p in result.files if p.suffix == ".xlsx"))
    assert [t for t in book.sheetnames if t.startswith("在公示")] == ["在公示", "在公示 (2)"]
    open_rows = [[c.value for c in row] for t in ("在公示", "在公示 (2)") for row in book[t].iter_rows(min_row=2)]
    headers = [c.value for c in book["在公示"][1]]
    assert [c.value for c in book["在公示 (2)"][1]] == headers
    assert len(open_rows) == 3 and len({tuple(map(str, r)) for r in open_rows}) == 3
    for spec in SHEETS:
        parts = [t for t in book.sheetnames if t == spec.zh or t.startswith(f"{spec.zh} (")]
        assert sum(book[t].max_row - 1 for t in parts) == max(expected[spec.key], 0), spec.key
        assert len(parts) == max(1, -(-expected[spec.key] // 2)), spec.key
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:"), sheet.title


def test_a_failed_export_leaves_the_folder_as_it_was(con, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are streamed under temporary names and renamed only once every one is complete."""
    import transforms.export as export

    first = export_week(con, tmp_path, WEEK)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert {p.name for p in first.files} == set(before)
    real = export._write_table

    def failing(book, formats, spec, *args, **kwargs) -> None:
        if spec is export.REVIEW_SHEET:
            raise OSError("disk full")
        real(book, formats, spec, *args, **kwargs)

    monkeypatch.setattr(export, "_write_table", failing)
    with pytest.raises(OSError, match="disk full"):
        export_week(con, tmp_path, WEEK, lang="en")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
