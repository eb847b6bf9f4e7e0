"""CASES.csv → removal status → OUT.csv, the file interface a CLI command wraps.

Every row is checked before the rules run; a bad row becomes a RowError naming its line and
record_id, and the other rows are still answered. Dates are ISO (YYYY-MM-DD) both ways.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from transforms.removal.engine import (
    CASE_COLUMNS,
    DOMAINS,
    PENALTY_KINDS,
    PLATFORMS,
    RECORD_TYPES,
    SEVERITIES,
    evaluate_cases,
)

OUT_COLUMNS = (
    "record_id",
    "status",
    "early_removal_from",
    "auto_removal_on",
    "rule_id",
    "basis",
    "confidence",
)
DATE_COLUMNS = ("decision_date", "publish_date", "listed_date", "obligations_done_date", "corrected_date")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

CASES_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("record_type", pa.string()),
        ("platform", pa.string()),
        ("penalty_kinds", pa.string()),
        ("fine_amount_yuan", pa.decimal128(18, 2)),
        ("domain", pa.string()),
        ("severity", pa.string()),
        *[(c, pa.date32()) for c in DATE_COLUMNS],
        ("term_years", pa.int32()),
        ("province", pa.string()),
        ("subject_type", pa.string()),
    ]
)


@dataclass(frozen=True)
class RowError:
    """A CASES.csv row that got no answer: its line in the file (header = line 1), record_id, and why."""

    line: int
    record_id: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line} (record_id {self.record_id or '(empty)'}): {self.reason}"


class CaseValueError(ValueError):
    """One cell of a case is invalid; the message names the column."""


def parse_iso_date(column: str, text: str) -> date | None:
    """'' → None; 'YYYY-MM-DD' → date; anything else raises CaseValueError naming the column."""
    if not text:
        return None
    if not _ISO_DATE.fullmatch(text):
        raise CaseValueError(f"{column} is not an ISO date (YYYY-MM-DD): {text!r}")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CaseValueError(f"{column} is not a real date: {text!r}") from None


def parse_yuan(text: str) -> Decimal | None:
    """'' → None; a non-negative amount in yuan with at most 2 decimals → Decimal."""
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise CaseValueError(f"fine_amount_yuan is not a number: {text!r}") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise CaseValueError(f"fine_amount_yuan must be >= 0 with at most 2 decimals: {text!r}")
    return value


def parse_case(row: dict[str, str]) -> dict[str, Any]:
    """Validate and type one CASES.csv row (cells already stripped); raises CaseValueError."""

    def word(column: str, allowed: tuple[str, ...], required: bool = False) -> str | None:
        value = row.get(column, "").lower()
        if not value:
            if required:
                raise CaseValueError(f"{column} is empty")
            return None
        if value not in allowed:
            raise CaseValueError(f"unknown {column} {value!r}; expected one of {', '.join(allowed)}")
        return value

    kinds = [k.strip().lower() for k in row.get("penalty_kinds", "").split("|") if k.strip()]
    unknown = [k for k in kinds if k not in PENALTY_KINDS]
    if unknown:
        raise CaseValueError(f"unknown penalty_kinds {unknown}; expected among {', '.join(PENALTY_KINDS)}")
    term_text = row.get("term_years", "")
    if term_text and not (term_text.isdigit() and int(term_text) >= 1):
        raise CaseValueError(f"term_years must be a whole number of years >= 1: {term_text!r}")
    return {
        "record_id": row["record_id"],
        "record_type": word("record_type", RECORD_TYPES, required=True),
        "platform": word("platform", PLATFORMS, required=True),
        "penalty_kinds": "|".join(kinds) or None,
        "fine_amount_yuan": parse_yuan(row.get("fine_amount_yuan", "")),
        "domain": word("domain", DOMAINS),
        "severity": word("severity", SEVERITIES),
        **{c: parse_iso_date(c, row.get(c, "")) for c in DATE_COLUMNS},
        "term_years": int(term_text) if term_text else None,
        "province": row.get("province") or None,
        "subject_type": word("subject_type", ("organisation", "person")),
    }


def read_cases(cases_csv: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """Read CASES.csv: (line, typed case) for the valid rows, RowError for the others.

    Raises ValueError if the header lacks a required column (no row could be read then).
    """
    good: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    with cases_csv.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h.strip() for h in reader.fieldnames or ()]
        missing = [c for c in CASE_COLUMNS if c not in header]
        if missing:
            raise ValueError(f"{cases_csv.name}: header lacks column(s) {', '.join(missing)}")
        reader.fieldnames = header
        for raw in reader:
            line = reader.line_num
            record_id = (raw.get("record_id") or "").strip()
            if None in raw or None in raw.values():
                errors.append(
                    RowError(line, record_id, f"row has a different number of cells than the header ({len(header)})")
                )
                continue
            row = {k: (v or "").strip() for k, v in raw.items()}
            if not record_id:
                errors.append(RowError(line, record_id, "record_id is empty"))
                continue
            if record_id in seen:
                errors.append(RowError(line, record_id, f"duplicate record_id (first on line {seen[record_id]})"))
                continue
            seen[record_id] = line
            try:
                good.append((line, parse_case(row)))
            except CaseValueError as exc:
                errors.append(RowError(line, record_id, str(exc)))
    return good, errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def removal_csv(cases_csv: Path, as_of: date, out_csv: Path) -> list[RowError]:
    """Answer every valid row of CASES.csv into OUT.csv (OUT_COLUMNS, ISO dates, in input order).

    Returns the rows that got no answer, by line: bad cells, or no rule decidable from the row
    (a missing date or amount the rule needs, no rule for that record type and date).
    """
    good, errors = read_cases(cases_csv)
    lines = {case["record_id"]: line for line, case in good}
    table = pa.Table.from_pylist([case for _, case in good], schema=CASES_SCHEMA)
    con = duckdb.connect()
    try:
        con.register("removal_csv_cases", table)
        result = evaluate_cases(con, "removal_csv_cases", as_of)
        columns = result.columns
        rows = [dict(zip(columns, values, strict=True)) for values in result.fetchall()]
    finally:
        con.close()
    answered = []
    for row in rows:
        if row["error"] is not None:
            errors.append(RowError(lines[row["record_id"]], row["record_id"], row["error"]))
        else:
            answered.append(row)
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    with out_csv.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(OUT_COLUMNS)
        for row in answered:
            writer.writerow([_cell(row[c]) for c in OUT_COLUMNS])
    return sorted(errors, key=lambda e: e.line)
