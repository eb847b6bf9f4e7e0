"""CASES.csv → OUT.csv: round trip against hand-computed answers, and every kind of invalid row."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from transforms.removal import CASE_COLUMNS, OUT_COLUMNS, RowError, load_rules, read_cases, removal_csv

DATA = Path(__file__).parent / "data" / "removal"
HEADER = ",".join(CASE_COLUMNS)


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_cases(path: Path, *rows: str, header: str = HEADER, bom: bool = False) -> Path:
    path.write_text(("\ufeff" if bom else "") + "\n".join([header, *rows]) + "\n", "utf-8")
    return path


def test_round_trip_matches_the_hand_computed_answers(tmp_path: Path) -> None:
    out = tmp_path / "out" / "OUT.csv"
    errors = removal_csv(DATA / "cases.csv", date(2024, 12, 1), out)

    assert out.read_text("utf-8").splitlines()[0] == ",".join(OUT_COLUMNS)
    got = read_out(out)
    expected = read_out(DATA / "expected_out_2024-12-01.csv")
    compared = [c for c in OUT_COLUMNS if c != "basis"]
    assert [{c: row[c] for c in compared} for row in got] == expected
    # basis is the cited rule's own text (no appended caveat applies to these rows).
    bases = {r.rule_id: r.basis for r in load_rules()}
    assert all(row["basis"] == bases[row["rule_id"]] for row in got)

    by_line = {e.line: e for e in errors}
    assert sorted(by_line) == [5, 8, 10, 11, 13, 14]
    assert by_line[5].record_id == "bad1" and "unknown record_type 'penalties'" in by_line[5].reason
    assert by_line[8].record_id == "c2" and "decision_date is not a real date" in by_line[8].reason
    assert by_line[10].record_id == "m1" and "fine_amount_yuan" in by_line[10].reason
    assert by_line[11].record_id == "g1" and "duplicate record_id (first on line 2)" in by_line[11].reason
    assert by_line[13].record_id == "x1" and "decision_date" in by_line[13].reason
    assert by_line[14].record_id == "u1" and "jail" in by_line[14].reason
    assert str(by_line[5]).startswith("line 5 (record_id bad1): ")


def test_rules_under_a_later_as_of_date_turn_unconfirmed_or_expire(tmp_path: Path) -> None:
    out = tmp_path / "OUT.csv"
    removal_csv(DATA / "cases.csv", date(2026, 7, 1), out)
    rows = {row["record_id"]: row for row in read_out(out)}
    # c1 was decided under 58号令; after 2026-04-01 no transitional clause was seen.
    assert rows["c1"]["confidence"] == "unconfirmed" and "unconfirmed:" in rows["c1"]["basis"]
    # g1 reached its automatic stop on 2026-06-30.
    assert rows["g1"]["status"] == "expired" and rows["g1"]["early_removal_from"] == ""


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("r,penalty,gsxt,fine,abc,general,,,2024-01-01,,,,", "fine_amount_yuan is not a number"),
        ("r,penalty,gsxt,fine,-5,general,,,2024-01-01,,,,", "fine_amount_yuan must be >= 0"),
        ("r,penalty,gsxt,fine,10,general,,,2024/01/01,,,,", "publish_date is not an ISO date"),
        ("r,penalty,gsxt,fine,10,general,,,2024-01-01,,,,0", "term_years must be a whole number"),
        ("r,penalty,weibo,fine,10,general,,,2024-01-01,,,,", "unknown platform 'weibo'"),
        ("r,penalty,gsxt,fine,10,space,,,2024-01-01,,,,", "unknown domain 'space'"),
        ("r,penalty,gsxt,fine,10,general,huge,,2024-01-01,,,,", "unknown severity 'huge'"),
        (",penalty,gsxt,fine,10,general,,,2024-01-01,,,,", "record_id is empty"),
        ("r,,gsxt,fine,10,general,,,2024-01-01,,,,", "record_type is empty"),
        ("r,penalty,gsxt,fine,10,general,,,2024-01-01,,,,,extra", "different number of cells"),
        ("r,penalty,gsxt,fine,10,general", "different number of cells"),
        ("r,court_dishonest,court,,,,,,,,,,", "listed_date"),
        ("r,penalty,gsxt,fine,10,general,,,2019-01-01,,,,", "no removal rule covers platform=gsxt"),
    ],
)
def test_invalid_rows_name_line_and_reason_and_others_are_answered(tmp_path: Path, row: str, reason: str) -> None:
    good = "ok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,"
    cases = write_cases(tmp_path / "cases.csv", good, row, good.replace("ok,", "ok2,"))
    out = tmp_path / "OUT.csv"
    errors = removal_csv(cases, date(2024, 6, 1), out)
    assert len(errors) == 1
    assert errors[0].line == 3 and reason in errors[0].reason
    assert [r["record_id"] for r in read_out(out)] == ["ok", "ok2"]


def test_header_without_a_required_column_is_refused(tmp_path: Path) -> None:
    header = HEADER.replace(",term_years", "")
    cases = write_cases(tmp_path / "cases.csv", "r,penalty,gsxt,,,,,,,,,", header=header)
    with pytest.raises(ValueError, match="lacks column.*term_years"):
        removal_csv(cases, date(2024, 1, 1), tmp_path / "OUT.csv")


def test_bom_spaces_case_and_optional_columns_are_accepted(tmp_path: Path) -> None:
    header = HEADER + ",province,subject_type"
    row = " p1 , PENALTY , GSXT , Fine ,9000, general ,,, 2024-01-31 ,,,,, 湖北省 , person "
    cases = write_cases(tmp_path / "cases.csv", row, header=header, bom=True)
    out = tmp_path / "OUT.csv"
    assert removal_csv(cases, date(2024, 2, 1), out) == []
    (row_out,) = read_out(out)
    # ¥9,000 for a person in 湖北 is below ¥10,000: shown 3 months, 2024-01-31 → 2024-04-30.
    assert (row_out["record_id"], row_out["status"], row_out["auto_removal_on"]) == ("p1", "barred", "2024-04-30")


def test_header_only_file_gives_header_only_output(tmp_path: Path) -> None:
    out = tmp_path / "OUT.csv"
    assert removal_csv(write_cases(tmp_path / "cases.csv"), date(2024, 1, 1), out) == []
    assert out.read_text("utf-8") == ",".join(OUT_COLUMNS) + "\n"


def test_read_cases_types_the_cells() -> None:
    good, errors = read_cases(DATA / "cases.csv")
    line, first = good[0]
    assert line == 2 and first["publish_date"] == date(2023, 6, 30) and first["fine_amount_yuan"] == 200000
    assert first["penalty_kinds"] == "fine|confiscation" and first["term_years"] is None
    assert all(isinstance(e, RowError) for e in errors)
