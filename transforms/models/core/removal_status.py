"""removal_status -- for each current record: its display status at the as-of date (not_published /
expired / eligible / waiting / conditions_unmet / barred / unknown), the first day early removal (信用修复)
may be applied for, the first day it is no longer shown (停止公示) and the last day it is (公示截止期), the
abnormal-listing escalation date, the day the body must have removed it (working days), the rule and its
legal basis, whether the rule is confirmed, the rule's alternative reading (36号令 beside 58号令) and the
reason an answer is incomplete. Applies transforms/removal (rules as data) to core.removal_cases.

Incremental (issue 18): each answer is kept in `cache.removal_status_results` with a hash of its case row
(every column of core.removal_cases, NULL-safe, in column order) and
`stable_until`, the last as-of date on which the engine is certain the answer stays as it is (NULL: it
never changes; removal_status.sql bounds it by every comparison with the as-of date). A build evaluates only
the cases that are new, changed, or past their `stable_until`, keeps the other answers and drops those of
cases no longer current. `cache.removal_status_state` holds the as-of date of the last build and a digest of
all else the engine reads (its SQL, the rules, the 较低数额罚款 thresholds, the working-day calendar, the
cases' columns): a changed digest or an earlier as-of date empties the cache, as does
`creditwatch transform --full`. The table comes out the same either way: no answer depends on another case
(what one record takes from others, a bad-list entry's new penalty, is a column of its case row, so in its
digest).
"""

from __future__ import annotations

import hashlib
from datetime import date

import duckdb

from transforms.build import CACHE_SCHEMA
from transforms.removal.engine import (
    EVALUATE_BATCH,
    RESULT_COLUMNS,
    STABLE_UNTIL_COLUMN,
    evaluate_cases,
    install_rules,
    rules_digest,
)

CASES = "core.removal_cases"
RESULTS = f"{CACHE_SCHEMA}.removal_status_results"  # record_id → the answer, case_digest, stable_until
STATE = f"{CACHE_SCHEMA}.removal_status_state"  # the as-of date and engine digest those answers hold for
DIGESTS = "removal_case_digests"  # temp: record_id → the hash of its case row (NULL: the id is not unique)
FRESH = "removal_fresh_cases"  # temp: the cases of one evaluation batch
FRESH_RESULTS = "removal_fresh_results"  # temp: their answers
UNKEPT = "removal_unkept_results"  # temp: fresh answers of cases without a unique record_id (never kept)
NO_CASES = "removal_no_cases"  # temp: the cases' shape without rows (the cache's columns come from the engine)
OUTPUT = ", ".join(RESULT_COLUMNS)


def case_columns(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """(name, type) of every column of the cases, in order."""
    relation = con.sql(f"SELECT * FROM {CASES} LIMIT 0")
    return [(name, str(kind)) for name, kind in zip(relation.columns, relation.types, strict=True)]


def case_digest_sql(columns: list[tuple[str, str]]) -> str:
    """A 64-bit hash of a case row, cell by cell in column order (NULL hashes apart from any value); 4× faster
    than an md5 of the row as JSON, the weekly cost of digesting every case."""
    cells = ", ".join(f'"{name}"' for name, _ in columns)
    return f"hash({cells})"


def inputs_digest(con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]]) -> str:
    """A digest of everything the answers rest on besides the case rows and the as-of date."""
    signature = "|".join(f"{name} {kind}" for name, kind in columns)
    return hashlib.md5(f"{rules_digest(con)}\n{signature}\n{case_digest_sql(columns)}".encode()).hexdigest()


def prepare_cache(con: duckdb.DuckDBPyConnection, digest: str, as_of: date) -> None:
    """The state set to (`as_of`, `digest`); the answers dropped unless they were made under the same digest
    at an as-of date no later than `as_of` (stable_until only looks forward)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CACHE_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (as_of DATE, digest VARCHAR)")
    [(valid,)] = con.execute(f"SELECT count(*) FROM {STATE} WHERE digest = ? AND as_of <= ?",
                             [digest, as_of]).fetchall()
    if not valid:
        con.execute(f"DROP TABLE IF EXISTS {RESULTS}")
    con.execute(f"DELETE FROM {STATE}")
    con.execute(f"INSERT INTO {STATE} VALUES (?, ?)", [as_of, digest])
    con.execute(f"CREATE OR REPLACE TEMP VIEW {NO_CASES} AS SELECT * FROM {CASES} LIMIT 0")
    shape = evaluate_cases(con, NO_CASES, as_of, install=False, stable_until=True)
    typed = ", ".join(f'"{name}" {kind}' for name, kind in zip(shape.columns, shape.types, strict=True))
    # Declared, not CREATE TABLE AS an empty query: DuckDB 2.0 then loses a large insert made in the same
    # transaction (count(*) sees the rows, a scan none).
    con.execute(f"CREATE TABLE IF NOT EXISTS {RESULTS} ({typed}, case_digest UBIGINT)")
    con.execute(f"CREATE OR REPLACE TEMP TABLE {UNKEPT} ({typed})")


def drop_stale(con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]], as_of: date) -> None:
    """Digest the cases, then drop the kept answers whose case changed or went, or that may differ at `as_of`."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {DIGESTS} AS
        SELECT record_id, CASE WHEN count(*) = 1 THEN any_value({case_digest_sql(columns)}) END AS case_digest
        FROM {CASES} WHERE record_id IS NOT NULL GROUP BY record_id""")
    con.execute(f"""
        DELETE FROM {RESULTS} AS r
        WHERE r.{STABLE_UNTIL_COLUMN} < ?
           OR NOT EXISTS (SELECT 1 FROM {DIGESTS} AS d
                          WHERE d.record_id = r.record_id AND d.case_digest = r.case_digest)""", [as_of])


def fresh_batches(con: duckdb.DuckDBPyConnection) -> int:
    """How many evaluation queries this build's fresh cases are split into (at least one)."""
    [(cases,)] = con.execute(f"SELECT count(*) FROM {CASES}").fetchall()
    [(kept,)] = con.execute(f"SELECT count(*) FROM {RESULTS}").fetchall()
    return max(1, -(-(cases - kept) // EVALUATE_BATCH))


def evaluate_fresh(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """Answer the cases with no kept answer, EVALUATE_BATCH at a time (split by a hash of record_id); keep
    the answers of cases with a unique record_id and put the others in UNKEPT."""
    batches = fresh_batches(con)
    for batch in range(batches):
        # A batch's ids hash to it alone, so the answers kept by earlier batches never change its cases.
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH} AS SELECT * FROM {CASES} AS c "
                    f"WHERE hash(c.record_id) % {batches} = {batch} "
                    f"AND NOT EXISTS (SELECT 1 FROM {RESULTS} AS r WHERE r.record_id = c.record_id)")
        answers = evaluate_cases(con, FRESH, as_of, install=False, stable_until=True)  # noqa: F841 (by name)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {FRESH_RESULTS} AS SELECT * FROM answers")
        con.execute(f"""
            INSERT INTO {RESULTS} BY NAME
            SELECT f.*, d.case_digest FROM {FRESH_RESULTS} AS f JOIN {DIGESTS} AS d USING (record_id)
            WHERE d.case_digest IS NOT NULL""")
        con.execute(f"""
            INSERT INTO {UNKEPT} BY NAME
            SELECT f.* FROM {FRESH_RESULTS} AS f LEFT JOIN {DIGESTS} AS d USING (record_id)
            WHERE d.case_digest IS NULL""")
    con.execute(f"DROP TABLE {FRESH}")
    con.execute(f"DROP TABLE {FRESH_RESULTS}")


def model(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    """Every current record's answer at the build's as-of date: kept where still certain, else evaluated."""
    as_of = con.execute("SELECT getvariable('as_of')").fetchall()[0][0]
    install_rules(con)
    columns = case_columns(con)
    prepare_cache(con, inputs_digest(con, columns), as_of)
    drop_stale(con, columns, as_of)
    evaluate_fresh(con, as_of)
    # A relation, written by the build straight into core.removal_status (not through Python: ~1 row per
    # record). A case without a unique record_id is never kept, so its fresh answer is added here.
    return con.sql(f"SELECT {OUTPUT} FROM {RESULTS} UNION ALL SELECT {OUTPUT} FROM {UNKEPT}")
