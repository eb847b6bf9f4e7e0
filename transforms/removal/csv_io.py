"""CASES.csv → removal status → OUT.csv, the file interface `creditwatch removal` wraps.

The cases file is streamed: read, checked and answered in batches of BATCH_ROWS rows through one DuckDB
connection, and OUT.csv is written as it goes (to a temporary file renamed into place at the end, so a
failure leaves an earlier OUT.csv as it was). Memory therefore stays bounded whatever the file's size;
only the record ids seen so far are kept, to refuse duplicates.

Every row is checked before the rules run; a bad row becomes a RowError naming its line and record_id,
and the other rows are still answered. A row whose answer depends on a missing fact is answered with
status `unknown` and "unknown: needs <field>" in `reason`. Dates are ISO (YYYY-MM-DD) both ways. The file
may be UTF-8 (with or without BOM) or GB18030/GBK; anything else is refused naming the line where neither
encoding can read it. Text cells of OUT.csv that a spreadsheet would run as a formula (= + - @) are
escaped as the export escapes them.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.encoding import first_bad_line
from transforms.export import escape_cell
from transforms.removal.engine import (
    CASE_COLUMNS,
    DOMAINS,
    PENALTY_KINDS,
    PLATFORMS,
    RECORD_TYPES,
    SEVERITIES,
    evaluate_cases,
    install_rules,
)

OUT_COLUMNS = (
    "record_id",
    "status",
    "early_removal_from",
    "auto_removal_on",
    "display_until",
    "escalation_on",
    "removal_deadline",
    "rule_id",
    "basis",
    "confidence",
    "alt_rule_id",
    "alt_early_removal_from",
    "alt_auto_removal_on",
    "reason",
)
# Optional CASES.csv columns a person can fill (assumed_fields is the warehouse's own).
OPTIONAL_CSV_COLUMNS = ("province", "subject_type", "new_penalty_date", "new_penalty_reference")
DATE_COLUMNS = ("decision_date", "publish_date", "listed_date", "obligations_done_date", "corrected_date")
BATCH_ROWS = 50_000
DUCKDB_MEMORY = "1GB"  # the whole command stays within 2 GB at any file size (bench/results.md, removal)
ENCODINGS = ("utf-8", "gb18030")  # GB18030 is a superset of GBK and GB2312
MAX_YUAN_DIGITS = 16  # DECIMAL(18, 2): 16 digits before the point
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
        ("new_penalty_date", pa.date32()),
        ("new_penalty_reference", pa.string()),
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


@dataclass
class RemovalFileResult:
    """What removal_csv did: rows read, answered (of which `unknown`), and the rows refused, by line."""

    rows: int = 0
    answered: int = 0
    unknown: int = 0
    encoding: str = "utf-8"
    errors: list[RowError] = field(default_factory=list)


class CaseValueError(ValueError):
    """One cell of a case is invalid; the message names the column."""


class CasesFileError(ValueError):
    """The cases file as a whole cannot be read (encoding, header); the message names the file and line."""


def detect_encoding(path: Path) -> str:
    """'utf-8-sig' or 'gb18030' (one streaming pass each at most); CasesFileError naming the lines otherwise."""
    failures = []
    for encoding in ENCODINGS:
        line = first_bad_line(path, encoding)
        if line is None:
            return "utf-8-sig" if encoding == "utf-8" else encoding
        failures.append(f"{encoding.upper()} (fails on line {line})")
    raise CasesFileError(f"{path.name}: neither {' nor '.join(failures)} can read it; save it as UTF-8")


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
    """'' → None; a non-negative amount in yuan with at most 2 decimals, below 10^16 → Decimal."""
    if not text:
        return None
    try:
        value = Decimal(text.replace(",", ""))
        if not value.is_finite() or value < 0:
            raise CaseValueError(f"fine_amount_yuan must be a finite amount >= 0: {text!r}")
        # 1e400 is a number, but no fine: checked before quantize, which cannot represent it
        if value and value.adjusted() >= MAX_YUAN_DIGITS:
            raise CaseValueError(f"fine_amount_yuan is implausibly large (≥ 10^{MAX_YUAN_DIGITS} yuan): {text!r}")
        if value != value.quantize(Decimal("0.01")):
            raise CaseValueError(f"fine_amount_yuan must have at most 2 decimals: {text!r}")
    except InvalidOperation:
        raise CaseValueError(f"fine_amount_yuan is not a number: {text!r}") from None
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
    if term_text and not (term_text.isascii() and term_text.isdigit() and 1 <= int(term_text) <= 100):
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
        "new_penalty_date": parse_iso_date("new_penalty_date", row.get("new_penalty_date", "")),
        "new_penalty_reference": row.get("new_penalty_reference") or None,
    }


def iter_cases(cases_csv: Path, encoding: str | None = None) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """(line, typed case) or (line, RowError) for each row of CASES.csv, streaming.

    Raises CasesFileError for an unreadable encoding or a header lacking a required column.
    """
    encoding = encoding or detect_encoding(cases_csv)
    seen: dict[str, int] = {}
    with cases_csv.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip().lstrip("\ufeff") for h in next(reader, [])]
        missing = [c for c in CASE_COLUMNS if c not in header]
        if missing:
            raise CasesFileError(f"{cases_csv.name}: header lacks column(s) {', '.join(missing)}")
        for cells in reader:
            line = reader.line_num
            if not cells:
                continue  # a blank line
            if len(cells) != len(header):
                row = dict(zip(header, cells, strict=False))
                yield line, RowError(line, (row.get("record_id") or "").strip(),
                                     f"row has {len(cells)} cells, the header {len(header)}")
                continue
            row = {k: v.strip() for k, v in zip(header, cells, strict=True)}
            record_id = row["record_id"]
            if not record_id:
                yield line, RowError(line, record_id, "record_id is empty")
                continue
            if record_id in seen:
                yield line, RowError(line, record_id, f"duplicate record_id (first on line {seen[record_id]})")
                continue
            seen[record_id] = line
            try:
                yield line, parse_case(row)
            except CaseValueError as exc:
                yield line, RowError(line, record_id, str(exc))


def read_cases(cases_csv: Path) -> tuple[list[tuple[int, dict[str, Any]]], list[RowError]]:
    """The whole of CASES.csv: (line, typed case) for the valid rows, RowError for the others."""
    good: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for line, item in iter_cases(cases_csv):
        if isinstance(item, RowError):
            errors.append(item)
        else:
            good.append((line, item))
    return good, errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return escape_cell(str(value))


def _batches(items: Iterator[tuple[int, dict[str, Any] | RowError]],
             size: int) -> Iterator[tuple[list[tuple[int, dict[str, Any]]], list[RowError]]]:
    good: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for line, item in items:
        if isinstance(item, RowError):
            errors.append(item)
        else:
            good.append((line, item))
        if len(good) + len(errors) >= size:
            yield good, errors
            good, errors = [], []
    if good or errors:
        yield good, errors


def same_file(a: Path, b: Path) -> bool:
    """True when `a` and `b` name the same file (resolved, or the same inode when both exist)."""
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def removal_csv(cases_csv: Path, as_of: date, out_csv: Path, batch_rows: int = BATCH_ROWS) -> RemovalFileResult:
    """Answer CASES.csv into OUT.csv (OUT_COLUMNS, ISO dates, in input order), in batches.

    Every readable row is written: with a status, or `unknown` and the field it needs in `reason`. The rows
    that got no answer (bad cells, dates after `as_of` or out of order, no rule for that record type and
    date) are returned by line in the result's `errors`. Raises CasesFileError for an unreadable file,
    ValueError when `out_csv` is the cases file itself.
    """
    cases_csv, out_csv = Path(cases_csv), Path(out_csv)
    if same_file(cases_csv, out_csv):
        raise ValueError(f"{out_csv} is the cases file itself: write the answers to another file")
    result = RemovalFileResult(encoding=detect_encoding(cases_csv))
    out_csv.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_csv.with_name(f".{out_csv.name}.{os.getpid()}.tmp")
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY}'")  # a batch needs far less; beyond it DuckDB spills
        install_rules(con)
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(OUT_COLUMNS)
            for good, errors in _batches(iter_cases(cases_csv, result.encoding), batch_rows):
                result.rows += len(good) + len(errors)
                result.errors.extend(errors)
                if good:
                    _answer_batch(con, good, as_of, writer, result)
        tmp.replace(out_csv)
    finally:
        con.close()
        tmp.unlink(missing_ok=True)
    result.errors.sort(key=lambda e: e.line)
    return result


def _answer_batch(con: duckdb.DuckDBPyConnection, good: list[tuple[int, dict[str, Any]]], as_of: date,
                  writer: Any, result: RemovalFileResult) -> None:
    lines = {case["record_id"]: line for line, case in good}
    table = pa.Table.from_pylist([case for _, case in good], schema=CASES_SCHEMA)
    con.register("removal_csv_cases", table)
    try:
        relation = evaluate_cases(con, "removal_csv_cases", as_of, install=False)
        columns = relation.columns
        rows = relation.fetchall()
    finally:
        con.unregister("removal_csv_cases")
    error_at = columns.index("error")
    status_at = columns.index("status")
    picks = [columns.index(c) for c in OUT_COLUMNS]
    for values in rows:
        if values[error_at] is not None:
            result.errors.append(RowError(lines[values[0]], values[0], values[error_at]))
            continue
        result.answered += 1
        result.unknown += values[status_at] == "unknown"
        writer.writerow([_cell(values[i]) for i in picks])
