"""core.removal_status is incremental (issue 18): a build evaluates only the cases that are new, changed, or
whose answer may change between the last as-of date and this one (`stable_until`), and gives what a
from-scratch evaluation gives after any sequence of weeks: cases edited, facts recorded, cases added and
removed, the as-of date moving on by days or years across display ends, early-removal days and escalations.

The cases are the rules' own worked examples (rules.yaml `example`, checked by tests/test_removal_rules.py)
and a few that reach the remaining answers (unknown, a listing kept by a new penalty, an error)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import transforms.models.core.removal_status as removal_model
import transforms.removal.engine as engine
from transforms.build import build, build_model, discover
from transforms.removal import STATUSES, evaluate_cases, load_rules

# core.removal_cases as the warehouse types it (transforms/models/core/removal_cases.sql)
CASE_TYPES = {
    "record_id": "VARCHAR", "record_type": "VARCHAR", "platform": "VARCHAR", "penalty_kinds": "VARCHAR",
    "fine_amount_yuan": "DECIMAL(18, 2)", "domain": "VARCHAR", "severity": "VARCHAR", "decision_date": "DATE",
    "publish_date": "DATE", "listed_date": "DATE", "obligations_done_date": "DATE", "corrected_date": "DATE",
    "term_years": "INTEGER", "province": "VARCHAR", "subject_type": "VARCHAR", "new_penalty_date": "DATE",
    "new_penalty_reference": "VARCHAR", "assumed_fields": "VARCHAR",
}
CLOCK_FIELDS = ("decision_date", "publish_date", "listed_date")
FACT_FIELDS = ("obligations_done_date", "corrected_date", "new_penalty_date")
TEXT_VALUES = {"severity": ("minor", "general", "serious"), "domain": ("general", "food", "fire", "drug"),
               "penalty_kinds": ("fine", "warning", "licence_revocation", "administrative_penalty")}
EXTRA_CASES = [
    # unknown: the rule cannot be chosen without a severity
    {"platform": "creditchina", "record_type": "penalty", "penalty_kinds": "fine", "decision_date": date(2026, 5, 1)},
    # a bad-list entry kept listed by a new penalty within the year (no automatic stop)
    {"platform": "miit", "record_type": "telecom_bad_list", "penalty_kinds": "administrative_penalty",
     "listed_date": date(2025, 11, 20), "new_penalty_date": date(2026, 11, 20),
     "new_penalty_reference": "京通管罚〔2026〕7号"},
    # an error: a court term outside 2–5 years
    {"platform": "court", "record_type": "court_dishonest", "listed_date": date(2023, 6, 15), "term_years": 9},
    # a 58号令 record answered beside 36号令 (alt_*), with an assumed severity
    {"platform": "creditchina", "record_type": "penalty", "penalty_kinds": "fine", "domain": "general",
     "severity": "general", "decision_date": date(2025, 6, 1), "obligations_done_date": date(2025, 6, 10),
     "corrected_date": date(2025, 6, 10), "assumed_fields": "severity", "province": "湖北省"},
]


def templates() -> list[dict[str, Any]]:
    """Every rule's worked example as a case, and the extra cases."""
    examples = [{"platform": r.platform, "record_type": r.record_types[0], **r.example["case"]} for r in load_rules()]
    return examples + EXTRA_CASES


TEMPLATES = templates()


def write_cases(con: duckdb.DuckDBPyConnection, cases: dict[str, dict[str, Any]]) -> None:
    """core.removal_cases as the build would leave it."""
    con.execute("CREATE SCHEMA IF NOT EXISTS core")
    con.execute(f"CREATE OR REPLACE TABLE core.removal_cases ({', '.join(f'{c} {t}' for c, t in CASE_TYPES.items())})")
    rows = [[rid if c == "record_id" else case.get(c) for c in CASE_TYPES] for rid, case in cases.items()]
    if rows:
        con.executemany(f"INSERT INTO core.removal_cases VALUES ({', '.join('?' * len(CASE_TYPES))})", rows)


def sorted_rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


@contextmanager
def counting_evaluated() -> Iterator[list[int]]:
    """The number of cases each of the model's evaluation queries is given, while the block runs."""
    counts: list[int] = []
    real = engine.evaluate_cases

    def counted(con: duckdb.DuckDBPyConnection, cases: str, *args: Any, **kwargs: Any) -> duckdb.DuckDBPyRelation:
        if cases != removal_model.NO_CASES:  # the shape of the answers, asked once per build
            counts.append(con.execute(f"SELECT count(*) FROM {cases}").fetchall()[0][0])
        return real(con, cases, *args, **kwargs)

    engine.evaluate_cases = counted  # the model's module is loaded afresh by each build, from the engine
    try:
        yield counts
    finally:
        engine.evaluate_cases = real


def incremental(con: duckdb.DuckDBPyConnection, as_of: date) -> tuple[list[tuple], int]:
    """core.removal_status built by its model at `as_of`, and how many cases that build evaluated."""
    con.execute("SET VARIABLE as_of = ?::DATE", [as_of])
    with counting_evaluated() as counts:
        build_model(con, MODEL)
    return sorted_rows(con, "SELECT * FROM core.removal_status"), sum(counts)


def from_scratch(con: duckdb.DuckDBPyConnection, as_of: date) -> list[tuple]:
    return sorted(evaluate_cases(con, "core.removal_cases", as_of).fetchall(), key=repr)


MODEL = discover()["core.removal_status"]


def shifted(day: Any, days: int) -> Any:
    return day + timedelta(days=days) if isinstance(day, date) else day


def apply_edit(cases: dict[str, dict[str, Any]], edit: tuple, as_of: date, serial: int) -> None:
    """One week's change to one case: a date moved, a fact recorded (possibly dated after the as-of date), a
    field cleared or set, a case added (a template moved in time) or removed."""
    kind, pick, field, amount = edit
    ids = sorted(cases)
    if kind == "add" or not ids:
        template = TEMPLATES[pick % len(TEMPLATES)]
        cases[f"n{serial}"] = {k: shifted(v, amount) for k, v in template.items()}
        return
    case = cases[ids[pick % len(ids)]]
    if kind == "remove":
        del cases[ids[pick % len(ids)]]
    elif kind == "shift" and case.get(field) is not None:
        case[field] = shifted(case[field], amount)
    elif kind == "fact":
        case[field] = as_of + timedelta(days=amount)
    elif kind == "clear":
        case[field] = None
    elif kind == "set":
        case[field] = TEXT_VALUES[field][amount % len(TEXT_VALUES[field])]


def boundaries(rows: list[tuple], cases: dict[str, dict[str, Any]]) -> list[date]:
    """Every date in the answers and the cases: where an answer may turn."""
    days = {v for row in rows for v in row if isinstance(v, date)}
    days |= {v for case in cases.values() for v in case.values() if isinstance(v, date)}
    return sorted(days)


def next_as_of(as_of: date, move: tuple, days: list[date]) -> date:
    """The as-of date moved on by a number of days, or to a day next to a date an answer may turn on."""
    kind, amount, near = move
    if kind == "days" or not days:
        return as_of + timedelta(days=amount)
    return max(as_of, days[amount % len(days)] + timedelta(days=near))


any_case = st.integers(0, 1000)
edits = st.lists(st.one_of(
    st.tuples(st.just("shift"), any_case, st.sampled_from([*CLOCK_FIELDS, *FACT_FIELDS]), st.integers(-400, 400)),
    st.tuples(st.just("fact"), any_case, st.sampled_from(FACT_FIELDS), st.integers(-60, 400)),
    st.tuples(st.just("clear"), any_case, st.sampled_from([*CLOCK_FIELDS, *FACT_FIELDS, *TEXT_VALUES]), st.just(0)),
    st.tuples(st.just("set"), any_case, st.sampled_from(list(TEXT_VALUES)), st.integers(0, 3)),
    st.tuples(st.just("add"), any_case, st.just(""), st.integers(-2000, 400)),
    st.tuples(st.just("remove"), any_case, st.just(""), st.just(0)),
), max_size=5)
moves = st.one_of(
    st.tuples(st.just("days"), st.one_of(st.integers(0, 14), st.integers(15, 400), st.integers(400, 2500)),
              st.just(0)),
    st.tuples(st.just("near"), st.integers(0, 1000), st.integers(-1, 1)),
)


# No explain phase: it traces every line the engine's SQL tokenizer runs (minutes per example).
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink))
@given(start=st.dates(date(2023, 6, 1), date(2027, 6, 30)), weeks=st.lists(st.tuples(edits, moves), min_size=2,
                                                                           max_size=6))
def test_incremental_removal_status_equals_a_full_evaluation(start: date, weeks: list) -> None:
    con = duckdb.connect()
    cases = {f"t{i}": dict(t) for i, t in enumerate(TEMPLATES)}
    as_of, seen, serial, expected = start, set(), 0, []
    try:
        for n, (changes, move) in enumerate(weeks):
            for edit in changes:
                serial += 1
                apply_edit(cases, edit, as_of, serial)
            if n:
                as_of = next_as_of(as_of, move, boundaries(expected, cases))
            write_cases(con, cases)
            got, evaluated = incremental(con, as_of)
            expected = from_scratch(con, as_of)
            assert got == expected, f"week {n}, as of {as_of}"
            assert evaluated <= len(cases)
            seen |= {row[1] for row in expected}
        assert len(seen) >= 4, seen  # the sequence reached several answers (None: an error)
    finally:
        con.close()


def test_every_answer_is_reached_and_only_what_may_change_is_evaluated() -> None:
    con = duckdb.connect()
    cases = {f"t{i}": dict(t) for i, t in enumerate(TEMPLATES)}
    seen: set[Any] = set()
    try:
        for as_of in (date(2023, 1, 1), date(2024, 6, 1), date(2026, 11, 23), date(2030, 1, 1)):
            write_cases(con, cases)
            expected = from_scratch(con, as_of)
            got, _ = incremental(con, as_of)
            assert got == expected
            seen |= {row[1] for row in expected}
            seen |= {"alt" for row in expected if row[10] is not None}  # alt_rule_id: the 36号令 reading
            seen |= {"escalation" for row in expected if row[5] is not None}  # escalation_on
            seen |= {"kept listed" for row in expected if "kept listed" in (row[13] or "")}  # reason
            # the same cases at the same date: nothing evaluated again
            assert incremental(con, as_of) == (expected, 0)
            # the next day, with a case changed, one added and one gone: only those and the crossing cases
            kept = dict(con.execute(f"SELECT record_id, stable_until FROM {removal_model.RESULTS}").fetchall())
            cases["t0"]["decision_date"] = shifted(cases["t0"]["decision_date"], -1)
            cases[f"new{as_of}"] = dict(TEMPLATES[1])
            del cases[sorted(cases)[-1]]
            write_cases(con, cases)
            tomorrow = as_of + timedelta(days=1)
            crossing = {r for r, until in kept.items() if until is not None and until < tomorrow and r in cases}
            got, evaluated = incremental(con, tomorrow)
            assert got == from_scratch(con, tomorrow)
            assert evaluated == len(crossing | {"t0", f"new{as_of}"}) < len(cases)
        # every status, an error (no status), the alternative reading, an escalation, a kept listing
        assert seen >= {*STATUSES, None, "alt", "escalation", "kept listed"}, seen
    finally:
        con.close()


def test_changed_rules_or_an_earlier_as_of_evaluate_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect()
    cases = {f"t{i}": dict(t) for i, t in enumerate(TEMPLATES)}
    as_of = date(2026, 11, 23)
    try:
        write_cases(con, cases)
        before, evaluated = incremental(con, as_of)
        assert evaluated == len(cases)
        assert incremental(con, as_of)[1] == 0
        # an earlier as-of date: kept answers only look forward
        earlier = as_of - timedelta(days=1)
        assert incremental(con, earlier) == (from_scratch(con, earlier), len(cases))
        assert incremental(con, as_of)[1] < len(cases)
        # a rule's period changed in the rules: every case again, under the new rules
        real = engine.load_rules

        def longer_58(path: Path = engine.RULES_PATH) -> list[engine.Rule]:
            return [dataclasses.replace(r, max_display_months=48) if r.rule_id == "cc_penalty_58" else r
                    for r in real(path)]

        monkeypatch.setattr(engine, "load_rules", longer_58)
        after, evaluated = incremental(con, as_of)
        assert evaluated == len(cases)
        assert after == from_scratch(con, as_of) != before
    finally:
        con.close()


def test_transform_full_empties_the_cache(tmp_path: Path) -> None:
    """A build of the warehouse keeps the answers; `full=True` (transform --full) evaluates every case again,
    with the same table."""
    from tests.helpers import write_run
    from warehouse.db import connect
    from warehouse.load import load_run

    def penalty(n: int) -> dict[str, Any]:
        day = f"2026-0{n + 1}-01"
        return {"decision_no": f"京罚〔2026〕{n}号", "subject_name": "北京云启科技有限公司",
                "penalty_kinds_text": "罚款", "content": "罚款5000元", "fine_yuan": "5000", "decided_on": day,
                "published_on": day, "authority": "北京市通信管理局", "domain": "telecom"}

    con = connect(tmp_path / "w.duckdb")
    try:
        write_run(tmp_path / "runs", "r1", "creditchina_penalties",
                  {f"P{i}": penalty(i) for i in range(3)},
                  record_type="penalty")
        load_run(con, tmp_path / "runs" / "r1")
        build(con, targets=["core.removal_status"], as_of=date(2026, 11, 23), tests=False)
        with counting_evaluated() as counts:
            build(con, targets=["core.removal_status"], as_of=date(2026, 11, 30), tests=False)
        kept = sorted_rows(con, "SELECT * FROM core.removal_status")
        assert sum(counts) < len(kept) == 3
        with counting_evaluated() as counts:
            build(con, targets=["core.removal_status"], as_of=date(2026, 11, 30), tests=False, full=True)
        assert sum(counts) == len(kept)
        assert sorted_rows(con, "SELECT * FROM core.removal_status") == kept
    finally:
        con.close()


def test_cases_evaluated_in_batches_are_answered_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first build split into many evaluation queries (a 10M warehouse needs it) gives every case, once,
    the answer one query gives; a case without a unique record_id is answered too, and not kept."""
    con = duckdb.connect()
    cases = {f"t{i}": dict(t) for i, t in enumerate(TEMPLATES)}
    as_of = date(2026, 11, 23)
    try:
        write_cases(con, cases)
        con.execute("INSERT INTO core.removal_cases SELECT * FROM core.removal_cases WHERE record_id = 't0'")
        expected = from_scratch(con, as_of)
        monkeypatch.setattr(engine, "EVALUATE_BATCH", 3)
        con.execute("SET VARIABLE as_of = ?::DATE", [as_of])
        with counting_evaluated() as counts:
            build_model(con, MODEL)
        assert sorted_rows(con, "SELECT * FROM core.removal_status") == expected
        assert sum(counts) == len(cases) + 1 and len(counts) == -(-(len(cases) + 1) // 3) > 1
        with counting_evaluated() as counts:
            build_model(con, MODEL)
        assert counts == [2]  # the duplicated id's two cases, evaluated again and still not kept
        assert sorted_rows(con, "SELECT * FROM core.removal_status") == expected
    finally:
        con.close()
