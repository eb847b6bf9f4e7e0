"""removal_status -- for each current record: its display status at the as-of date (not_published /
expired / eligible / waiting / conditions_unmet / barred / unknown), the first day early removal (信用修复)
may be applied for, the first day it is no longer shown (停止公示) and the last day it is (公示截止期), the
abnormal-listing escalation date, the day the body must have removed it (working days), the rule and its
legal basis, whether the rule is confirmed, the rule's alternative reading (36号令 beside 58号令) and the
reason an answer is incomplete. Applies transforms/removal (rules as data) to core.removal_cases."""

from __future__ import annotations

import duckdb
import pyarrow as pa


def model(con: duckdb.DuckDBPyConnection) -> pa.Table:
    from transforms.removal import evaluate_cases

    as_of = con.execute("SELECT getvariable('as_of')").fetchall()[0][0]
    # Arrow keeps DATE columns as dates (a DataFrame would turn them into timestamps).
    return evaluate_cases(con, "core.removal_cases", as_of).to_arrow_table()
