"""What a record reference is (记录引用): the one definition every command that names a record reads
(`review`, `facts`, and any later command that takes RECORD).

A reference is a record id, or the registry's own key for it: the reference the workbook shows
(文书号/名单编号, core.credit_records.reference), the source's natural key, a decision number or a case code.
"""

from __future__ import annotations

import duckdb

REFERENCE_SQL = """
SELECT DISTINCT record_id FROM raw.records
WHERE record_id = $1 OR natural_key = $1 OR fields_json ->> 'decision_no' = $1 OR fields_json ->> 'case_code' = $1
"""
CORE_REFERENCE_SQL = "SELECT DISTINCT record_id FROM core.credit_records WHERE reference = $1"


class UnknownRecord(LookupError):
    """A reference that names no record, or more than one; the message says which and what to give."""


def records_named(con: duckdb.DuckDBPyConnection, reference: str) -> list[str]:
    """Every record id `reference` names (empty when none), in order."""
    found = {r for (r,) in con.execute(REFERENCE_SQL, [reference]).fetchall()}
    has_core = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'core' "
                           "AND table_name = 'credit_records'").fetchone()[0]
    if has_core:
        found |= {r for (r,) in con.execute(CORE_REFERENCE_SQL, [reference]).fetchall()}
    return sorted(found)


def resolve_record(con: duckdb.DuckDBPyConnection, reference: str) -> str:
    """The one record `reference` names; UnknownRecord when it names none or several."""
    matches = records_named(con, reference)
    if not matches:
        raise UnknownRecord(f"no record {reference!r} (give a record_id or its decision number / case code)")
    if len(matches) > 1:
        raise UnknownRecord(f"{reference!r} names {len(matches)} records; give the record_id")
    return matches[0]
