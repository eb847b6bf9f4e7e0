"""record_links -- each current non-licence record linked to the licensed operator it names
(method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, the latest per pair) win over the algorithm."""

from __future__ import annotations

import duckdb
import pandas as pd

COLUMNS = ["record_id", "operator_id", "status", "method", "score", "is_branch", "evidence"]


def model(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    records = con.sql("SELECT record_id, subject_name AS name, subject_uscc AS uscc FROM core.subject_records").df()
    if records.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS}).astype(
            {"score": "float64", "is_branch": "bool"})
    from transforms.link import link_records

    operators = con.sql("""
        SELECT operator_id, name, uscc, list_filter(published_names, lambda n: n <> name) AS aliases
        FROM core.licensed_operators""").df()
    judgements = con.sql("""
        SELECT record_id, operator_id, judgement FROM ops.link_judgements
        WHERE operator_id IN (SELECT operator_id FROM core.licensed_operators)
        QUALIFY row_number() OVER (PARTITION BY record_id, operator_id ORDER BY decided_at DESC) = 1""").df()
    return link_records(operators, records, judgements if not judgements.empty else None)[COLUMNS]
