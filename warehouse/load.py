"""Load one crawl run folder into the warehouse, in ONE transaction.

- A run already loaded changes nothing (its run_id is in ops.runs).
- Each record is new (version 1), unchanged (last_seen moves on), changed (a new version), or back
  after a removal (removed_at cleared).
- Only a COMPLETE crawl of a source may mark that source's unseen records removed; an incomplete
  crawl never reads as "no records".
- Sources without a manifest (a crawl that crashed) are not loaded and fail the load loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.run_folder import Manifest, ManifestError, RunFolder
from warehouse.db import pause_point, transaction


@dataclass
class LoadResult:
    run_id: str
    loaded: bool  # False when the run was loaded before
    new: int = 0
    changed: int = 0
    removed: int = 0
    quarantined: int = 0
    sources: dict[str, bool] = field(default_factory=dict)  # source → complete


class LoadError(RuntimeError):
    pass


def _ts(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None) if text else None


def load_run(con: duckdb.DuckDBPyConnection, run_dir: Path) -> LoadResult:
    folder = RunFolder(Path(run_dir))
    if not folder.path.is_dir():
        raise LoadError(f"no run folder at {folder.path}")
    try:
        manifests = folder.manifests()
    except ManifestError as error:
        raise LoadError(f"run {folder.run_id}: {error}") from None
    orphans = sorted(
        p.name.removesuffix(".parquet")
        for p in folder.path.glob("*.parquet")
        if not p.name.endswith(".quarantine.parquet") and not folder.manifest(p.stem).exists()
    )
    if orphans:
        raise LoadError(
            f"run {folder.run_id}: {', '.join(orphans)} have records but no manifest "
            "(the crawl did not finish); rerun the crawl"
        )
    if not manifests:
        raise LoadError(f"run {folder.run_id} has no source manifests: nothing was crawled")
    result = LoadResult(folder.run_id, loaded=False)
    if con.execute("SELECT count(*) FROM ops.runs WHERE run_id = ?", [folder.run_id]).fetchone()[0]:
        return result

    crawled_at = max(_ts(m.finished_at) for m in manifests)
    with transaction(con):
        for manifest in manifests:
            _load_source(con, folder, manifest, crawled_at, result)
            pause_point("load.after_source")
        con.execute(
            "INSERT INTO ops.runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [folder.run_id, crawled_at, datetime.now(UTC).replace(tzinfo=None), sorted(result.sources),
             all(result.sources.values()), result.new, result.changed, result.removed, result.quarantined],
        )
    result.loaded = True
    return result


def _refuse_repeated_or_foreign(con: duckdb.DuckDBPyConnection, records: Path, source: str) -> None:
    """The load keeps raw.records' record_id unique (no primary key since migration 009: its index did not fit in
    memory at 10M): a file that repeats a record_id, or holds another source's record, is refused by name."""
    bad = con.execute(
        "SELECT record_id, count(*) AS n, bool_or(source IS DISTINCT FROM $2) AS is_foreign, "
        "       any_value(source) FILTER (WHERE source IS DISTINCT FROM $2) AS other "
        "FROM read_parquet($1) GROUP BY record_id HAVING n > 1 OR is_foreign LIMIT 1",
        [str(records), source],
    ).fetchone()
    if bad is None:
        return
    record_id, count, _, other = bad
    why = f"appears {count} times" if count > 1 else f"is a {other!r} record in the {source!r} file"
    raise LoadError(f"{records}: record {record_id} {why}; a run folder holds each record once, under its own "
                    "source: rerun the crawl (or the ingest) that wrote it")


def _load_records(con: duckdb.DuckDBPyConnection, records: str, source: str, run_id: str, crawled_at: datetime,
                  result: LoadResult) -> None:
    """One source's file into raw.records and raw.record_versions.

    Memory, not time, shapes this: a run's load and build share one transaction, and DuckDB keeps every temp
    table made in it (dropped or not) until the commit, so at 10M records temp tables holding each seen row
    (1.2 GB) left the build too little. Only the rows that need writing (new, changed, back: ~5 % a week) are
    kept in temp tables; what touches every seen row (last_seen_at, a moved url) joins the file directly.
    A record's id names its source, so only that source's records are joined."""
    own = "(SELECT record_id, content_hash, removed_at, version FROM raw.records WHERE source = $2)"
    args = [run_id, crawled_at]
    # Every seen record whose content is unchanged: seen now (before the changed ones are written again).
    con.execute(
        "UPDATE raw.records r SET last_seen_at = $3 FROM read_parquet($1) i "
        "WHERE r.record_id = i.record_id AND r.source = $2 AND r.content_hash = i.content_hash",
        [records, source, crawled_at],
    )
    con.execute(
        "UPDATE raw.records r SET url = i.url FROM read_parquet($1) i "
        "WHERE r.record_id = i.record_id AND r.source = $2 AND r.url IS DISTINCT FROM i.url",
        [records, source],
    )
    # The rows to write: new, changed, or back after a removal; with the JSON of the new and changed only.
    con.execute(
        "CREATE OR REPLACE TEMP TABLE incoming AS "
        "SELECT i.record_id, r.record_id IS NULL AS is_new, "
        "       (r.record_id IS NOT NULL AND r.content_hash <> i.content_hash) AS is_changed, "
        "       r.removed_at IS NOT NULL AS was_removed, coalesce(r.version, 0) AS old_version "
        f"FROM read_parquet($1) i LEFT JOIN {own} r USING (record_id) "
        "WHERE r.record_id IS NULL OR r.content_hash <> i.content_hash OR r.removed_at IS NOT NULL",
        [records, source],
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE incoming_content AS "
        "SELECT f.*, i.is_new, i.is_changed, i.old_version "
        "FROM read_parquet(?) f JOIN incoming i USING (record_id) WHERE i.is_new OR i.is_changed",
        [records],
    )
    con.execute(
        """
        INSERT INTO raw.records
        SELECT record_id, source, record_type, natural_key, url, content_hash, 1, raw_json, fields_json,
               $2, $2, $1, NULL, NULL
        FROM incoming_content WHERE is_new""",
        args,
    )
    con.execute(
        """
        INSERT INTO raw.record_versions
        SELECT record_id, old_version + 1, content_hash, $1, $2, NULL, NULL
        FROM incoming_content""",
        args,
    )
    # A changed record is deleted and inserted again (its first sighting kept): an UPDATE of the large
    # JSON columns made the commit rewrite those columns in every row group holding a changed record.
    con.execute("CREATE OR REPLACE TEMP TABLE changed_firsts AS SELECT record_id, first_seen_at, first_run_id "
                "FROM raw.records WHERE record_id IN (SELECT record_id FROM incoming WHERE is_changed)")
    # The content is stored once (migration 008): the version being replaced takes its content from
    # raw.records into raw.record_versions (deleted and inserted again, as above) before the new one lands.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE replaced_versions AS
        SELECT v.record_id, v.version, v.content_hash, v.run_id, v.seen_at, r.raw_json, r.fields_json
        FROM (SELECT record_id, version, raw_json, fields_json FROM raw.records  -- filtered first: 3x faster
              WHERE record_id IN (SELECT record_id FROM changed_firsts)) r
        JOIN raw.record_versions v USING (record_id, version)
        WHERE v.record_id IN (SELECT record_id FROM changed_firsts)"""
    )
    con.execute("DELETE FROM raw.record_versions v USING replaced_versions p "
                "WHERE v.record_id = p.record_id AND v.version = p.version")
    con.execute("INSERT INTO raw.record_versions SELECT * FROM replaced_versions")
    con.execute("DELETE FROM raw.records WHERE record_id IN (SELECT record_id FROM changed_firsts)")
    con.execute(
        """
        INSERT INTO raw.records
        SELECT f.record_id, f.source, f.record_type, f.natural_key, f.url, f.content_hash, f.old_version + 1,
               f.raw_json, f.fields_json, c.first_seen_at, $1, c.first_run_id, NULL, NULL
        FROM incoming_content f JOIN changed_firsts c USING (record_id)""",
        [crawled_at],
    )
    con.execute("UPDATE raw.records r SET removed_at = NULL, removed_run_id = NULL FROM incoming i "
                "WHERE r.record_id = i.record_id AND NOT i.is_new AND NOT i.is_changed AND i.was_removed")
    new, changed = con.execute(
        "SELECT count(*) FILTER (is_new), count(*) FILTER (is_changed) FROM incoming"
    ).fetchone()
    result.new += new
    result.changed += changed
    for temp in ("incoming", "incoming_content", "changed_firsts", "replaced_versions"):
        con.execute(f"DROP TABLE IF EXISTS temp.{temp}")


def _load_source(
    con: duckdb.DuckDBPyConnection, folder: RunFolder, manifest: Manifest, crawled_at: datetime, result: LoadResult
) -> None:
    source, run_id, complete = manifest.source, folder.run_id, manifest.complete
    result.sources[source] = complete
    con.execute(
        "INSERT INTO ops.source_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            source,
            complete,
            manifest.incomplete_reasons,
            manifest.pages_fetched,
            manifest.pages_failed,
            manifest.retries,
            manifest.items,
            manifest.quarantined,
            manifest.expected_rows,
            _ts(manifest.started_at),
            _ts(manifest.finished_at),
        ],
    )
    records = folder.records(source)
    if records.exists():
        _refuse_repeated_or_foreign(con, records, source)
        _load_records(con, str(records), source, run_id, crawled_at, result)
    # A file covers only what it holds (pipelines/ingest.py): it never implies a removal.
    if complete and manifest.infer_removals:
        # What the complete crawl no longer shows: the source's records absent from its file.
        unseen = "AND record_id NOT IN (SELECT record_id FROM read_parquet($4))" if records.exists() else ""
        removed = con.execute(
            f"""
            UPDATE raw.records SET removed_at = $3, removed_run_id = $2
            WHERE source = $1 AND removed_at IS NULL {unseen}""",
            [source, run_id, crawled_at, *([str(records)] if records.exists() else [])],
        ).fetchone()
        result.removed += removed[0] if removed else 0
    quarantine = folder.quarantine(source)
    if quarantine.exists():
        count = con.execute(
            """
            INSERT INTO raw.quarantine
            SELECT ?, source, record_id, record_type, natural_key, url, fetched_at, field, raw_value, reason, raw_json
            FROM read_parquet(?)""",
            [run_id, str(quarantine)],
        ).fetchone()
        result.quarantined += count[0] if count else 0
