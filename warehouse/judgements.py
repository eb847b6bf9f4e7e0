"""Analysts' link decisions (`creditwatch review …`): judgements on (record, operator) pairs that win over
the linker on every rebuild (nomenklatura's resolver does the same: source data stays untouched)."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from warehouse import references

JUDGEMENTS = ("positive", "negative", "unsure")


class JudgementError(ValueError):
    pass


def resolve_record(con: duckdb.DuckDBPyConnection, reference: str) -> str:
    """The one record `reference` names (warehouse.references); JudgementError otherwise."""
    try:
        return references.resolve_record(con, reference)
    except references.UnknownRecord as error:
        raise JudgementError(str(error)) from None


def candidate(con: duckdb.DuckDBPyConnection, record_id: str) -> str:
    rows = con.execute("SELECT operator_id FROM core.record_links WHERE record_id = ?", [record_id]).fetchall()
    if not rows or rows[0][0] is None:
        raise JudgementError(f"record {record_id} has no candidate operator: name one with `review link`")
    return rows[0][0]


def record_judgement(con: duckdb.DuckDBPyConnection, reference: str, operator_id: str | None, judgement: str,
                     decided_by: str, note: str | None = None) -> tuple[str, str]:
    """Store one judgement; returns (record_id, operator_id). The operator defaults to the linker's candidate."""
    if judgement not in JUDGEMENTS:
        raise JudgementError(f"judgement must be one of {', '.join(JUDGEMENTS)}, not {judgement!r}")
    record_id = resolve_record(con, reference)
    operator_id = operator_id or candidate(con, record_id)
    known = con.execute("SELECT count(*) FROM core.licensed_operators WHERE operator_id = ?", [operator_id]).fetchall()
    if not known[0][0]:
        raise JudgementError(f"no licensed operator {operator_id!r}")
    con.execute("INSERT INTO ops.link_judgements VALUES (?, ?, ?, ?, ?, ?)",
                [record_id, operator_id, judgement, decided_by, datetime.now(UTC).replace(tzinfo=None), note])
    return record_id, operator_id
