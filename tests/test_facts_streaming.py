"""`creditwatch facts` streams its file (issue 18 item 4): batches resolved with one query each, staged in
the transaction, still whole-file-or-nothing and idempotent. Batches of two rows here, so every rule is
exercised across batch boundaries. The warehouse is only loaded (no build): references resolve on
raw.records, as they do before a first build."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import duckdb
import pytest

from pipelines.items import record_id
from tests.helpers import write_run
from warehouse.db import connect
from warehouse.facts import FactsError, import_facts, iter_facts
from warehouse.load import load_run
from warehouse.references import records_named_many

HEADER = "reference,obligations_done_date,corrected_date,note\n"
# The reference definition before streaming (one query per reference): the set-based one must agree with it.
ROW_BY_ROW_SQL = """
SELECT DISTINCT record_id FROM raw.records
WHERE record_id = $1 OR natural_key = $1 OR fields_json ->> 'decision_no' = $1 OR fields_json ->> 'case_code' = $1
"""


def penalty(number: str) -> dict:
    return {"decision_no": number, "subject_name": "北京某某科技有限公司", "decided_on": "2026-05-01",
            "published_on": "2026-05-01", "authority": "北京市通信管理局", "domain": "telecom"}


def court_case(code: str) -> dict:
    return {"case_code": code, "subject_name": "北京某某科技有限公司", "court": "北京市第一中级人民法院"}


@pytest.fixture
def con(tmp_path: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Penalties P1..P6 (decision numbers 罚1..罚6; 罚6 also on a gsxt record), and court case C1 (案1)."""
    con = connect(warehouse)
    root = tmp_path / "runs"
    write_run(root, "r1", "creditchina_penalties", {f"P{n}": penalty(f"罚{n}") for n in range(1, 7)},
              record_type="penalty")
    write_run(root, "r1", "gsxt_records", {"G6": penalty("罚6")}, record_type="penalty")
    write_run(root, "r1", "court_dishonest", {"C1": court_case("案1")}, record_type="court_dishonest")
    load_run(con, root / "r1")
    return con


def pid(n: int) -> str:
    return record_id("creditchina_penalties", f"P{n}")


def facts_file(tmp_path: Path, rows: list[str], name: str = "facts.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + "".join(row + "\n" for row in rows), "utf-8")
    return path


def table(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT record_id, obligations_done_date, corrected_date, note, recorded_by, recorded_at "
                       "FROM ops.compliance_facts ORDER BY ALL").fetchall()


def test_a_bad_row_in_a_later_batch_refuses_the_whole_file(con, tmp_path: Path) -> None:
    assert import_facts(con, facts_file(tmp_path, [f"{pid(1)},2026-01-01,,paid"], "first.csv"), "t") == 1
    before = table(con)
    good = [f"{pid(n)},2026-06-0{n},," for n in range(2, 6)]  # lines 2-5: two full batches
    with pytest.raises(FactsError, match=r"facts.csv:6: no record with reference 'nope'"):
        import_facts(con, facts_file(tmp_path, [*good, "nope,2026-06-01,,"]), "t", batch_rows=2)
    assert table(con) == before
    with pytest.raises(FactsError, match=r"facts.csv:7: obligations_done_date '2026-13-01' is not a date"):
        import_facts(con, facts_file(tmp_path, [*good, f"{pid(5)},2026-06-01,,", f"{pid(6)},2026-13-01,,"]),
                     "t", batch_rows=2)
    assert table(con) == before
    # Nothing of the refused files was left staged: a good file afterwards writes exactly its own rows.
    assert import_facts(con, facts_file(tmp_path, [f"{pid(3)},2026-07-01,,"], "later.csv"), "t", batch_rows=2) == 1
    assert [r[0] for r in table(con)] == sorted([pid(1), pid(3)])


def test_the_first_bad_line_is_named_though_a_later_row_of_its_batch_fails_an_earlier_check(
        con, tmp_path: Path) -> None:
    path = facts_file(tmp_path, [f"{pid(1)},2026-01-01,,", f"{pid(2)},yesterday,,", "nope,2026-01-01,,"])
    with pytest.raises(FactsError, match=r"facts.csv:3: obligations_done_date 'yesterday' is not a date"):
        import_facts(con, path, "t", batch_rows=10)


def test_the_file_is_read_batch_by_batch(con, tmp_path: Path) -> None:
    # A whole-file read would refuse line 6 before giving anything; the stream gives the first batch first.
    path = facts_file(tmp_path, [f"{pid(n)},2026-06-01,," for n in range(1, 5)] + ["nope,2026-06-01,,"])
    batches = iter_facts(con, path, batch_rows=2)
    assert [fact.record_id for _, fact in next(batches)] == [pid(1), pid(2)]
    assert [line for line, _ in next(batches)] == [4, 5]
    with pytest.raises(FactsError, match=r":6: no record"):
        next(batches)


def test_duplicates_across_batches_and_a_rerun_writes_nothing(con, tmp_path: Path) -> None:
    rows = [f"{pid(1)},2026-01-01,,paid", f"{pid(2)},,2026-02-01,", f"{pid(1)},2026-01-01,,paid",  # same again
            f"{pid(1)},2026-03-01,,paid later", f"{pid(1)},2026-03-01,,paid later", f"{pid(2)},,2026-02-01,"]
    path = facts_file(tmp_path, rows)
    assert import_facts(con, path, "t", batch_rows=2) == 3
    assert [(r[0], r[1], r[3]) for r in table(con)] == sorted([
        (pid(1), date(2026, 1, 1), "paid"), (pid(1), date(2026, 3, 1), "paid later"), (pid(2), None, None)])
    assert import_facts(con, path, "t", batch_rows=2) == 0
    assert len(table(con)) == 3
    # Row by row: equal to the latest → skipped; a new date → written; back to the old date → written (it
    # differs from the row before it, which is now the latest).
    rows = [f"{pid(2)},,2026-02-01,", f"{pid(2)},,2026-02-05,", f"{pid(2)},,2026-02-01,"]
    assert import_facts(con, facts_file(tmp_path, rows, "again.csv"), "t", batch_rows=1) == 2
    assert [r[2] for r in table(con) if r[0] == pid(2)] == [date(2026, 2, 1), date(2026, 2, 1), date(2026, 2, 5)]


def test_decision_numbers_and_case_codes_resolve_in_a_batch(con, tmp_path: Path) -> None:
    path = facts_file(tmp_path, ["罚2,2026-06-01,,", "案1,,2026-06-02,", f"{pid(3)},2026-06-03,,", "P4,2026-06-04,,"])
    assert import_facts(con, path, "t", batch_rows=3) == 4
    assert sorted(r[0] for r in table(con)) == sorted(
        [pid(2), record_id("court_dishonest", "C1"), pid(3), pid(4)])  # P4: the natural key


def test_a_reference_naming_two_records_is_refused(con, tmp_path: Path) -> None:
    path = facts_file(tmp_path, [f"{pid(1)},2026-06-01,,", f"{pid(2)},2026-06-01,,", "罚6,2026-06-01,,"])
    with pytest.raises(FactsError, match=r"facts.csv:4: reference '罚6' names 2 records; use a record_id"):
        import_facts(con, path, "t", batch_rows=2)
    assert table(con) == []


def test_the_set_based_resolution_agrees_with_the_row_by_row_query(con) -> None:
    keys = [k for row in con.execute("SELECT record_id, natural_key, fields_json ->> 'decision_no', "
                                     "fields_json ->> 'case_code' FROM raw.records").fetchall() for k in row if k]
    references = [*keys, "nope", "罚", "P", ""]
    random.Random(7).shuffle(references)
    many = records_named_many(con, references)
    for reference in references:
        expected = sorted(r for (r,) in con.execute(ROW_BY_ROW_SQL, [reference]).fetchall())
        assert many.get(reference, []) == expected, reference
    assert len(many["罚6"]) == 2
