"""The marts a compliance reader sees: risk per operator (cloud credit evaluation dimension 1 with its
reasons), removal candidates, weekly changes, licence risk; and the removal facts the warehouse derives
from records (the province, a new penalty after a bad-list entry)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.items import record_id
from pipelines.run_folder import QUARANTINE_SCHEMA, RECORD_SCHEMA, RunFolder, to_json
from replica.world import BUSINESS_TYPES, uscc_check_char
from tests.helpers import licence_fields, write_run
from transforms.build import build
from warehouse.db import connect
from warehouse.facts import FactsError, import_facts
from warehouse.load import load_run

AS_OF = date(2026, 11, 23)


def uscc(body: str) -> str:
    first17 = ("91110000" + body)[:17]
    return first17 + uscc_check_char(first17)


CLEAN, LISTED_BAD, LISTED_DISHONEST, HISTORY = (uscc(b) for b in ("AAAAAAAA1", "BBBBBBBB2", "CCCCCCCC3", "DDDDDDDD4"))
NAMES = {
    CLEAN: "北京清朗科技有限公司",
    LISTED_BAD: "北京劣迹科技有限公司",
    LISTED_DISHONEST: "北京失信网络科技有限公司",
    HISTORY: "北京旧账数据科技有限公司",
}


def operator(n: int, code: str, expires: str = "2029-01-01") -> dict:
    """A licence for CDN and cloud (B12 + B11-cloud): dimension 1 scores its list entries."""
    fields = licence_fields(n, NAMES[code], expires=expires) | {"uscc": code}
    cloud = {"business_type": BUSINESS_TYPES["B11-cloud"], "coverage": "全国", "issued_on": "2024-01-01",
             "expires_on": expires}
    return fields | {"business_types": [*fields["business_types"], cloud]}


def penalty(code: str, number: str, decided: str, kinds: str = "罚款", fine: str = "5000") -> dict:
    return {
        "decision_no": number,
        "subject_name": NAMES.get(code, "某某"),
        "subject_uscc": code,
        "penalty_kinds_text": kinds,
        "content": f"{kinds}{fine}元",
        "fine_yuan": fine,
        "decided_on": decided,
        "published_on": decided,
        "authority": "北京市通信管理局",
        "domain": "telecom",
    }


def list_entry(code: str, kind: str) -> dict:
    return {
        "list_kind": kind,
        "subject_name": NAMES[code],
        "subject_uscc": code,
        "licence_no": None,
        "decided_on": "2026-10-01",
        "reason": "未按规定报告年报信息" if kind == "bad" else "被吊销许可证",
        "unit": "北京市通信管理局",
        "notice_title": "公告",
        "notice_url": "http://x",
        "notice_published_on": "2026-10-20",
    }


@pytest.fixture
def con(tmp_path: Path, warehouse: Path):
    con = connect(warehouse)
    # Week 1: four operators; a penalty on HISTORY that a later complete crawl no longer shows.
    root = tmp_path / "runs"
    write_run(
        root,
        "r1",
        "miit_licences",
        {
            "l1": operator(1, CLEAN),
            "l2": operator(2, LISTED_BAD, "2027-03-01"),
            "l3": operator(3, LISTED_DISHONEST),
            "l4": operator(4, HISTORY),
        },
        finished_at="2026-11-10T06:00:00+00:00",
    )
    write_run(
        root,
        "r1",
        "creditchina_penalties",
        {"P-old": penalty(HISTORY, "京通管罚〔2025〕1号", "2025-05-01")},
        finished_at="2026-11-10T06:00:00+00:00",
        record_type="penalty",
    )
    load_run(con, root / "r1")
    # Week 2: the old penalty is gone; new penalty and list entries appear.
    write_run(
        root,
        "r2",
        "miit_licences",
        {
            "l1": operator(1, CLEAN),
            "l2": operator(2, LISTED_BAD, "2027-03-01"),
            "l3": operator(3, LISTED_DISHONEST),
            "l4": operator(4, HISTORY),
        },
        finished_at="2026-11-20T06:00:00+00:00",
    )
    write_run(
        root,
        "r2",
        "creditchina_penalties",
        {"P-new": penalty(LISTED_BAD, "京通管罚〔2026〕9号", "2026-05-01")},
        finished_at="2026-11-20T06:00:00+00:00",
        record_type="penalty",
    )
    write_run(
        root,
        "r2",
        "miit_telecom_lists",
        {"bad-1": list_entry(LISTED_BAD, "bad"), "dis-1": list_entry(LISTED_DISHONEST, "dishonest")},
        finished_at="2026-11-20T06:00:00+00:00",
        record_type="telecom_list_entry",
    )
    load_run(con, root / "r2")
    build(con, as_of=AS_OF)
    return con


def test_cloud_rating_dimension_one(con) -> None:
    scores = dict(con.execute("SELECT uscc, cloud_rating_dimension1 FROM marts.operator_risk").fetchall())
    assert scores == {CLEAN: 30, HISTORY: 20, LISTED_BAD: 10, LISTED_DISHONEST: 0}


def test_cloud_rating_dimension_one_names_the_records_that_decided_it(con) -> None:
    reasons = dict(con.execute("SELECT uscc, cloud_rating_dimension1_reasons FROM marts.operator_risk").fetchall())
    assert reasons[CLEAN] == "未列入两单且无违规记录"
    # HISTORY's penalty was removed from display: still a violation record of the telecom data.
    assert reasons[HISTORY] == "电信行业信用管理数据中有违规记录：京通管罚〔2025〕1号（2025-05-01）"
    # The bad-list entry names no licence: counted (the cautious reading) and flagged for a person.
    assert reasons[LISTED_BAD] == "列入电信业务经营不良名单：公告（2026-10-01）〔待复核〕"
    assert reasons[LISTED_DISHONEST].startswith("列入电信业务经营失信名单：公告（2026-10-01）")
    evidence = con.execute(
        "SELECT evidence, score, needs_review, note FROM marts.cloud_rating_evidence WHERE operator_name = ?",
        [NAMES[LISTED_BAD]]).fetchall()
    # The bad entry and the penalty are both there; the penalty is a lower-ranked violation record.
    assert sorted((e, s) for e, s, _, _ in evidence) == [("bad_list", 10), ("violation_record", 20)]
    assert any(r and "unknown: needs licence_no" in n for _, _, r, n in evidence)


def test_removal_waits_for_recorded_performance(con, tmp_path: Path) -> None:
    status = con.execute(
        "SELECT removal_status, early_removal_from, auto_removal_on FROM marts.open_records "
        "WHERE reference = '京通管罚〔2026〕9号'"
    ).fetchall()
    # 36号令 general (a fine), decided 2026-05-01: 3 months minimum, 1 year maximum (shown through
    # 2027-05-01); nothing recorded yet.
    assert status == [("conditions_unmet", None, date(2027, 5, 2))]
    assert con.execute("SELECT count(*) FROM marts.removal_candidates").fetchall()[0][0] == 0
    facts = tmp_path / "facts.csv"
    facts.write_text(
        "reference,obligations_done_date,corrected_date,note\n京通管罚〔2026〕9号,2026-05-20,2026-05-20,paid\n", "utf-8"
    )
    assert import_facts(con, facts, "tester") == 1
    assert import_facts(con, facts, "tester") == 0  # the same file again changes nothing
    build(con, as_of=AS_OF)
    [row] = con.execute(
        "SELECT removal_status, early_removal_from, materials, where_to_apply FROM marts.removal_candidates"
    ).fetchall()
    assert row[:2] == ("eligible", date(2026, 8, 2))
    assert "罚款缴纳凭证" in row[2] and "信用中国" in row[3]


def test_bad_facts_are_refused_whole(con, tmp_path: Path) -> None:
    facts = tmp_path / "facts.csv"
    facts.write_text("reference,obligations_done_date\n京通管罚〔2026〕9号,2026-05-20\nnope,2026-05-20\n", "utf-8")
    with pytest.raises(FactsError, match=r"facts.csv:3: no record with reference 'nope'"):
        import_facts(con, facts, "tester")
    assert con.execute("SELECT count(*) FROM ops.compliance_facts").fetchall()[0][0] == 0


def test_weekly_changes_new_and_removed(con) -> None:
    changes = {
        (c, r)
        for c, r in con.execute(
            "SELECT change, reference FROM marts.weekly_changes WHERE record_type <> 'licence'"
        ).fetchall()
    }
    assert ("removed", "京通管罚〔2025〕1号") in changes
    assert ("new", "京通管罚〔2026〕9号") in changes


def test_licence_risk_names_the_blocking_list(con) -> None:
    rows = con.execute("SELECT operator_name, days_to_expiry, blocking_lists FROM marts.licence_risk").fetchall()
    assert rows == [(NAMES[LISTED_BAD], 98, "电信业务经营不良名单")]


# ----------------------------------------------------------------- issue 12 in the warehouse

AS_OF_2 = date(2026, 11, 23)
LAPSED, KEPT, NONCLOUD, OTHERS = (uscc(b) for b in ("EEEEEEEE5", "FFFFFFFF6", "GGGGGGGG7", "HHHHHHHH8"))
HUBEI = "914200000JJJJJJJ9"[:17] + uscc_check_char("914200000JJJJJJJ9"[:17])  # registered in 湖北 (42)
NAMES_2 = {
    LAPSED: "北京云甲科技有限公司",  # a bad-list entry a year old, no new penalty: off the list
    KEPT: "北京云乙科技有限公司",  # a bad-list entry and a new penalty within the year: still listed
    NONCLOUD: "北京网丙科技有限公司",  # CDN only: its dishonest-list entry is for other business
    OTHERS: "北京云丁科技有限公司",  # records of other registries, and an MIIT penalty from 2017
    HUBEI: "赤壁云戊科技有限公司",  # a gsxt penalty by a 湖北 authority
}


def licence_2(n: int, code: str, cloud: bool = True) -> dict:
    fields = licence_fields(100 + n, NAMES_2[code], expires="2029-01-01") | {"uscc": code}
    if cloud:
        fields["business_types"] = [{"business_type": BUSINESS_TYPES["B11-cloud"], "coverage": "全国",
                                     "issued_on": "2024-01-01", "expires_on": "2029-01-01"}]
    return fields


def entry(code: str, kind: str, decided: str, reason: str, licence_no: str | None) -> dict:
    return {"list_kind": kind, "subject_name": NAMES_2[code], "subject_uscc": code, "licence_no": licence_no,
            "decided_on": decided, "reason": reason, "unit": "北京市通信管理局", "notice_title": f"公告{decided}",
            "notice_url": "http://x", "notice_published_on": decided}


def write_source(root: Path, run_id: str, source: str, rows: list[tuple[str, str, dict]], at: str) -> None:
    """A run folder for a source whose records are of several types (gsxt_records)."""
    folder = RunFolder(root / run_id)
    folder.path.mkdir(parents=True, exist_ok=True)
    table = [{"record_id": record_id(source, key), "source": source, "record_type": record_type, "natural_key": key,
              "url": f"http://replica/{key}", "fetched_at": at, "content_hash": key, "raw_json": to_json(fields),
              "fields_json": to_json(fields)} for key, record_type, fields in rows]
    pq.write_table(pa.Table.from_pylist(table, schema=RECORD_SCHEMA), folder.records(source))
    pq.write_table(pa.Table.from_pylist([], schema=QUARANTINE_SCHEMA), folder.quarantine(source))
    folder.manifest(source).write_text(json.dumps({
        "run_id": run_id, "source": source, "started_at": at, "finished_at": at, "complete": True,
        "incomplete_reasons": [], "items": len(table), "quarantined": 0, "pages_fetched": 1, "pages_failed": 0,
        "retries": 0, "expected_rows": len(table)}), "utf-8")


@pytest.fixture(scope="module")
def wh2(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("wh2")
    con = connect(root / "data" / "creditwatch.duckdb")
    at = "2026-11-20T06:00:00+00:00"
    write_run(root / "runs", "r1", "miit_licences", {
        "l1": licence_2(1, LAPSED), "l2": licence_2(2, KEPT), "l3": licence_2(3, NONCLOUD, cloud=False),
        "l4": licence_2(4, OTHERS), "l5": licence_2(5, HUBEI)}, finished_at=at)
    penalised = "违反电信管理规定受到行政处罚"
    write_run(root / "runs", "r1", "miit_telecom_lists", {
        "e1": entry(LAPSED, "bad", "2025-06-01", penalised, "B1-20240101"),
        "e2": entry(KEPT, "bad", "2025-12-01", penalised, "B1-20240102"),
        "e3": entry(NONCLOUD, "dishonest", "2026-10-01", "被吊销电信业务经营许可证", "B1-20240103"),
    }, finished_at=at, record_type="telecom_list_entry")
    write_run(root / "runs", "r1", "creditchina_penalties", {
        "p1": penalty(KEPT, "京通管罚〔2026〕3号", "2026-03-01") | {"subject_name": NAMES_2[KEPT]},
        "p2": penalty(OTHERS, "京通管罚〔2017〕5号", "2017-06-01") | {"subject_name": NAMES_2[OTHERS]},
    }, finished_at=at, record_type="penalty")
    gsxt_penalty = {"subject_name": NAMES_2[HUBEI], "subject_uscc": HUBEI, "penalty_kinds_text": "罚款",
                    "content": "罚款5000元", "fine_wan": "5000", "decided_on": "2025-11-01",
                    "published_on": "2025-11-05"}
    write_source(root / "runs", "r1", "gsxt_records", [
        ("g1", "penalty", gsxt_penalty | {"decision_no": "赤市监罚〔2025〕1号", "authority": "赤壁市市场监督管理局"}),
        ("g2", "penalty", gsxt_penalty | {"decision_no": "国市监罚〔2025〕2号", "authority": "国家市场监督管理总局"}),
        ("a1", "abnormal_operation", {"subject_name": NAMES_2[OTHERS], "subject_uscc": OTHERS,
                                      "reason": "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告的",
                                      "listed_on": "2023-07-01", "authority": "北京市海淀区市场监督管理局"}),
    ], at)
    load_run(con, root / "runs" / "r1")
    build(con, as_of=AS_OF_2)
    yield con
    con.close()


def test_bad_list_entry_without_a_new_penalty_ends_a_year_after_listing(wh2) -> None:
    row = wh2.execute("SELECT removal_status, display_until, auto_removal_on, removal_reason FROM marts.open_records "
                      "WHERE operator_name = ?", [NAMES_2[LAPSED]]).fetchone()
    assert row[:3] == ("expired", date(2026, 6, 1), date(2026, 6, 2))
    assert "no new administrative penalty on record" in row[3]
    risk = wh2.execute("SELECT on_telecom_bad_list, open_telecom_bad_list, cloud_rating_dimension1 "
                       "FROM marts.operator_risk WHERE uscc = ?", [LAPSED]).fetchone()
    # Still printed on the notice page (open), but off the list: dimension 1 keeps it as history (20).
    assert risk == (False, 1, 20)


def test_bad_list_entry_kept_by_a_new_penalty_names_it(wh2) -> None:
    row = wh2.execute("SELECT removal_status, auto_removal_on, confidence, removal_reason FROM marts.open_records "
                      "WHERE operator_name = ? AND record_type = 'telecom_bad_list'", [NAMES_2[KEPT]]).fetchone()
    assert row[:3] == ("barred", None, "unconfirmed")
    assert "京通管罚〔2026〕3号" in row[3] and "2026-03-01" in row[3]
    risk = wh2.execute("SELECT on_telecom_bad_list, cloud_rating_dimension1, cloud_rating_dimension1_reasons "
                       "FROM marts.operator_risk WHERE uscc = ?", [KEPT]).fetchone()
    assert risk == (True, 10, "列入电信业务经营不良名单：公告2025-12-01（2025-12-01）")


def test_entry_for_other_business_is_listed_for_a_person_not_scored(wh2) -> None:
    risk = wh2.execute("SELECT cloud_rating_dimension1, cloud_rating_entries_for_review, cloud_rating_review_notes, "
                       "on_telecom_dishonest_list FROM marts.operator_risk WHERE uscc = ?", [NONCLOUD]).fetchone()
    assert risk[0] == 30 and risk[1] == 1 and "自律委员会" in risk[2] and risk[3] is True
    evidence = wh2.execute("SELECT evidence, scored, licence_no, licence_business_codes "
                           "FROM marts.cloud_rating_evidence WHERE operator_name = ?", [NAMES_2[NONCLOUD]]).fetchall()
    assert evidence == [("unrelated_business", False, "B1-20240103", "B12")]


def test_dimension_one_ignores_other_registries_and_records_before_2018_01_22(wh2) -> None:
    risk = wh2.execute("SELECT cloud_rating_dimension1, open_abnormal_operations FROM marts.operator_risk "
                       "WHERE uscc = ?", [OTHERS]).fetchone()
    assert risk == (30, 1)
    evidence = wh2.execute("SELECT reference, evidence, scored FROM marts.cloud_rating_evidence "
                           "WHERE operator_name = ?", [NAMES_2[OTHERS]]).fetchall()
    assert evidence == [("京通管罚〔2017〕5号", "before_counting", False)]  # the abnormal listing is not there


def test_escalation_on_reaches_the_marts(wh2) -> None:
    row = wh2.execute("SELECT escalation_on FROM marts.open_records "
                      "WHERE record_type = 'abnormal_operation'").fetchone()
    assert row == (date(2026, 7, 2),)
    assert wh2.execute("SELECT next_escalation_on FROM marts.operator_risk WHERE uscc = ?",
                       [OTHERS]).fetchone() == (date(2026, 7, 2),)


def test_province_reaches_the_low_fine_threshold_from_the_record(wh2) -> None:
    rows = dict(wh2.execute(
        "SELECT c.reference, (p.province, p.province_from, s.rule_id, s.confidence, s.display_until) "
        "FROM core.credit_records c JOIN core.record_provinces p USING (record_id) "
        "JOIN core.removal_status s USING (record_id) WHERE c.platform = 'gsxt' AND c.record_type = 'penalty'"
    ).fetchall())
    # 赤壁市 is in 湖北 (seeds.province_places): the 湖北 threshold applies, confirmed; 3 months from 2025-11-05.
    assert rows["赤市监罚〔2025〕1号"] == ("湖北", "authority", "gsxt_penalty_low", "confirmed", date(2026, 2, 5))
    # A national body: the subject's USCC (42…) gives 湖北.
    assert rows["国市监罚〔2025〕2号"][:2] == ("湖北", "subject_uscc")
    beijing = wh2.execute("SELECT province, province_from FROM core.record_provinces p JOIN core.credit_records c "
                          "USING (record_id) WHERE c.reference = '京通管罚〔2026〕3号'").fetchone()
    assert beijing == ("北京", "authority")


def test_gsxt_domain_and_severity_assumptions_are_said(wh2) -> None:
    reason = wh2.execute("SELECT reason FROM core.removal_status s JOIN core.credit_records c USING (record_id) "
                         "WHERE c.reference = '赤市监罚〔2025〕1号'").fetchone()[0]
    assert reason == "assumed: domain=general (not published by the registry; our default reading)"
