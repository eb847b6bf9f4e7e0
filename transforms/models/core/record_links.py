"""record_links -- every record (current and removed, so history links too) linked to the licensed operator it
names (method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, the latest per pair) win over the algorithm.

The registries repeat the same subject on many records, so the linker decides each distinct (name, USCC)
pair once and the result is joined back to the records in SQL: at registry scale this keeps the Python side
to the distinct pairs (memory and time). Records with a judgement are linked on their own, with it.

Incremental: each pair's decision is kept in `cache.record_pair_links` with a digest of the licensed
operators it was decided against. A build links only the pairs not decided before against the same
operators (a changed operator set empties the cache: any pair's candidates may have changed), and drops
the pairs no record names any more (so a purged name leaves the cache with its records).
`creditwatch transform --full` empties the cache first; the result is the same either way."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

from transforms.build import CACHE_SCHEMA

COLUMNS = ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]
EMPTY = pa.table({"record_id": pa.array([], pa.string()), "operator_id": pa.array([], pa.string()),
                  "status": pa.array([], pa.string()), "method": pa.array([], pa.string()),
                  "score": pa.array([], pa.float64()), "is_branch": pa.array([], pa.bool_()),
                  "evidence": pa.array([], pa.string())})
PAIRS = f"{CACHE_SCHEMA}.record_pair_links"  # pair_key → the decision
DIGEST = f"{CACHE_SCHEMA}.record_pair_links_digest"  # the operators those decisions were made against
CACHE_DDL = """
CREATE TABLE IF NOT EXISTS {PAIRS} (
    pair_key VARCHAR PRIMARY KEY, operator_id VARCHAR, status VARCHAR, method VARCHAR, score DOUBLE,
    is_branch BOOLEAN, evidence VARCHAR)"""


def operators_digest(con: duckdb.DuckDBPyConnection) -> str:
    """A digest of everything the linker reads about the licensed operators."""
    [(digest,)] = con.execute("""
        SELECT md5(coalesce(string_agg(operator_id || chr(31) || coalesce(name, '') || chr(31)
                   || coalesce(uscc, '') || chr(31) || coalesce(array_to_string(published_names, chr(30)), ''),
                   chr(29) ORDER BY operator_id), ''))
        FROM core.licensed_operators""").fetchall()
    return digest


def prepare_cache(con: duckdb.DuckDBPyConnection, digest: str) -> None:
    """The pair cache, valid for `digest`: emptied when the operators changed, pruned of unnamed pairs."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CACHE_SCHEMA}")
    con.execute(CACHE_DDL.format(PAIRS=PAIRS))
    con.execute(f"CREATE TABLE IF NOT EXISTS {DIGEST} (digest VARCHAR)")
    [(kept,)] = con.execute(f"SELECT count(*) FROM {DIGEST} WHERE digest = ?",
                            [digest]).fetchall()
    if not kept:
        con.execute(f"DELETE FROM {PAIRS}")
        con.execute(f"DELETE FROM {DIGEST}")
        con.execute(f"INSERT INTO {DIGEST} VALUES (?)", [digest])
    con.execute(f"DELETE FROM {PAIRS} WHERE pair_key NOT IN (SELECT pair_key FROM link_subjects)")


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

    operators = con.sql("""
        SELECT operator_id, name, uscc, list_filter(published_names, lambda n: n <> name) AS aliases
        FROM core.licensed_operators""").df()
    digest = operators_digest(con)
    prepare_cache(con, digest)
    pairs = con.sql(f"""
        SELECT pair_key AS record_id, any_value(name) AS name, any_value(uscc) AS uscc FROM link_subjects
        WHERE record_id NOT IN (SELECT record_id FROM link_judged)
          AND pair_key NOT IN (SELECT pair_key FROM {PAIRS})
        GROUP BY pair_key""").df()
    if len(pairs):
        new_links = link_records(operators, pairs)[COLUMNS]  # noqa: F841 — read by DuckDB by its name
        con.execute(f"""
            INSERT INTO {PAIRS}
            SELECT record_id, operator_id, status, method, score::DOUBLE, is_branch::BOOLEAN, evidence
            FROM new_links""")
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
