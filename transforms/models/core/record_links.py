"""record_links -- every record (current and removed, so history links too) linked to the licensed operator it
names (method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, the latest per pair) win over the algorithm.

The registries repeat the same subject on many records, so the linker decides each distinct (name, USCC)
pair once and the result is joined back to the records in SQL: at registry scale this keeps the Python side
to the distinct pairs (memory and time). Records with a judgement are linked on their own, with it."""

from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

COLUMNS = ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]
EMPTY = pa.table({"record_id": pa.array([], pa.string()), "operator_id": pa.array([], pa.string()),
                  "status": pa.array([], pa.string()), "method": pa.array([], pa.string()),
                  "score": pa.array([], pa.float64()), "is_branch": pa.array([], pa.bool_()),
                  "evidence": pa.array([], pa.string())})


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
    pairs = con.sql("""
        SELECT pair_key AS record_id, any_value(name) AS name, any_value(uscc) AS uscc FROM link_subjects
        WHERE record_id NOT IN (SELECT record_id FROM link_judged) GROUP BY pair_key""").df()
    pair_links = link_records(operators, pairs)[COLUMNS] if len(pairs) else EMPTY.to_pandas()  # noqa: F841
    judged = con.sql("SELECT * FROM link_judged").df()
    judged_records = con.sql("SELECT record_id, name, uscc FROM link_subjects "
                             "WHERE record_id IN (SELECT record_id FROM link_judged)").df()
    judged_links = (link_records(operators, judged_records, judged)[COLUMNS]  # noqa: F841
                    if len(judged_records) else pd.DataFrame(EMPTY.to_pandas()))
    # DuckDB reads the two frames above by their local names.
    return con.sql("""
        SELECT s.record_id, p.operator_id, p.status, p.method, p.score::DOUBLE AS score,
               p.is_branch::BOOLEAN AS is_branch, p.evidence
        FROM link_subjects s JOIN pair_links p ON p.record_id = s.pair_key
        WHERE s.record_id NOT IN (SELECT record_id FROM link_judged)
        UNION ALL
        SELECT record_id, operator_id, status, method, score::DOUBLE, is_branch::BOOLEAN, evidence
        FROM judged_links""").to_arrow_table()
