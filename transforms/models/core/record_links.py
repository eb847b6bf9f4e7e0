"""record_links -- every record (current and removed, so history links too) linked to the licensed operator it
names (method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, the latest per pair) win over the algorithm.

The registries repeat the same subject on many records, so the linker decides each distinct (name, USCC)
pair once and the result is joined back to the records in SQL: at registry scale this keeps the Python side
to the distinct pairs (memory and time). Records with a judgement are linked on their own, with it.

Incremental: each pair's decision is kept in `cache.record_pair_links` with the index lookup keys the
decision may read (transforms.link.index.query_keys), and the operators it was decided against, with the
keys each holds, in `cache.record_pair_operators`. When operators are added, changed or dropped, only the
pairs that read a key a changed operator's old or new version holds are decided again: no other lookup can
answer differently. The pairs to decide are decided against only the operators holding one of their keys
(the same decision as against all; building the whole index cost more than the decisions). A build links
only the pairs not decided before, and drops the pairs no record names any more (so a purged
name leaves the cache with its records). `creditwatch transform --full` empties the cache first; the result
is the same either way."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

import transforms.link.records as linker_records
from transforms.build import CACHE_SCHEMA
from transforms.link.index import CAPPED_KEYS, MAX_BUCKET, OperatorIndex, build_index, keys_by_operator
from transforms.link.records import RecordBatch

COLUMNS = ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]
EMPTY = pa.table({"record_id": pa.array([], pa.string()), "operator_id": pa.array([], pa.string()),
                  "status": pa.array([], pa.string()), "method": pa.array([], pa.string()),
                  "score": pa.array([], pa.float64()), "is_branch": pa.array([], pa.bool_()),
                  "evidence": pa.array([], pa.string())})
PAIRS = f"{CACHE_SCHEMA}.record_pair_links"  # pair_key → the decision and the lookup keys it may read
OPERATORS = f"{CACHE_SCHEMA}.record_pair_operators"  # the operators decided against, with the keys each holds
KEY_BATCH = 50_000  # records whose lookup keys are computed at a time
STALE = [f"{CACHE_SCHEMA}.record_pair_links_digest"]  # an earlier cache layout, dropped on sight
CACHE_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {PAIRS} (
        pair_key VARCHAR NOT NULL, operator_id VARCHAR, status VARCHAR, method VARCHAR, score DOUBLE,
        is_branch BOOLEAN, evidence VARCHAR, lookup_keys VARCHAR[])""",
    f"""CREATE TABLE IF NOT EXISTS {OPERATORS} (
        operator_id VARCHAR, name VARCHAR, uscc VARCHAR, aliases VARCHAR[], index_keys VARCHAR[])""",
]
SAME_OPERATOR = ("n.operator_id = o.operator_id AND n.name IS NOT DISTINCT FROM o.name "
                 "AND n.uscc IS NOT DISTINCT FROM o.uscc AND n.aliases IS NOT DISTINCT FROM o.aliases")


def _start_cache(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CACHE_SCHEMA}")
    for table in STALE:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    current = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? AND "
                          "column_name IN ('lookup_keys', 'index_keys')", [CACHE_SCHEMA]).fetchall()[0][0]
    # No primary key on pair_key (a pair is inserted only when absent): its index, loaded whole by a write, took
    # ~300 MB at 10M records. A cache keyed the older way is dropped, and its pairs decided again.
    keyed = con.execute("SELECT count(*) FROM duckdb_constraints() WHERE schema_name = ? AND table_name = ? "
                        "AND constraint_type = 'PRIMARY KEY'", [CACHE_SCHEMA, PAIRS.split(".")[1]]).fetchall()[0][0]
    if current < 2 or keyed:  # a cache from before the keys were kept cannot say which pairs a change touches
        con.execute(f"DROP TABLE IF EXISTS {PAIRS}")
        con.execute(f"DROP TABLE IF EXISTS {OPERATORS}")
    for ddl in CACHE_DDL:
        con.execute(ddl)


def refresh_operators(con: duckdb.DuckDBPyConnection) -> OperatorIndex | None:
    """Bring `cache.record_pair_operators` up to the current operators and drop the cached pairs a changed
    operator (added, changed or gone; old and new versions) may decide differently. Returns the index of the
    changed operators' new versions when that is every operator (a first build), for reuse."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE link_old AS SELECT o.* FROM {OPERATORS} o "
                f"ANTI JOIN link_operators n ON {SAME_OPERATOR}")
    new = con.sql(f"SELECT n.* FROM link_operators n ANTI JOIN {OPERATORS} o ON {SAME_OPERATOR} "
                  "ORDER BY operator_id").df()
    index = build_index(new) if len(new) else None
    held = keys_by_operator(index) if index is not None else {}
    new_keys = pa.table({"operator_id": pa.array(list(held), pa.string()),  # noqa: F841 (read by DuckDB)
                         "index_keys": pa.array(list(held.values()), pa.list_(pa.string()))})
    # A key whose bucket the caps skip before and after the change (over MAX_BUCKET entries both times)
    # answers nothing either way, so it touches no decision.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE link_changed_keys AS
        WITH gone AS (SELECT unnest(index_keys) AS k, -1 AS d FROM link_old),
             came AS (SELECT unnest(index_keys) AS k, 1 AS d FROM new_keys),
             delta AS (SELECT k, sum(d) AS d FROM (SELECT * FROM gone UNION ALL SELECT * FROM came) GROUP BY k),
             before AS (SELECT k, count(*) AS n FROM (SELECT unnest(index_keys) AS k FROM {OPERATORS})
                        WHERE k IN (SELECT k FROM delta) GROUP BY k)
        SELECT k FROM delta LEFT JOIN before USING (k)
        WHERE NOT (list_contains(?, split_part(k, ':', 1) || ':')
                   AND coalesce(n, 0) > ? AND coalesce(n, 0) + d > ?)""",
                [list(CAPPED_KEYS), MAX_BUCKET, MAX_BUCKET])
    changed = "SELECT operator_id FROM link_old UNION SELECT operator_id FROM new_keys"
    con.execute(f"""
        DELETE FROM {PAIRS} WHERE operator_id IN ({changed})
           OR pair_key IN (SELECT pair_key FROM (SELECT pair_key, unnest(lookup_keys) AS k FROM {PAIRS})
                           SEMI JOIN link_changed_keys USING (k))""")
    con.execute(f"DELETE FROM {OPERATORS} WHERE operator_id IN (SELECT operator_id FROM link_old)")
    con.execute(f"INSERT INTO {OPERATORS} SELECT n.*, k.index_keys FROM link_operators n "
                "JOIN new_keys k USING (operator_id)")
    everyone = con.execute("SELECT count(*) FROM link_operators").fetchall()[0][0]
    return index if len(new) == everyone else None


def operators_for(con: duckdb.DuckDBPyConnection, keys_table: str, also: list[str] | None = None) -> pd.DataFrame:
    """The operators holding any of the lookup keys in `keys_table` (its `lookup_keys`), plus the ids in
    `also`, in operator_id order: a decision against them is the decision against all operators
    (transforms.link.index)."""
    return con.sql(f"""
        WITH wanted AS (SELECT DISTINCT unnest(lookup_keys) AS k FROM {keys_table})
        SELECT operator_id, name, uscc, aliases FROM {OPERATORS}
        WHERE operator_id IN (SELECT operator_id FROM (SELECT operator_id, unnest(index_keys) AS k FROM {OPERATORS})
                              SEMI JOIN wanted USING (k))
           OR operator_id IN (SELECT unnest(?::VARCHAR[]))
        ORDER BY operator_id""", params=[also or []]).df()


def keep_lookup_keys(con: duckdb.DuckDBPyConnection, table: str,
                     batch: RecordBatch) -> tuple[list[str | None], np.ndarray]:
    """Each record's lookup keys into the temp `table` (record_id, lookup_keys), KEY_BATCH records at a time
    (a first build has ~0.5M pairs per 1M records, some 25 keys each: kept whole in Python they cost ~1 GB).
    Returns the records' checked USCCs (record_usccs), for the linker."""
    from transforms.link.records import record_lookup_keys, record_usccs

    checked = record_usccs(batch.usccs)
    usccs = checked[0]
    con.execute(f"CREATE OR REPLACE TEMP TABLE {table} (record_id VARCHAR, lookup_keys VARCHAR[])")
    for start in range(0, len(batch.ids), KEY_BATCH):
        rows = range(start, min(start + KEY_BATCH, len(batch.ids)))
        chunk = pa.table({"record_id": pa.array(batch.ids[rows.start:rows.stop], pa.string()),  # noqa: F841
                          "lookup_keys": pa.array(record_lookup_keys(batch, usccs, rows), pa.list_(pa.string()))})
        con.execute(f"INSERT INTO {table} SELECT * FROM chunk")
    return checked


def decide_pairs(con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame, every_operator: OperatorIndex | None) -> None:
    """Decide `pairs` (record_id = pair_key, name, uscc) and keep each decision with its lookup keys, against
    every operator's index when given (a first build), else against the operators holding one of their keys."""
    from transforms.link.records import link_validated, validated_records

    batch = validated_records(pairs)
    usccs = keep_lookup_keys(con, "link_new_keys", batch)
    index = every_operator or build_index(operators_for(con, "link_new_keys"))
    new_links = link_validated(index, batch, usccs_checked=usccs)[COLUMNS]  # noqa: F841 (read by DuckDB)
    con.execute(f"""
        INSERT INTO {PAIRS}
        SELECT l.record_id, l.operator_id, l.status, l.method, l.score::DOUBLE, l.is_branch::BOOLEAN,
               l.evidence, k.lookup_keys
        FROM new_links l JOIN link_new_keys k USING (record_id)""")


def model(con: duckdb.DuckDBPyConnection) -> pa.Table | duckdb.DuckDBPyRelation:
    # A view, not a temp table: a run's load and build share one transaction, and DuckDB holds a temp table made
    # in it until the commit (10M subjects: ~0.5 GB the later models lacked). The pair key is the model's.
    con.execute("""
        CREATE OR REPLACE TEMP VIEW link_subjects AS
        SELECT record_id, subject_name AS name, subject_uscc AS uscc, pair_key FROM core.subject_records""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE link_judged AS
        SELECT record_id, operator_id, judgement FROM ops.link_judgements
        WHERE operator_id IN (SELECT operator_id FROM core.licensed_operators)
          AND record_id IN (SELECT record_id FROM link_subjects)
        QUALIFY row_number() OVER (PARTITION BY record_id, operator_id ORDER BY decided_at DESC) = 1""")
    if not con.execute("SELECT count(*) FROM link_subjects").fetchall()[0][0]:
        return EMPTY
    from transforms.link import link_records
    from transforms.link.records import validated_records

    con.execute("""
        CREATE OR REPLACE TEMP TABLE link_operators AS
        SELECT operator_id, name, uscc, list_filter(published_names, lambda n: n <> name) AS aliases
        FROM core.licensed_operators""")
    _start_cache(con)
    con.execute(f"DELETE FROM {PAIRS} WHERE pair_key NOT IN (SELECT pair_key FROM link_subjects)")
    every_operator = refresh_operators(con)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE link_new_pairs AS
        SELECT row_number() OVER (ORDER BY record_id) - 1 AS n, * FROM (
            SELECT pair_key AS record_id, any_value(name) AS name, any_value(uscc) AS uscc FROM link_subjects
            WHERE record_id NOT IN (SELECT record_id FROM link_judged)
              AND pair_key NOT IN (SELECT pair_key FROM {PAIRS})
            GROUP BY pair_key)""")
    [(count,)] = con.execute("SELECT count(*) FROM link_new_pairs").fetchall()
    step = linker_records.PAIR_BATCH
    for start in range(0, count, step):
        pairs = con.sql("SELECT record_id, name, uscc FROM link_new_pairs WHERE n >= ? AND n < ?",
                        params=[start, start + step]).df()
        decide_pairs(con, pairs, every_operator)
    judged = con.sql("SELECT * FROM link_judged").df()
    judged_records = con.sql("SELECT record_id, name, uscc FROM link_subjects "
                             "WHERE record_id IN (SELECT record_id FROM link_judged)").df()
    if len(judged_records):
        keep_lookup_keys(con, "link_judged_keys", validated_records(judged_records))
        operators = operators_for(con, "link_judged_keys", also=judged["operator_id"].tolist())
        judged_links = link_records(operators, judged_records, judged)[COLUMNS]  # noqa: F841
    else:
        judged_links = EMPTY  # noqa: F841
    con.execute("CREATE OR REPLACE TEMP TABLE link_judged_links AS SELECT * FROM judged_links")
    # A relation, not a table: the build writes it straight into core.record_links, so the ~1 row per record
    # (10M at registry scale, evidence included) never sits in Python.
    return con.sql(f"""
        SELECT s.record_id, p.operator_id, p.status, p.method, p.score::DOUBLE AS score,
               p.is_branch::BOOLEAN AS is_branch, p.evidence
        FROM link_subjects s JOIN {PAIRS} p USING (pair_key)
        WHERE s.record_id NOT IN (SELECT record_id FROM link_judged)
        UNION ALL
        SELECT record_id, operator_id, status, method, score::DOUBLE, is_branch::BOOLEAN, evidence
        FROM link_judged_links""")
