"""marts.repair_cases -- 修复进度: one row per repair case (ops.repair_cases) with the operator and record
it concerns, its current deadline (decision due while submitted, removal due once accepted; working days on
the official calendar, transforms/repair/deadlines.py), days open, days to the deadline and `overdue`.

Reads ops.repair_cases, core.credit_records and core.licensed_operators (transforms/repair/progress.py).
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from transforms.repair.progress import progress_table


def model(con: duckdb.DuckDBPyConnection) -> pa.Table:
    [(as_of,)] = con.execute("SELECT getvariable('as_of')").fetchall()
    return progress_table(con, as_of)
