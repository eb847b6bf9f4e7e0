"""Repair progress (修复进度): one row per case with its deadline, days open and whether it is overdue.

The same rows feed marts.repair_cases (transforms/models/marts/repair_cases.py), `creditwatch repair list`,
the workbook sheet 修复进度, the HTML report and the repair_overdue alert.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from transforms.repair.cases import CASE_COLUMNS, Case
from transforms.repair.deadlines import china_day

# Read by the build's dependency scan too: the mart is built after these.
SOURCES_SQL = f"""
SELECT {', '.join(f'c.{c}' for c in CASE_COLUMNS)},
       o.name AS operator_name, o.uscc, r.reference, r.authority, r.source, r.display_name AS subject_name,
       r.removed_at
FROM ops.repair_cases c
LEFT JOIN core.credit_records r USING (record_id)
LEFT JOIN core.licensed_operators o USING (operator_id)
ORDER BY c.case_id
"""
SCHEMA = pa.schema([
    ("case_id", pa.string()), ("state", pa.string()), ("overdue", pa.bool_()),
    ("operator_id", pa.string()), ("operator_name", pa.string()), ("uscc", pa.string()),
    ("record_id", pa.string()), ("record_type", pa.string()), ("source", pa.string()),
    ("reference", pa.string()), ("subject_name", pa.string()), ("authority", pa.string()),
    ("platform", pa.string()), ("opened_on", pa.date32()), ("submitted_on", pa.date32()),
    ("receipt_no", pa.string()), ("outcome_on", pa.date32()), ("outcome_reason", pa.string()),
    ("verified_on", pa.date32()), ("verified_run_id", pa.string()), ("record_removed_at", pa.timestamp("us")),
    ("deadline_kind", pa.string()), ("deadline", pa.date32()), ("days_open", pa.int32()),
    ("days_to_deadline", pa.int32()), ("deadline_note", pa.string()), ("as_of", pa.date32()),
])


def days_open(case: Case, as_of: date) -> int:
    """Calendar days from opening to the case's end (verified removal, rejection) or to `as_of`."""
    end = {"removed_verified": case.verified_on, "rejected": case.outcome_on}.get(case.state) or as_of
    return max((end - china_day(case.opened_at)).days, 0)


def progress_rows(con: duckdb.DuckDBPyConnection, as_of: date) -> list[dict]:
    """Every case, oldest first, as of `as_of`."""
    relation = con.execute(SOURCES_SQL)
    names = [c[0] for c in relation.description]
    rows = []
    for values in relation.fetchall():
        row = dict(zip(names, values, strict=True))
        case = Case(**{c: row[c] for c in CASE_COLUMNS})
        deadline = case.deadline(as_of)
        rows.append({
            **{k: row[k] for k in ("case_id", "state", "operator_id", "operator_name", "uscc", "record_id",
                                   "record_type", "source", "reference", "subject_name", "authority", "platform",
                                   "submitted_on", "receipt_no", "outcome_on", "outcome_reason", "verified_on",
                                   "verified_run_id")},
            "overdue": deadline.overdue, "opened_on": china_day(case.opened_at), "record_removed_at": row["removed_at"],
            "deadline_kind": deadline.kind, "deadline": deadline.due, "days_open": days_open(case, as_of),
            "days_to_deadline": (deadline.due - as_of).days if deadline.due else None,
            "deadline_note": deadline.note, "as_of": as_of,
        })
    return rows


def progress_table(con: duckdb.DuckDBPyConnection, as_of: date) -> pa.Table:
    return pa.Table.from_pylist(progress_rows(con, as_of), schema=SCHEMA)
