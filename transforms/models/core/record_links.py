"""record_links -- every record (current and removed, so history links too) linked to the licensed operator it
names (method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, the latest per pair) win over the algorithm.

The registries repeat the same subject on many records, so the linker decides each distinct (name, USCC)
pair once and the result is joined back to the records in SQL: at registry scale this keeps the Python side
to the distinct pairs (memory and time). Records with a judgement are linked on their own, with it.

Incremental: each pair's decision is kept in `cache.record_pair_links` with the index lookup keys the
decision may read (transforms.link.index.query_keys), and the operators it was decided against in
`cache.record_pair_operators`. When operators are added, changed or dropped, only the pairs that read a key
a changed operator's old or new version holds are decided again: no other lookup can answer differently. A
build links only the pairs not decided before, and drops the pairs no record names any more (so a purged
name leaves the cache with its records). `creditwatch transform --full` empties the cache first; the result
is the same either way."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from transforms.build import CACHE_SCHEMA
from transforms.link.index import build_index, index_keys

COLUMNS = ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]
EMPTY = pa.table({"record_id": pa.array([], pa.string()), "operator_id": pa.array([], pa.string()),
                  "status": pa.array([], pa.string()), "method": pa.array([], pa.string()),
                  "score": pa.array([], pa.float64()), "is_branch": pa.array([], pa.bool_()),
                  "evidence": pa.array([], pa.string())})
PAIRS = f"{CACHE_SCHEMA}.record_pair_links"  # pair_key → the decision and the lookup keys it may read
OPERATORS = f"{CACHE_SCHEMA}.record_pair_operators"  # the operators those decisions were made against
STALE = [f"{CACHE_SCHEMA}.record_pair_links_digest"]  # an earlier cache layout, dropped on sight
CACHE_DDL = [
    f"""CREATE TABLE IF NOT EXISTS {PAIRS} (
        pair_key VARCHAR PRIMARY KEY, operator_id VARCHAR, status VARCHAR, method VARCHAR, score DOUBLE,
        is_branch BOOLEAN, evidence VARCHAR, lookup_keys VARCHAR[])""",
    f"""CREATE TABLE IF NOT EXISTS {OPERATORS} (
        operator_id VARCHAR, name VARCHAR, uscc VARCHAR, aliases VARCHAR[])""",
]


def _operators_frame(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(aliases=[list(a) if a is not None else [] for a in rows["aliases"]])


def changed_keys(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """The operators that differ from those the cache was decided against (added, changed, dropped), and
    every lookup key their old or new versions hold."""
    old = con.sql(f"SELECT * FROM {OPERATORS} EXCEPT SELECT * FROM link_operators").df()
    new = con.sql(f"SELECT * FROM link_operators EXCEPT SELECT * FROM {OPERATORS}").df()
    if not len(old) and not len(new):
        return [], []
    keys: set[str] = set()
    for versions in (old, new):
        if len(versions):  # each side alone is a valid operators table (a subset of one)
            keys |= index_keys(build_index(_operators_frame(versions)))
    return sorted(set(old["operator_id"]) | set(new["operator_id"])), sorted(keys)


def prepare_cache(con: duckdb.DuckDBPyConnection) -> None:
    """The pair cache, valid for the current operators: the pairs a changed operator may decide differently
    are dropped, as are the pairs no record names any more."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CACHE_SCHEMA}")
    for table in STALE:
        con.execute(f"DROP TABLE IF EXISTS {table}")
    has_keys = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_schema = ? "
                           "AND table_name = 'record_pair_links' AND column_name = 'lookup_keys'",
                           [CACHE_SCHEMA]).fetchall()[0][0]
    if not has_keys:  # a cache from before lookup keys were kept cannot say which pairs a change touches
        con.execute(f"DROP TABLE IF EXISTS {PAIRS}")
        con.execute(f"DROP TABLE IF EXISTS {OPERATORS}")
    for ddl in CACHE_DDL:
        con.execute(ddl)
    con.execute(f"DELETE FROM {PAIRS} WHERE pair_key NOT IN (SELECT pair_key FROM link_subjects)")
    if con.execute(f"SELECT count(*) FROM {PAIRS}").fetchall()[0][0]:
        operator_ids, keys = changed_keys(con)
        if operator_ids:
            con.execute("CREATE OR REPLACE TEMP TABLE link_changed_keys AS SELECT unnest(?::VARCHAR[]) AS k", [keys])
            con.execute(f"""
                DELETE FROM {PAIRS} WHERE operator_id IN (SELECT unnest(?::VARCHAR[]))
                   OR pair_key IN (SELECT pair_key FROM (SELECT pair_key, unnest(lookup_keys) AS k FROM {PAIRS})
                                   SEMI JOIN link_changed_keys USING (k))""", [operator_ids])
    con.execute(f"DELETE FROM {OPERATORS}")
    con.execute(f"INSERT INTO {OPERATORS} SELECT * FROM link_operators")


def model(con: duckdb.DuckDBPyConnection) -> pa.Table:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE link_subjects AS
        SELECT record_id, subject_name AS name, subject_uscc AS uscc,
               md5(subject_name || chr(31) || coalesce(subject_uscc, '')) AS pair_key
        FROM core.subject_records""")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE link_judged AS
        SELECT record_id, operator_id, judgement FROM ops.link_judgements
        WHERE operator_id IN (SELECT operator_id FROM core.licensed_operators)
          AND record_id IN (SELECT record_id FROM link_subjects)
        QUALIFY row_number() OVER (PARTITION BY record_id, operator_id ORDER BY decided_at DESC) = 1""")
    if not con.execute("SELECT count(*) FROM link_subjects").fetchall()[0][0]:
        return EMPTY
    from transforms.link import link_records
    from transforms.link.records import record_lookup_keys, validated_records

    # Ordered, so the index (and the order candidates are met in) is the same whenever the operators are.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE link_operators AS
        SELECT operator_id, name, uscc, list_filter(published_names, lambda n: n <> name) AS aliases
        FROM core.licensed_operators ORDER BY operator_id""")
    operators = con.sql("SELECT * FROM link_operators ORDER BY operator_id").df()
    prepare_cache(con)
    pairs = con.sql(f"""
        SELECT pair_key AS record_id, any_value(name) AS name, any_value(uscc) AS uscc FROM link_subjects
        WHERE record_id NOT IN (SELECT record_id FROM link_judged)
          AND pair_key NOT IN (SELECT pair_key FROM {PAIRS})
        GROUP BY pair_key""").df()
    if len(pairs):
        new_links = link_records(operators, pairs)[COLUMNS]  # noqa: F841 — read by DuckDB by its name
        new_keys = pa.table({"pair_key": pa.array(pairs["record_id"].tolist(), pa.string()),  # noqa: F841
                             "lookup_keys": pa.array(record_lookup_keys(validated_records(pairs)),
                                                     pa.list_(pa.string()))})
        con.execute(f"""
            INSERT INTO {PAIRS}
            SELECT l.record_id, l.operator_id, l.status, l.method, l.score::DOUBLE, l.is_branch::BOOLEAN,
                   l.evidence, k.lookup_keys
            FROM new_links l JOIN new_keys k ON k.pair_key = l.record_id""")
    judged = con.sql("SELECT * FROM link_judged").df()
    judged_records = con.sql("SELECT record_id, name, uscc FROM link_subjects "
                             "WHERE record_id IN (SELECT record_id FROM link_judged)").df()
    judged_links = (link_records(operators, judged_records, judged)[COLUMNS]  # noqa: F841
                    if len(judged_records) else pd.DataFrame(EMPTY.to_pandas()))
    # DuckDB reads the frame above by its local name.
    return con.sql(f"""
        SELECT s.record_id, p.operator_id, p.status, p.method, p.score::DOUBLE AS score,
               p.is_branch::BOOLEAN AS is_branch, p.evidence
        FROM link_subjects s JOIN {PAIRS} p USING (pair_key)
        WHERE s.record_id NOT IN (SELECT record_id FROM link_judged)
        UNION ALL
        SELECT record_id, operator_id, status, method, score::DOUBLE, is_branch::BOOLEAN, evidence
        FROM judged_links""").to_arrow_table()
