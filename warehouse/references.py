"""What a record reference is (记录引用): the one definition every command that names a record reads
(`review`, `facts`, and any later command that takes RECORD).

A reference is a record id, or the registry's own key for it: the reference the workbook shows
(文书号/名单编号, core.credit_records.reference), the source's natural key, a decision number or a case code.
"""

from __future__ import annotations

import duckdb

# Every (key, record_id) a reference can match: the record id, the source's natural key and the two registry
# keys in the cleaned fields (one JSON parse for both: ->> twice parsed each record twice). An equi-join of the
# wanted references with these (rather than one query per reference, or a join on OR-ed conditions) lets a
# file's references be resolved in one scan.
REFERENCE_SQL = """
WITH wanted AS (SELECT DISTINCT reference FROM {wanted}),
keys AS (
    SELECT record_id, unnest([record_id, natural_key]
                              || json_extract_string(fields_json, ['decision_no', 'case_code'])) AS key
    FROM raw.records
)
SELECT DISTINCT w.reference, k.record_id FROM wanted w JOIN keys k ON k.key = w.reference
"""
CORE_REFERENCE_SQL = """
SELECT DISTINCT w.reference, c.record_id
FROM (SELECT DISTINCT reference FROM {wanted}) w JOIN core.credit_records c ON c.reference = w.reference
"""


class UnknownRecord(LookupError):
    """A reference that names no record, or more than one; the message says which and what to give."""


def records_named(con: duckdb.DuckDBPyConnection, reference: str) -> list[str]:
    """Every record id `reference` names (empty when none), in order."""
    return records_named_many(con, [reference]).get(reference, [])


def records_named_many(con: duckdb.DuckDBPyConnection, references: list[str]) -> dict[str, list[str]]:
    """records_named for many references in one query: each reference that names a record → its record
    ids, in order (a reference naming none is absent)."""
    found: dict[str, set[str]] = {}
    # A list parameter, not a registered table: register() refuses a connection whose caller left a result
    # unfinished (DuckDB 2.0), which a query's fetchone() does.
    wanted = "(SELECT unnest($references::VARCHAR[]) AS reference)"
    queries = [REFERENCE_SQL] + ([CORE_REFERENCE_SQL] if _has_core(con) else [])
    for query in queries:
        for reference, record_id in con.execute(query.format(wanted=wanted), {"references": references}).fetchall():
            found.setdefault(reference, set()).add(record_id)
    return {reference: sorted(ids) for reference, ids in found.items()}


def _has_core(con: duckdb.DuckDBPyConnection) -> bool:
    """core.credit_records exists once the models are built (a warehouse only loaded has raw.records only)."""
    return con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' "
                       "AND table_name = 'credit_records'").fetchall()[0][0] > 0


def resolve_record(con: duckdb.DuckDBPyConnection, reference: str) -> str:
    """The one record `reference` names; UnknownRecord when it names none or several."""
    matches = records_named(con, reference)
    if not matches:
        raise UnknownRecord(f"no record {reference!r} (give a record_id or its decision number / case code)")
    if len(matches) > 1:
        raise UnknownRecord(f"{reference!r} names {len(matches)} records; give the record_id")
    return matches[0]
