"""CASES.csv → OUT.csv: round trip against hand-computed answers, every kind of invalid row, encodings,
formula escaping, nonsense values, and batches (a file is streamed, never held whole)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from transforms.removal import (
    CASE_COLUMNS,
    OUT_COLUMNS,
    CasesFileError,
    RowError,
    load_rules,
    read_cases,
    removal_csv,
)

DATA = Path(__file__).parent / "data" / "removal"
HEADER = ",".join(CASE_COLUMNS)


def read_out(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_cases(path: Path, *rows: str, header: str = HEADER, bom: bool = False, encoding: str = "utf-8") -> Path:
    path.write_bytes((("\ufeff" if bom else "") + "\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def test_round_trip_matches_the_hand_computed_answers(tmp_path: Path) -> None:
    out = tmp_path / "out" / "OUT.csv"
    result = removal_csv(DATA / "cases.csv", date(2024, 12, 1), out)

    assert out.read_text("utf-8").splitlines()[0] == ",".join(OUT_COLUMNS)
    got = read_out(out)
    expected = read_out(DATA / "expected_out_2024-12-01.csv")
    compared = [c for c in OUT_COLUMNS if c not in ("basis", "reason")]
    assert [{c: row[c] for c in compared} for row in got] == expected
    # basis is the cited rule's own text (no appended caveat applies to these rows).
    bases = {r.rule_id: r.basis for r in load_rules()}
    assert all(row["basis"] == bases[row["rule_id"]] for row in got if row["rule_id"])
    # A missing fact is answered `unknown`, naming the field, never skipped or guessed.
    reasons = {row["record_id"]: row["reason"] for row in got}
    assert reasons["m1"].startswith("unknown: needs fine_amount_yuan")
    assert reasons["x1"].startswith("unknown: needs decision_date")
    assert reasons["g1"] == ""
    assert (result.rows, result.answered, result.unknown) == (15, 11, 2)

    by_line = {e.line: e for e in result.errors}
    assert sorted(by_line) == [5, 8, 11, 14]
    assert by_line[5].record_id == "bad1" and "unknown record_type 'penalties'" in by_line[5].reason
    assert by_line[8].record_id == "c2" and "decision_date is not a real date" in by_line[8].reason
    assert by_line[11].record_id == "g1" and "duplicate record_id (first on line 2)" in by_line[11].reason
    assert by_line[14].record_id == "u1" and "jail" in by_line[14].reason
    assert str(by_line[5]).startswith("line 5 (record_id bad1): ")


def test_rules_under_a_later_as_of_date_turn_unconfirmed_or_expire(tmp_path: Path) -> None:
    out = tmp_path / "OUT.csv"
    removal_csv(DATA / "cases.csv", date(2026, 7, 1), out)
    rows = {row["record_id"]: row for row in read_out(out)}
    # c1 was decided under 58号令; after 2026-04-01 no transitional clause was seen: 36号令 beside it.
    assert rows["c1"]["confidence"] == "unconfirmed" and "unconfirmed:" in rows["c1"]["basis"]
    assert (rows["c1"]["alt_rule_id"], rows["c1"]["alt_auto_removal_on"]) == ("cc_penalty_36_general", "2025-09-01")
    # g1 was shown through 2026-06-30.
    assert rows["g1"]["status"] == "expired" and rows["g1"]["early_removal_from"] == ""


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("r,penalty,gsxt,fine,abc,general,,,2024-01-01,,,,", "fine_amount_yuan is not a number"),
        ("r,penalty,gsxt,fine,-5,general,,,2024-01-01,,,,", "fine_amount_yuan must be a finite amount >= 0"),
        ("r,penalty,gsxt,fine,1e400,general,,,2024-01-01,,,,", "fine_amount_yuan is implausibly large"),
        ("r,penalty,gsxt,fine,Infinity,general,,,2024-01-01,,,,", "finite amount"),
        ("r,penalty,gsxt,fine,NaN,general,,,2024-01-01,,,,", "finite amount"),
        ("r,penalty,gsxt,fine,1e-400,general,,,2024-01-01,,,,", "at most 2 decimals"),
        ("r,penalty,gsxt,fine,10,general,,,2024/01/01,,,,", "publish_date is not an ISO date"),
        ("r,penalty,gsxt,fine,10,general,,,2024-01-01,,,,0", "term_years must be a whole number"),
        ("r,penalty,gsxt,fine,10,general,,,2024-01-01,,,,１", "term_years must be a whole number"),
        ("r,penalty,weibo,fine,10,general,,,2024-01-01,,,,", "unknown platform 'weibo'"),
        ("r,penalty,gsxt,fine,10,space,,,2024-01-01,,,,", "unknown domain 'space'"),
        ("r,penalty,gsxt,fine,10,general,huge,,2024-01-01,,,,", "unknown severity 'huge'"),
        (",penalty,gsxt,fine,10,general,,,2024-01-01,,,,", "record_id is empty"),
        ("r,,gsxt,fine,10,general,,,2024-01-01,,,,", "record_type is empty"),
        ("r,penalty,gsxt,fine,10,general,,,2024-01-01,,,,,extra", "row has 14 cells, the header 13"),
        ("r,penalty,gsxt,fine,10,general", "row has 6 cells"),
        ("r,penalty,gsxt,fine,10,general,,2023-12-20,2019-01-01,,,,", "publish_date 2019-01-01 is before decision"),
        ("r,penalty,gsxt,fine,10,general,,2019-01-01,2019-01-05,,,,", "no removal rule covers platform=gsxt"),
        # nonsense the rules catch: a court term outside 2–5 years, a decision after the as-of date
        ("r,court_dishonest,court,,,,,,,2023-01-01,,,7", "term_years 7 is outside the 2–5 years"),
        ("r,penalty,creditchina,fine,10,general,general,2024-07-01,,,,,", "is after the as-of date 2024-06-01"),
    ],
)
def test_invalid_rows_name_line_and_reason_and_others_are_answered(tmp_path: Path, row: str, reason: str) -> None:
    good = "ok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,"
    cases = write_cases(tmp_path / "cases.csv", good, row, good.replace("ok,", "ok2,"))
    out = tmp_path / "OUT.csv"
    result = removal_csv(cases, date(2024, 6, 1), out)
    assert len(result.errors) == 1, result.errors
    assert result.errors[0].line == 3 and reason in result.errors[0].reason
    assert [r["record_id"] for r in read_out(out)] == ["ok", "ok2"]


def test_a_missing_date_is_answered_unknown_not_refused(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.csv", "r,court_dishonest,court,,,,,,,,,,")
    out = tmp_path / "OUT.csv"
    result = removal_csv(cases, date(2024, 6, 1), out)
    assert result.errors == [] and result.unknown == 1
    (row,) = read_out(out)
    assert row["status"] == "unknown" and row["reason"].startswith("unknown: needs listed_date")


def test_header_without_a_required_column_is_refused(tmp_path: Path) -> None:
    header = HEADER.replace(",term_years", "")
    cases = write_cases(tmp_path / "cases.csv", "r,penalty,gsxt,,,,,,,,,", header=header)
    with pytest.raises(CasesFileError, match="lacks column.*term_years"):
        removal_csv(cases, date(2024, 1, 1), tmp_path / "OUT.csv")
    assert not (tmp_path / "OUT.csv").exists()


def test_bom_spaces_case_and_optional_columns_are_accepted(tmp_path: Path) -> None:
    header = HEADER + ",province,subject_type"
    row = " p1 , PENALTY , GSXT , Fine ,9000, general ,, 2024-01-20 , 2024-01-31 ,,,,, 湖北省 , person "
    cases = write_cases(tmp_path / "cases.csv", row, header=header, bom=True)
    out = tmp_path / "OUT.csv"
    assert removal_csv(cases, date(2024, 2, 1), out).errors == []
    (row_out,) = read_out(out)
    # ¥9,000 for a person in 湖北 is below ¥10,000: shown 3 months, through 2024-04-30.
    assert (row_out["record_id"], row_out["status"], row_out["display_until"], row_out["auto_removal_on"]) == (
        "p1", "barred", "2024-04-30", "2024-05-01")


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb18030_and_gbk_files_are_read(tmp_path: Path, encoding: str) -> None:
    header = HEADER + ",province,new_penalty_date,new_penalty_reference"
    rows = ["p1,penalty,gsxt,fine,9000,general,,2024-01-20,2024-01-31,,,,,湖北省,,",
            "b1,telecom_bad_list,miit,administrative_penalty,,,,,,2024-01-10,,,,,2024-06-01,京通管罚〔2024〕3号"]
    cases = write_cases(tmp_path / "cases.csv", *rows, header=header, encoding=encoding)
    assert cases.read_bytes().decode(encoding)  # the file really is in that encoding
    with pytest.raises(UnicodeDecodeError):
        cases.read_bytes().decode("utf-8")
    out = tmp_path / "OUT.csv"
    result = removal_csv(cases, date(2024, 7, 1), out)
    assert result.errors == [] and result.encoding == "gb18030"
    rows_out = {r["record_id"]: r for r in read_out(out)}
    assert rows_out["p1"]["confidence"] == "confirmed"  # 湖北省 reached the threshold table intact
    assert "京通管罚〔2024〕3号" in rows_out["b1"]["reason"] and rows_out["b1"]["auto_removal_on"] == ""


def test_a_file_in_neither_encoding_is_refused_naming_the_line(tmp_path: Path) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_bytes((HEADER + "\nok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,\n").encode()
                      + b"x\xff\xfe,abnormal_operation,gsxt,,,,,,,2024-01-05,,,\n")
    with pytest.raises(CasesFileError, match=r"neither UTF-8 \(fails on line 3\) nor GB18030 \(fails on line 3\)"):
        removal_csv(cases, date(2024, 6, 1), tmp_path / "OUT.csv")


def test_out_equal_to_the_cases_file_is_refused_and_the_file_kept(tmp_path: Path) -> None:
    cases = write_cases(tmp_path / "cases.csv", "ok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,")
    before = cases.read_bytes()
    with pytest.raises(ValueError, match="is the cases file itself"):
        removal_csv(cases, date(2024, 6, 1), tmp_path / "." / "cases.csv")
    assert cases.read_bytes() == before


def test_formula_cells_in_out_are_escaped(tmp_path: Path) -> None:
    header = HEADER + ",new_penalty_date,new_penalty_reference"
    cases = write_cases(tmp_path / "cases.csv",
                        "=cmd|' /C calc'!A0,abnormal_operation,gsxt,,,,,,,2024-01-05,,,,,",
                        "@b,telecom_bad_list,miit,administrative_penalty,,,,,,2024-01-10,,,,2024-03-01,+SUM(1)",
                        header=header)
    out = tmp_path / "OUT.csv"
    assert removal_csv(cases, date(2024, 6, 1), out).errors == []
    rows = read_out(out)
    assert [r["record_id"] for r in rows] == ["'=cmd|' /C calc'!A0", "'@b"]
    # Only whole cells are escaped; the reference quoted inside a sentence cannot start a formula.
    assert "+SUM(1)" in rows[1]["reason"] and not rows[1]["reason"].startswith(("=", "+", "-", "@"))
    assert all(not v.startswith(("=", "+", "-", "@")) for r in rows for v in r.values())


def test_a_failed_run_leaves_an_earlier_out_file_as_it_was(tmp_path: Path) -> None:
    out = tmp_path / "OUT.csv"
    out.write_text("earlier answers\n", "utf-8")
    bad = write_cases(tmp_path / "cases.csv", "r,penalty,gsxt,,,,,,,,,", header="record_id,platform")
    with pytest.raises(CasesFileError):
        removal_csv(bad, date(2024, 6, 1), out)
    assert out.read_text("utf-8") == "earlier answers\n"
    assert {p.name for p in tmp_path.iterdir()} == {"OUT.csv", "cases.csv"}  # no temporary file left


def test_batches_give_the_same_answers_in_the_same_order(tmp_path: Path) -> None:
    whole, batched = tmp_path / "whole.csv", tmp_path / "batched.csv"
    first = removal_csv(DATA / "cases.csv", date(2024, 12, 1), whole)
    second = removal_csv(DATA / "cases.csv", date(2024, 12, 1), batched, batch_rows=2)
    assert whole.read_bytes() == batched.read_bytes()
    assert first.errors == second.errors
    # A duplicate in a later batch is still found.
    assert any("duplicate record_id" in e.reason for e in second.errors)


def test_header_only_file_gives_header_only_output(tmp_path: Path) -> None:
    out = tmp_path / "OUT.csv"
    assert removal_csv(write_cases(tmp_path / "cases.csv"), date(2024, 1, 1), out).errors == []
    assert out.read_text("utf-8") == ",".join(OUT_COLUMNS) + "\n"


def test_read_cases_types_the_cells() -> None:
    good, errors = read_cases(DATA / "cases.csv")
    line, first = good[0]
    assert line == 2 and first["publish_date"] == date(2023, 6, 30) and first["fine_amount_yuan"] == 200000
    assert first["penalty_kinds"] == "fine|confiscation" and first["term_years"] is None
    assert all(isinstance(e, RowError) for e in errors)


# ----------------------------------------------------------------- the command


def test_cli_refuses_a_bad_as_of_naming_the_option(tmp_path: Path) -> None:
    from tests.test_cli import cli

    cases = write_cases(tmp_path / "cases.csv", "ok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,")
    done = cli("removal", "--records", str(cases), "--out", str(tmp_path / "o.csv"), "--as-of", "2024-13-01",
               cwd=tmp_path)
    assert done.returncode == 2 and "--as-of" in done.stderr and "'2024-13-01' is not a date" in done.stderr
    assert not (tmp_path / "o.csv").exists()


def test_cli_refuses_out_equal_to_records_and_keeps_the_file(tmp_path: Path) -> None:
    from tests.test_cli import cli

    cases = write_cases(tmp_path / "cases.csv", "ok,abnormal_operation,gsxt,,,,,,,2024-01-05,,,")
    before = cases.read_bytes()
    done = cli("removal", "--records", "cases.csv", "--out", str(cases), "--as-of", "2024-06-01", cwd=tmp_path)
    assert done.returncode == 2 and "--out" in done.stderr and "is the --records file itself" in done.stderr
    assert cases.read_bytes() == before


def test_cli_reads_gbk_and_refuses_an_unreadable_file_in_one_line(tmp_path: Path) -> None:
    from tests.test_cli import cli

    header = HEADER + ",province"
    cases = write_cases(tmp_path / "cases.csv", "p1,penalty,gsxt,fine,9000,general,,2024-01-20,2024-01-31,,,,,湖北省",
                        header=header, encoding="gbk")
    done = cli("removal", "--records", str(cases), "--out", "o.csv", "--as-of", "2024-02-01", cwd=tmp_path)
    assert done.returncode == 0 and "read as GB18030" in done.stdout
    assert read_out(tmp_path / "o.csv")[0]["confidence"] == "confirmed"
    cases.write_bytes(cases.read_bytes() + b"\xff\xff\xff\n")
    done = cli("removal", "--records", str(cases), "--out", "o.csv", "--as-of", "2024-02-01", cwd=tmp_path)
    assert done.returncode == 1 and "fails on line 3" in done.stderr and "Traceback" not in done.stderr
