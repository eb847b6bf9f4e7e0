"""Record-grained models, refreshed from the records that changed (issue 18: a weekly run costs what changed).

A model whose SQL opens with the line `-- refresh: by record_id` promises that each of its rows is computed from
one raw record alone (through staging views, other record-grained models and seeds) and carries that record's
record_id, and that a column it shares with raw.records's MOVES_EVERY_RUN holds the record's own value. When a
build finds such a model built before from the same SQL, seeds and variables, it computes again only the records
whose raw row changed since the last build (new, changed, removed, back, moved, purged): their rows are deleted and
inserted; the columns a load moves for every record seen (last_seen_at) are updated in place. Otherwise the model
is built whole. `creditwatch transform --full` drops the cache schema, so every model is built whole.

`cache.record_inputs` is the fingerprint of every raw row as of the last build; `cache.record_grained_state` the
models built from it, each with the digest of what else it reads.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import duckdb

CACHE_SCHEMA = "cache"  # what incremental models keep between builds; never read by anything else
MARK = "-- refresh: by record_id"
# raw.records columns a load moves for every record it sees, without a new version (warehouse/load.py).
MOVES_EVERY_RUN = ("last_seen_at",)
# The record's content: content_hash and version change whenever these do, so the fingerprint leaves them out.
CONTENT = ("raw_json", "fields_json")
INPUTS = f"{CACHE_SCHEMA}.record_inputs"
STATE = f"{CACHE_SCHEMA}.record_grained_state"
# What a record-grained model may read besides models: the raw records and the seeds.
TABLE_NAME = re.compile(r"\b(raw|ops|cache|seeds|staging|core|marts)\.(\w+)")


class RecordGrainError(ValueError):
    pass


def is_record_grained(sql: str) -> bool:
    return sql.lstrip().startswith(MARK)


@dataclass(frozen=True)
class Delta:
    """The raw records whose fingerprint differs from the last build's (in `temp.record_delta`)."""

    records: int


def check_reads(name: str, chain_sql: dict[str, str], models: set[str], grained: set[str]) -> None:
    """A record-grained model reads only raw.records, seeds, staging views and record-grained models; anything
    else (ops.compliance_facts, a table aggregating many records) could change while its records do not."""
    for part, sql in chain_sql.items():
        for schema, table in TABLE_NAME.findall(re.sub(r"--[^\n]*", "", sql)):
            full = f"{schema}.{table}"
            allowed = (full == "raw.records" or schema == "seeds" or full in grained
                       or (full in models and schema == "staging"))
            if not allowed:
                raise RecordGrainError(f"{name} is marked '{MARK}' but {part} reads {full}: a record-grained model "
                                       "reads only raw.records, seeds, staging views and record-grained models")


def digest(con: duckdb.DuckDBPyConnection, chain_sql: dict[str, str]) -> str:
    """What a record-grained model's rows depend on besides its records: the SQL of it and every model it reads,
    the seeds they name, the SQL variables they read."""
    text = "\n".join(f"{name}\n{sql}" for name, sql in sorted(chain_sql.items()))
    parts = [text]
    for seed in sorted({t for s, t in TABLE_NAME.findall(text) if s == "seeds"}):
        parts.append(str(con.execute(f"SELECT count(*), sum(hash(t::VARCHAR)) FROM seeds.{seed} t").fetchall()))
    for variable in sorted(set(re.findall(r"getvariable\('(\w+)'\)", text))):
        parts.append(f"{variable}={con.execute('SELECT getvariable(?)', [variable]).fetchall()[0][0]!r}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _fingerprints(con: duckdb.DuckDBPyConnection) -> str:
    columns = [c for (c,) in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = 'records' "
        "ORDER BY ordinal_position").fetchall() if c not in (*MOVES_EVERY_RUN, *CONTENT, "record_id")]
    return f"SELECT record_id, hash({', '.join(columns)}) AS fingerprint FROM raw.records"


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
                            "AND table_name = ?", [schema, table]).fetchall()[0][0])


def prepare(con: duckdb.DuckDBPyConnection) -> Delta | None:
    """Fingerprint the raw records now and find those that differ from the last build's; None on a first build
    (no fingerprints kept: every record-grained model is built whole)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {CACHE_SCHEMA}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (model VARCHAR PRIMARY KEY, digest VARCHAR NOT NULL)")
    if not _exists(con, CACHE_SCHEMA, "record_inputs"):
        return None
    # Not kept in a temp table: a run's load and build share one transaction, and DuckDB holds every temp table
    # made in it until the commit (10M fingerprints: ~0.5 GB the models then lacked). finish() reads them again.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE record_delta AS
        SELECT f.record_id FROM ({_fingerprints(con)}) f
        ANTI JOIN {INPUTS} i ON i.record_id = f.record_id AND i.fingerprint = f.fingerprint
        UNION
        SELECT i.record_id FROM {INPUTS} i ANTI JOIN raw.records r ON r.record_id = i.record_id""")
    return Delta(con.execute("SELECT count(*) FROM record_delta").fetchall()[0][0])


def refresh(con: duckdb.DuckDBPyConnection, name: str, sql: str, model_digest: str, delta: Delta | None) -> bool:
    """Refresh `name` from the changed records; False when it must be built whole (first build, changed digest,
    table missing). The caller builds it whole and calls `built_whole`."""
    schema, table = name.split(".")
    kept = con.execute(f"SELECT digest FROM {STATE} WHERE model = ?", [name]).fetchall()
    if delta is None or not kept or kept[0][0] != model_digest or not _exists(con, schema, table):
        return False
    changed = "record_id IN (SELECT record_id FROM record_delta)"
    con.execute(f"DELETE FROM {name} WHERE {changed}")
    con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM (\n{sql}\n) WHERE {changed}")
    columns = {c for (c,) in con.execute("SELECT column_name FROM information_schema.columns "
                                         "WHERE table_schema = ? AND table_name = ?", [schema, table]).fetchall()}
    for column in (c for c in MOVES_EVERY_RUN if c in columns):
        con.execute(f"UPDATE {name} m SET {column} = r.{column} FROM raw.records r "
                    f"WHERE m.record_id = r.record_id AND m.{column} IS DISTINCT FROM r.{column}")
    return True


def built_whole(con: duckdb.DuckDBPyConnection, name: str, model_digest: str) -> None:
    con.execute(f"INSERT OR REPLACE INTO {STATE} VALUES (?, ?)", [name, model_digest])


def finish(con: duckdb.DuckDBPyConnection, delta: Delta | None, not_built: list[str]) -> None:
    """Keep the fingerprints the models now reflect; a record-grained model this build left out (a build of some
    targets) is no longer in step with them, so the next build builds it whole."""
    if not_built:
        con.execute(f"DELETE FROM {STATE} WHERE model IN (SELECT unnest(?))", [not_built])
    if delta is None:
        con.execute(f"CREATE OR REPLACE TABLE {INPUTS} AS {_fingerprints(con)}")
        return
    changed = "record_id IN (SELECT record_id FROM record_delta)"
    con.execute(f"DELETE FROM {INPUTS} WHERE {changed}")
    con.execute(f"INSERT INTO {INPUTS} SELECT * FROM ({_fingerprints(con)}) WHERE {changed}")
