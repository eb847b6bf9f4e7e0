"""Analysts' link decisions are judgements that win over the linker on every rebuild."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from flows import stages
from tests.helpers import write_run
from tests.test_marts import LISTED_BAD, NAMES, operator, penalty
from warehouse.db import connect
from warehouse.judgements import JudgementError


def link_of(warehouse: Path, reference: str) -> tuple:
    con = connect(warehouse, read_only=True)
    try:
        return con.execute(
            "SELECT l.status, l.method, l.operator_id FROM core.record_links l "
            "JOIN core.credit_records r USING (record_id) WHERE r.reference = ?",
            [reference],
        ).fetchall()[0]
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path: Path, warehouse: Path) -> Path:
    write_run(tmp_path, "r1", "miit_licences", {"l2": operator(2, LISTED_BAD)})
    write_run(
        tmp_path,
        "r1",
        "creditchina_penalties",
        {"P": penalty(LISTED_BAD, "京通管罚〔2026〕9号", "2026-05-01")},
        record_type="penalty",
    )
    stages.load_and_build(warehouse, tmp_path / "r1", as_of=date(2026, 11, 23))
    return warehouse


def test_reject_then_link_again(loaded: Path) -> None:
    assert link_of(loaded, "京通管罚〔2026〕9号") == ("linked", "uscc", LISTED_BAD)
    stages.judge_link(loaded, "京通管罚〔2026〕9号", None, "negative", "tester", "not them")
    status, _, operator_id = link_of(loaded, "京通管罚〔2026〕9号")
    assert status != "linked" or operator_id != LISTED_BAD
    stages.judge_link(loaded, "京通管罚〔2026〕9号", LISTED_BAD, "positive", "tester")
    assert link_of(loaded, "京通管罚〔2026〕9号") == ("linked", "analyst", LISTED_BAD)
    con = connect(loaded, read_only=True)
    assert con.execute("SELECT count(*) FROM ops.link_judgements").fetchall()[0][0] == 2
    assert con.execute("SELECT name FROM core.licensed_operators").fetchall() == [(NAMES[LISTED_BAD],)]


def test_unknown_record_or_operator_is_a_clear_error(loaded: Path) -> None:
    with pytest.raises(JudgementError, match="no record 'nope'"):
        stages.judge_link(loaded, "nope", None, "positive", "tester")
    with pytest.raises(JudgementError, match="no licensed operator"):
        stages.judge_link(loaded, "京通管罚〔2026〕9号", "91110000XXXXXXXXX1", "positive", "tester")
