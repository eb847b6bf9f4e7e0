"""The marts a compliance reader sees: risk per operator, removal candidates, weekly changes, licence risk."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from replica.world import uscc_check_char
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
    return licence_fields(n, NAMES[code], expires=expires) | {"uscc": code}


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


def test_removal_waits_for_recorded_performance(con, tmp_path: Path) -> None:
    status = con.execute(
        "SELECT removal_status, early_removal_from, auto_removal_on FROM marts.open_records "
        "WHERE reference = '京通管罚〔2026〕9号'"
    ).fetchall()
    # 36号令 general (a fine), decided 2026-05-01: 3 months minimum, 1 year maximum; nothing recorded yet.
    assert status == [("conditions_unmet", None, date(2027, 5, 1))]
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
    assert row[:2] == ("eligible", date(2026, 8, 1))
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
