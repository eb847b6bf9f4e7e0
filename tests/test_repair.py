"""Repair cases (issue 17): state machine and audit, the application pack, deadlines in working days, and
the run verifying removal. Built like the alert tests: run folders written as a crawl writes them, loaded
into a small warehouse (no crawl, no replica), so the whole file runs in seconds.

Week 0 (r1, 2026-11-10): 星辰 Shanghai and 清朗 each have a paid penalty on 信用中国 (eligible for repair).
Cases: RC-0001 on 星辰's penalty (submitted 11-16, accepted 11-18); RC-0002 on 清朗's (submitted 11-02,
accepted 11-04, so due gone by 11-16). Week 1 (r2, 2026-11-20): a complete crawl no longer shows 星辰's
penalty (→ RC-0001 removed_verified on 11-20) but still shows 清朗's (→ RC-0002 still_shown, overdue);
an incomplete crawl the day before proves no removal.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from docxtpl import DocxTemplate

from flows import repair
from flows.stages import apply_run
from tests.alerts_history import CLEAN, NAMES, P_KEEP, P_PAID, STAR_SH, copy_warehouse, licences, rid
from tests.helpers import write_run
from transforms.alerts.events import compute_events
from transforms.build import DataTestFailure, build
from transforms.export import LABELS, collect_tables
from transforms.repair.cases import STATES, TRANSITIONS, RepairError, next_state
from transforms.repair.deadlines import case_deadline, decision_due, handling_time, load_handling_times, removal_due
from transforms.repair.pack import BLANK, DOCUMENTS, FIELDS, TEMPLATES
from transforms.report import collect_report, render_report
from warehouse.db import connect
from warehouse.facts import import_facts
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)
WEEK0, WEEK1 = "2026-11-10T06:00:00+00:00", "2026-11-20T06:00:00+00:00"
PAID = {"P-paid": P_PAID, "P-keep": P_KEEP}  # 沪通管罚〔2026〕5号 (星辰 Shanghai), 京通管罚〔2026〕3号 (清朗)


def penalties_run(root: Path, run_id: str, keys: list[str], finished_at: str, complete: bool = True) -> Path:
    write_run(root, run_id, "miit_licences", licences(STAR_SH, CLEAN), finished_at=finished_at)
    return write_run(root, run_id, "creditchina_penalties", {k: PAID[k] for k in keys}, complete=complete,
                     finished_at=finished_at, record_type="penalty")


@pytest.fixture(scope="module")
def week0(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse after week 0 with both fines recorded paid: both penalties are removal candidates."""
    root = tmp_path_factory.mktemp("repair")
    warehouse = root / "week0" / "creditwatch.duckdb"
    con = connect(warehouse)
    try:
        load_run(con, penalties_run(root / "runs", "r1", ["P-paid", "P-keep"], WEEK0))
        facts = root / "facts.csv"
        facts.write_text("reference,obligations_done_date,corrected_date,note\n"
                         "沪通管罚〔2026〕5号,2026-05-20,2026-05-20,罚款已缴纳\n"
                         "京通管罚〔2026〕3号,2026-05-22,2026-05-22,\n", "utf-8")
        import_facts(con, facts, "tester")
        build(con, as_of=AS_OF)
    finally:
        con.close()
    return warehouse


@pytest.fixture(scope="module")
def cases(week0: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Both cases opened (packs written), submitted and accepted in week 0."""
    root = tmp_path_factory.mktemp("cases")
    warehouse = copy_warehouse(week0, root / "wh")
    packs = root / "exports" / "repair"
    star = repair.open_case(warehouse, "沪通管罚〔2026〕5号", packs, actor="tester")
    clean = repair.open_case(warehouse, rid("creditchina_penalties", "P-keep"), packs, actor="tester")
    repair.submit(warehouse, star.case.case_id, date(2026, 11, 16), "creditchina", "XY-2026-001", actor="tester")
    repair.outcome(warehouse, star.case.case_id, "accepted", date(2026, 11, 18), actor="tester")
    repair.submit(warehouse, clean.case.case_id, date(2026, 11, 2), "creditchina", actor="tester")
    repair.outcome(warehouse, clean.case.case_id, "accepted", date(2026, 11, 4), actor="tester")
    return {"root": root, "warehouse": warehouse, "star": star, "clean": clean}


def text_of(path: Path) -> str:
    document = Document(str(path))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def row_of(path: Path, label: str) -> str:
    """The value beside `label` in the application's tables."""
    for table in Document(str(path)).tables:
        for row in table.rows:
            if row.cells[0].text == label:
                return row.cells[1].text
    raise AssertionError(f"no row {label!r} in {path}")


# ------------------------------------------------------------------------------------------ cases and pack


def test_opening_a_case_writes_the_pack_filled_from_the_warehouse(cases) -> None:
    opened = cases["star"]
    assert (opened.case.case_id, opened.case.state, opened.case.operator_id) == ("RC-0001", "open", STAR_SH)
    assert opened.pack.folder.name == "RC-0001"
    application = opened.pack.folder / "信用修复申请书.docx"
    assert row_of(application, "申请人名称") == NAMES[STAR_SH]
    assert row_of(application, "统一社会信用代码") == STAR_SH
    assert row_of(application, "决定文书号") == "沪通管罚〔2026〕5号"
    assert row_of(application, "作出决定机关") == "北京市通信管理局"
    assert row_of(application, "决定（列入）日期") == "2026年5月1日"
    assert row_of(application, "电信业务经营许可证编号") == "B1-20240002"
    # What was performed and when: from `creditwatch facts`.
    assert "已于 2026年5月20日 履行完毕" in text_of(application)
    # What the warehouse lacks is left visibly blank and listed, never guessed.
    assert row_of(application, "法定代表人") == BLANK
    assert {"法定代表人", "联系人", "联系电话", "住所", "申请日期"} <= set(opened.pack.missing)
    assert "履行情况说明" not in opened.pack.missing
    pledge = text_of(opened.pack.folder / "信用承诺书.docx")
    assert f"承诺主体：{NAMES[STAR_SH]}" in pledge and "沪通管罚〔2026〕5号（行政处罚）" in pledge
    assert "{{" not in pledge and "{{" not in text_of(application)
    checklist = (opened.pack.folder / "材料清单.md").read_text("utf-8")
    assert "- [ ] 行政处罚决定书" in checklist and "信用中国网站" in checklist  # the repair-materials seed
    assert "- 法定代表人" in checklist


def test_a_field_the_warehouse_lacks_stays_blank_and_is_listed(cases) -> None:
    # 清朗's fact came without a note on how it was performed: left blank, not made up.
    pack = cases["clean"].pack
    assert "履行情况说明" in pack.missing
    assert f"完成整改（{BLANK}）" in text_of(pack.folder / "信用修复申请书.docx")


def test_every_transition_is_audited(cases) -> None:
    con = connect(cases["warehouse"], read_only=True)
    try:
        rows = con.execute("SELECT actor, details FROM ops.audit WHERE action = 'repair' ORDER BY \"at\"").fetchall()
        history = con.execute("SELECT action, from_state, to_state, on_date FROM ops.repair_case_events "
                              "WHERE case_id = 'RC-0001' ORDER BY \"at\"").fetchall()
    finally:
        con.close()
    details = [json.loads(d) for _, d in rows]
    assert {a for a, _ in rows} == {"tester"}
    assert [(d["case"], d["action"]) for d in details] == [
        ("RC-0001", "open"), ("RC-0002", "open"), ("RC-0001", "submit"), ("RC-0001", "accept"),
        ("RC-0002", "submit"), ("RC-0002", "accept")]
    assert details[2]["receipt_no"] == "XY-2026-001"
    assert history == [("open", None, "open", history[0][3]), ("submit", "open", "submitted", date(2026, 11, 16)),
                       ("accept", "submitted", "accepted", date(2026, 11, 18))]


def test_invalid_commands_name_the_case_and_its_state(week0: Path, tmp_path: Path) -> None:
    warehouse = copy_warehouse(week0, tmp_path / "wh")
    packs = tmp_path / "packs"
    case_id = repair.open_case(warehouse, "沪通管罚〔2026〕5号", packs, actor="t").case.case_id
    with pytest.raises(RepairError, match=r"case RC-0001 is open: cannot accept \(only from submitted\); "
                                          r"from open it can: submit"):
        repair.outcome(warehouse, case_id, "accepted", date(2026, 11, 18))
    with pytest.raises(RepairError, match=r"already has case RC-0001 \(open\)"):
        repair.open_case(warehouse, "沪通管罚〔2026〕5号", packs)
    with pytest.raises(RepairError, match="unknown platform 'weibo'"):
        repair.submit(warehouse, case_id, date(2026, 11, 16), "weibo")
    with pytest.raises(RepairError, match="no record '沪通管罚〔1999〕1号'"):
        repair.open_case(warehouse, "沪通管罚〔1999〕1号", packs)
    with pytest.raises(RepairError, match="no marts yet: run `creditwatch run`"):
        repair.open_case(tmp_path / "empty" / "creditwatch.duckdb", "沪通管罚〔2026〕5号", packs)
    with pytest.raises(RepairError, match="no repair case 'RC-0099'"):
        repair.note(warehouse, "RC-0099", "x")
    repair.submit(warehouse, case_id, date(2026, 11, 16), "creditchina")
    with pytest.raises(RepairError, match="outcome date 2026-11-10 is before its submission on 2026-11-16"):
        repair.outcome(warehouse, case_id, "accepted", date(2026, 11, 10))
    with pytest.raises(RepairError, match="in the future"):
        repair.outcome(warehouse, case_id, "rejected", date(2999, 1, 1))
    # Refused commands changed nothing; a note does not change the state.
    assert repair.note(warehouse, case_id, "电话催办").state == "submitted"
    assert [r["state"] for r in repair.list_cases(warehouse, AS_OF)] == ["submitted"]
    assert sorted(p.name for p in packs.iterdir()) == ["RC-0001"]  # no pack for the refused second open
    again = repair.write_case_pack(warehouse, case_id, packs)  # written again whole, in the same place
    assert sorted(p.name for p in packs.iterdir()) == ["RC-0001"] and len(again.files) == 3


def test_the_state_machine() -> None:
    assert tuple(LABELS["state"]) == STATES  # every state has its workbook label, in order
    assert {to for _, to in TRANSITIONS.values()} | {"open"} == set(STATES)
    assert next_state("RC-1", "rejected", "submit") == "submitted"  # corrected and applied again
    assert next_state("RC-1", "still_shown", "verify_removed") == "removed_verified"
    with pytest.raises(RepairError, match="case RC-1 is removed_verified: cannot submit .*; removed_verified is final"):
        next_state("RC-1", "removed_verified", "submit")


# -------------------------------------------------------------------------------------------- deadlines


def test_deadline_across_national_day_with_its_adjusted_working_saturday() -> None:
    gsxt = handling_time("gsxt", "penalty")
    assert (gsxt.handling_days, gsxt.handling_confidence) == (7, "confirmed")  # SAMR 2025 rules
    # Submitted Tue 2026-09-29: 09-30 is day 1; 10-01…10-07 are the National Day holiday; 10-08, 10-09, then
    # Saturday 10-10 is an adjusted working day (调休), then 10-12, 10-13, 10-14. Counting weekends as
    # weekends would give 10-15; ignoring the holiday, 10-09.
    assert decision_due(date(2026, 9, 29), gsxt) == date(2026, 10, 14)
    # Removal: handling + sync (3) after submission, at least sync after acceptance.
    assert removal_due(date(2026, 9, 29), date(2026, 10, 9), gsxt) == date(2026, 10, 19)
    assert removal_due(date(2026, 9, 29), date(2026, 10, 16), gsxt) == date(2026, 10, 21)
    late = case_deadline("submitted", date(2026, 9, 29), None, gsxt, as_of=date(2026, 10, 15))
    assert (late.kind, late.due, late.overdue) == ("decision", date(2026, 10, 14), True)
    assert not case_deadline("submitted", date(2026, 9, 29), None, gsxt, as_of=date(2026, 10, 14)).overdue
    assert case_deadline("open", None, None, None, as_of=date(2026, 10, 15)).due is None


def test_a_deadline_on_an_unpublished_calendar_is_not_guessed() -> None:
    deadline = case_deadline("submitted", date(2100, 3, 1), None, handling_time("court"), as_of=date(2100, 3, 9))
    assert deadline.due is None and not deadline.overdue and "2100" in deadline.note


def test_handling_times_are_data_with_basis_and_confidence() -> None:
    times = load_handling_times()
    assert {p for p, _ in times} == {"creditchina", "gsxt", "miit", "court"}
    assert all(t.handling_basis and t.sync_basis for t in times.values())
    assert handling_time("miit").handling_confidence == "unconfirmed"
    assert handling_time("gsxt", "abnormal_operation").handling_days == 5  # a record type's own row wins
    assert handling_time("gsxt", "penalty").handling_days == 7


# ------------------------------------------------------------------------------------- verified removal


@pytest.fixture(scope="module")
def week1(cases: dict) -> Path:
    """Week 1 as the run applies it: first an incomplete crawl without 星辰's penalty (proves nothing), then a
    complete one without it; 清朗's is still shown."""
    root, warehouse = cases["root"], cases["warehouse"]
    incomplete = penalties_run(root / "runs", "r2a", ["P-keep"], "2026-11-19T06:00:00+00:00", complete=False)
    complete = penalties_run(root / "runs", "r2", ["P-keep"], WEEK1)
    con = connect(warehouse)
    try:
        apply_run(con, incomplete, as_of=AS_OF)
        cases["after_incomplete"] = {r["case_id"]: r["state"] for r in repair_rows(con)}
        apply_run(con, complete, as_of=AS_OF)
    finally:
        con.close()
    return warehouse


def repair_rows(con) -> list[dict]:  # noqa: ANN001
    relation = con.execute("SELECT * FROM marts.repair_cases ORDER BY case_id")
    return [dict(zip([c[0] for c in relation.description], row, strict=True)) for row in relation.fetchall()]


def test_the_first_complete_crawl_without_the_record_closes_the_case(cases, week1: Path, tmp_path: Path) -> None:
    # An incomplete crawl proves no removal; it does show that 清朗's record is still there after its due date.
    assert cases["after_incomplete"] == {"RC-0001": "accepted", "RC-0002": "still_shown"}
    con = connect(week1, read_only=True)
    try:
        star, clean = repair_rows(con)
        [actor] = con.execute("SELECT DISTINCT actor FROM ops.repair_case_events "
                              "WHERE action = 'verify_removed'").fetchone()
    finally:
        con.close()
    assert (star["case_id"], star["state"], star["verified_on"], star["verified_run_id"]) == (
        "RC-0001", "removed_verified", date(2026, 11, 20), "r2")
    assert not star["overdue"] and star["days_open"] >= 0 and actor == "creditwatch run"
    # Gone from the registry, it is no removal candidate any more: no second case.
    with pytest.raises(RepairError, match=r"is not a removal candidate \(no longer shown\)"):
        repair.open_case(week1, "沪通管罚〔2026〕5号", tmp_path)


def test_a_record_still_shown_after_its_deadline_is_flagged_and_overdue(cases, week1: Path) -> None:
    con = connect(week1, read_only=True)
    try:
        _, clean = repair_rows(con)
        events = [e for e in compute_events(con, licence_expiry_days=90, max_age_days=14)
                  if e.kind == "repair_overdue"]
    finally:
        con.close()
    # Submitted 11-02, 7 + 3 working days → due gone by 11-16; the 11-19 crawl still showed it (flagged then),
    # and so did the complete 11-20 one (the flag stands).
    assert (clean["case_id"], clean["state"], clean["verified_on"], clean["verified_run_id"]) == (
        "RC-0002", "still_shown", date(2026, 11, 19), "r2a")
    assert (clean["deadline_kind"], clean["deadline"], clean["overdue"]) == ("removal", date(2026, 11, 16), True)
    assert clean["days_to_deadline"] == (date(2026, 11, 16) - AS_OF).days
    assert [r["case_id"] for r in repair.list_cases(week1, AS_OF, overdue_only=True)] == ["RC-0002"]
    [event] = events
    assert (event.subject, event.operator_id, event.severity) == ("RC-0002", CLEAN, "warning")
    assert "2026-11-19 的抓取仍公示此记录" in event.detail


def test_the_workbook_and_report_show_repair_progress(week1: Path) -> None:
    con = connect(week1, read_only=True)
    try:
        frames = collect_tables(con, "2026-W47")
        page = render_report(collect_report(con, "2026-W47"), "zh")
    finally:
        con.close()
    sheet = frames["repair_cases"]
    assert list(sheet["case_id"]) == ["RC-0002", "RC-0001"]  # overdue first
    summary = dict(frames["summary"].itertuples(index=False))
    assert (summary["repair_cases"], summary["repair_cases_overdue"]) == ("2", "1")
    assert 'id="repair"' in page and "逾期仍公示" in page and "已核实撤下" in page


def test_the_cli_is_one_clear_line_on_a_refused_step(week1: Path, tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flows.cli", "--warehouse", str(week1), "repair", *args],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)

    refused = cli("submit", "RC-0001", "--on", "2026-11-21", "--platform", "creditchina")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("error: case RC-0001 is removed_verified: cannot submit (only from open or "
                                      "rejected); removed_verified is final")
    listed = cli("list", "--overdue", "--as-of", "2026-11-23")
    assert listed.returncode == 0 and "RC-0002" in listed.stdout and "RC-0001" not in listed.stdout


def test_the_data_test_refuses_a_case_without_its_facts(week0: Path, tmp_path: Path) -> None:
    warehouse = copy_warehouse(week0, tmp_path / "wh")
    con = connect(warehouse)
    try:
        # Written past the state machine (as a bad restore or a hand edit would): submitted with no date.
        con.execute("INSERT INTO ops.repair_cases (case_id, record_id, record_type, state, opened_at, opened_by, "
                    "platform, updated_at) VALUES ('RC-0009', 'x', 'penalty', 'submitted', now(), 't', 'gsxt', now())")
        with pytest.raises(DataTestFailure, match="repair_cases_consistent: 1 rows"):
            build(con, as_of=AS_OF)
    finally:
        con.close()


def test_the_templates_use_only_the_fields_the_pack_fills() -> None:
    for name in DOCUMENTS:
        used = DocxTemplate(TEMPLATES / f"{name}.docx").get_undeclared_template_variables()
        assert used and used <= set(FIELDS), (name, used - set(FIELDS))
