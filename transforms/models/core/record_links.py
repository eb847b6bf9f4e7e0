"""record_links -- each current non-licence record linked to the licensed operator it names
(method, score, evidence), by transforms.link. Reads core.subject_records and core.licensed_operators;
analyst judgements (ops.link_judgements, when present) win over the algorithm."""

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
    return link_records(operators, records)[COLUMNS]
