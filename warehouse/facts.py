"""Compliance facts: what the team records and no registry publishes (a fine paid, a cause corrected).

`creditwatch facts FILE.csv` imports them; the removal rules read them on the next build. A file is
taken whole or not at all: one bad row refuses the file, naming the line and the reason.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.encoding import detect_encoding
from warehouse.db import transaction
from warehouse.references import records_named

COLUMNS = ("reference", "obligations_done_date", "corrected_date", "note")


class FactsError(ValueError):
    pass


@dataclass(frozen=True)
class Fact:
    record_id: str
    obligations_done_date: date | None
    corrected_date: date | None
    note: str | None


def _date(text: str, line: int, column: str, path: Path) -> date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise FactsError(f"{path}:{line}: {column} {text!r} is not a date (YYYY-MM-DD)") from None


def read_facts(con: duckdb.DuckDBPyConnection, path: Path) -> list[Fact]:
    """Parse and resolve every row (reference = a record id, or the registry's own key such as a decision
    number or case code); raise FactsError naming the first bad line."""
    try:
        with path.open(encoding=detect_encoding(path), newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[:2] if c not in (reader.fieldnames or [])]
            if missing:
                raise FactsError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
            rows = list(enumerate(reader, start=2))
    except UnicodeDecodeError as error:
        raise FactsError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None
    facts = []
    for line, row in rows:
        reference = (row.get("reference") or "").strip()
        if not reference:
            raise FactsError(f"{path}:{line}: empty reference")
        matches = records_named(con, reference)
        if not matches:
            raise FactsError(f"{path}:{line}: no record with reference {reference!r}")
        if len(matches) > 1:
            raise FactsError(f"{path}:{line}: reference {reference!r} names {len(matches)} records; use a record_id")
        done = _date(row.get("obligations_done_date", ""), line, "obligations_done_date", path)
        corrected = _date(row.get("corrected_date", ""), line, "corrected_date", path)
        if done is None and corrected is None:
            raise FactsError(f"{path}:{line}: neither obligations_done_date nor corrected_date is given")
        facts.append(Fact(matches[0], done, corrected, (row.get("note") or "").strip() or None))
    return facts


def import_facts(con: duckdb.DuckDBPyConnection, path: Path, recorded_by: str) -> int:
    facts = read_facts(con, path)
    now = datetime.now(UTC).replace(tzinfo=None)
    written = 0
    with transaction(con):
        for fact in facts:
            # Importing the same file twice must not duplicate: skip a fact equal to the record's latest one.
            latest = con.execute(
                "SELECT obligations_done_date, corrected_date, note FROM ops.compliance_facts WHERE record_id = ? "
                "ORDER BY recorded_at DESC LIMIT 1", [fact.record_id]).fetchall()
            if latest and latest[0] == (fact.obligations_done_date, fact.corrected_date, fact.note):
                continue
            con.execute("INSERT INTO ops.compliance_facts VALUES (?, ?, ?, ?, ?, ?)",
                        [fact.record_id, fact.obligations_done_date, fact.corrected_date, fact.note, recorded_by, now])
            written += 1
    return written
