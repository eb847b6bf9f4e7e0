"""Throughput of the removal engine on synthetic cases (a speed check, never a test).

    .venv/bin/python -m transforms.removal.bench [N]      # default 200,000 cases, in memory
    .venv/bin/python -m transforms.removal.bench --csv OUT.csv N   # write a CASES.csv of N rows

Prints the time to evaluate N cases in an in-memory DuckDB and the status counts. The CASES.csv form is
what bench/run.py's `removal` stage feeds `creditwatch removal` (transforms.removal.removal_csv).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from transforms.removal.engine import CASE_COLUMNS, evaluate_cases

AS_OF = date(2026, 11, 23)
# A mix of record types, built in SQL so generating the input costs little next to evaluating it.
SYNTHETIC = """
CREATE OR REPLACE TABLE bench_cases AS
SELECT
    'r' || i AS record_id,
    ['penalty', 'penalty', 'penalty', 'abnormal_operation', 'serious_illegal_list', 'court_dishonest',
     'tax_major_violation', 'telecom_bad_list'][1 + i % 8] AS record_type,
    ['gsxt', 'creditchina', 'gsxt', 'gsxt', 'gsxt', 'court', 'tax', 'miit'][1 + i % 8] AS platform,
    ['fine', 'fine|confiscation', 'warning', 'licence_revocation', 'annual_report_missing'][1 + (i // 8) % 5]
        AS penalty_kinds,
    CAST((i * 7919) % 400000 AS DECIMAL(18, 2)) AS fine_amount_yuan,
    ['general', 'food', 'fire', 'drug'][1 + (i // 3) % 4] AS domain,
    ['minor', 'general', 'serious'][1 + (i // 5) % 3] AS severity,
    DATE '2021-09-01' + CAST(i % 1900 AS INTEGER) AS decision_date,
    DATE '2021-09-10' + CAST(i % 1900 AS INTEGER) AS publish_date,
    DATE '2021-09-10' + CAST(i % 1900 AS INTEGER) AS listed_date,
    CASE WHEN i % 3 = 0 THEN DATE '2021-10-01' + CAST(i % 1900 AS INTEGER) END AS obligations_done_date,
    CASE WHEN i % 4 = 0 THEN DATE '2021-10-05' + CAST(i % 1900 AS INTEGER) END AS corrected_date,
    CASE WHEN i % 16 = 5 THEN 2 END AS term_years,
    ['湖北省', '广东省', NULL][1 + i % 3] AS province
FROM range(?) AS t(i)
"""


def write_cases_csv(path: Path, n: int) -> Path:
    """A CASES.csv of `n` synthetic rows (UTF-8, the file interface's columns plus province)."""
    con = duckdb.connect()
    try:
        con.execute("SET threads = 2")
        con.execute(SYNTHETIC, [n])
        columns = ", ".join([*CASE_COLUMNS, "province"])
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT {columns} FROM bench_cases ORDER BY record_id) TO '{path}' (HEADER, DELIMITER ',')")
    finally:
        con.close()
    return path


def main(n: int = 200_000) -> None:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute("SET enable_progress_bar = false")
    con.execute(SYNTHETIC, [n])
    start = time.perf_counter()
    counts = (
        evaluate_cases(con, "bench_cases", AS_OF)
        .aggregate("coalesce(status, 'error') AS status, count(*) AS n", "coalesce(status, 'error')")
        .order("n DESC")
        .fetchall()
    )
    seconds = time.perf_counter() - start
    print(f"{n:,} cases in {seconds:.2f} s ({n / seconds:,.0f} cases/s)")
    for status, count in counts:
        print(f"  {status:<17}{count:>10,}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--csv":
        print(write_cases_csv(Path(sys.argv[2]), int(sys.argv[3])))
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 200_000)
