"""Compliance facts: what the team records and no registry publishes (a fine paid, a cause corrected).

`creditwatch facts FILE.csv` imports them; the removal rules read them on the next build. A file is
taken whole or not at all: one bad row refuses the file, naming the line and the reason. The file is
streamed (read and resolved in batches, staged inside the transaction), so its size does not bound memory.
"""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from pipelines.encoding import detect_encoding
from warehouse.db import transaction
from warehouse.references import records_named_many

COLUMNS = ("reference", "obligations_done_date", "corrected_date", "note")
BATCH_ROWS = 50_000  # rows parsed and resolved at a time: a file of any size is never held whole
STAGED = "facts_staged"
STAGE_SQL = f"""CREATE OR REPLACE TEMP TABLE {STAGED} (
    line BIGINT, record_id VARCHAR, obligations_done_date DATE, corrected_date DATE, note VARCHAR)"""
# A fact equal to its record's latest is skipped, so importing a file again writes nothing. A record's latest
# facts are those of the last import that wrote any for it (one instant: a file may give a record several
# rows). Row by row that reads: rows equal to one of those are skipped until the first new one; from there
# on the file's own rows are the latest, so each later row is written unless an earlier one from there on
# equals it. One set-based statement over the staged rows applies exactly that.
INSERT_SQL = f"""
INSERT INTO ops.compliance_facts
WITH latest AS (
    SELECT DISTINCT record_id, obligations_done_date, corrected_date, note FROM ops.compliance_facts
    WHERE record_id IN (SELECT record_id FROM {STAGED})
    QUALIFY recorded_at = max(recorded_at) OVER (PARTITION BY record_id)
), marked AS (
    SELECT s.*, l.record_id IS NOT NULL AS known
    FROM {STAGED} s LEFT JOIN latest l ON l.record_id = s.record_id
        AND l.obligations_done_date IS NOT DISTINCT FROM s.obligations_done_date
        AND l.corrected_date IS NOT DISTINCT FROM s.corrected_date AND l.note IS NOT DISTINCT FROM s.note
), started AS (
    SELECT *, min(line) FILTER (WHERE NOT known) OVER (PARTITION BY record_id) AS first_new FROM marked
)
SELECT record_id, obligations_done_date, corrected_date, note, $recorded_by, $recorded_at
FROM started WHERE line >= first_new
QUALIFY row_number() OVER (PARTITION BY record_id, obligations_done_date, corrected_date, note ORDER BY line) = 1
ORDER BY line
"""


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


def _batches(path: Path, batch_rows: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    """The file's rows, numbered as before streaming (header = line 1), `batch_rows` at a time."""
    try:
        with path.open(encoding=detect_encoding(path), newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS[:2] if c not in (reader.fieldnames or [])]
            if missing:
                raise FactsError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
            batch: list[tuple[int, dict[str, str]]] = []
            for line, row in enumerate(reader, start=2):
                batch.append((line, row))
                if len(batch) >= batch_rows:
                    yield batch
                    batch = []
            if batch:
                yield batch
    except UnicodeDecodeError as error:
        raise FactsError(f"{path}: not UTF-8 ({error.reason} at byte {error.start})") from None


def _fact(path: Path, line: int, row: dict[str, str], matches: list[str]) -> Fact:
    """One row as a Fact, or FactsError for its first fault (checked in the order the messages are listed)."""
    reference = (row.get("reference") or "").strip()
    if not reference:
        raise FactsError(f"{path}:{line}: empty reference")
    if not matches:
        raise FactsError(f"{path}:{line}: no record with reference {reference!r}")
    if len(matches) > 1:
        raise FactsError(f"{path}:{line}: reference {reference!r} names {len(matches)} records; use a record_id")
    done = _date(row.get("obligations_done_date", ""), line, "obligations_done_date", path)
    corrected = _date(row.get("corrected_date", ""), line, "corrected_date", path)
    if done is None and corrected is None:
        raise FactsError(f"{path}:{line}: neither obligations_done_date nor corrected_date is given")
    return Fact(matches[0], done, corrected, (row.get("note") or "").strip() or None)


def iter_facts(con: duckdb.DuckDBPyConnection, path: Path,
               batch_rows: int = BATCH_ROWS) -> Iterator[list[tuple[int, Fact]]]:
    """Parse and resolve the file batch by batch (reference = a record id, or the registry's own key such as a
    decision number or case code: warehouse.references, one query per batch); (line, Fact) pairs, or
    FactsError naming the first bad line. Rows are checked in file order, so the first fault reported is the
    one a whole-file read reported."""
    for batch in _batches(path, batch_rows):
        references = [(row.get("reference") or "").strip() for _, row in batch]
        named = records_named_many(con, [r for r in references if r])
        yield [(line, _fact(path, line, row, named.get(reference, [])))
               for (line, row), reference in zip(batch, references, strict=True)]


def import_facts(con: duckdb.DuckDBPyConnection, path: Path, recorded_by: str,
                 batch_rows: int = BATCH_ROWS) -> int:
    """Import the file's facts whole or not at all; the count written (a fact equal to its record's latest is
    skipped, so importing a file again writes nothing). Streamed: each batch is staged in a temp table inside
    the transaction, and the facts are written from it once every row is good."""
    now = datetime.now(UTC).replace(tzinfo=None)
    with transaction(con):
        con.execute(STAGE_SQL)
        try:
            for facts in iter_facts(con, path, batch_rows):
                _stage(con, facts)
            return con.execute(INSERT_SQL, {"recorded_by": recorded_by, "recorded_at": now}).fetchone()[0]
        finally:
            with contextlib.suppress(duckdb.Error):  # a failed statement aborts the transaction: the rollback drops it
                con.execute(f"DROP TABLE IF EXISTS {STAGED}")


def _stage(con: duckdb.DuckDBPyConnection, facts: list[tuple[int, Fact]]) -> None:
    # List parameters zipped by unnest, not a registered table: register() refuses a connection whose caller
    # left a result unfinished (DuckDB 2.0; see warehouse.references).
    columns = {
        "line": [line for line, _ in facts], "record_id": [f.record_id for _, f in facts],
        "done": [f.obligations_done_date for _, f in facts], "corrected": [f.corrected_date for _, f in facts],
        "note": [f.note for _, f in facts],
    }
    con.execute(f"INSERT INTO {STAGED} SELECT unnest($line::BIGINT[]), unnest($record_id::VARCHAR[]), "
                "unnest($done::DATE[]), unnest($corrected::DATE[]), unnest($note::VARCHAR[])", columns)
