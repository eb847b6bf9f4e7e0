"""Keeping the warehouse healthy: the doctor (体检), purging personal data on retention (个人信息删除,
PIPL 个人信息保护法 §19/§47), the audit trail (审计记录), backup (备份) and restore (恢复).

Pure functions over a warehouse path; the CLI calls them and prints what they return.

Backups are "CHECKPOINT, then copy the file while holding the write lock":
- the copy is a byte-for-byte DuckDB file, the same thing the readers' snapshot is, so restoring is a
  file replacement and needs no import step, and every table, view, key and constraint comes along;
- EXPORT DATABASE (CSV/Parquet + schema.sql) would survive a DuckDB storage-format change, but it is
  slower, needs IMPORT DATABASE on the way back, and a restore could half-fail mid-import;
- DuckDB locks its file with POSIX fcntl locks, which a process drops when it closes ANY descriptor of
  that file. Copying with shutil in this process would silently release the lock mid-copy, so the copy
  runs in a child process while this process keeps the connection (and the lock) open: no run can write
  the file until the copy is done.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import duckdb

from pipelines.uscc import PERSONAL_USCC_PREFIX
from spiders.source import record_types
from warehouse.db import WarehouseError, connect, migrations, runs_dir, schema_version, transaction, warehouse_path
from warehouse.snapshot import copy_in_child, lock_warehouse, publish_snapshot, snapshot_info, snapshot_path

Level = Literal["ok", "warn", "error"]
AUDIT_ACTIONS = ("purge", "export", "backup", "restore", "repair")  # repair: migration 007
# Quarantine "growth": the last run of a source quarantined more than GROWTH_FACTOR × the mean of its
# previous GROWTH_WINDOW runs, and at least GROWTH_MIN_ROWS more (a few odd rows are normal noise).
GROWTH_FACTOR, GROWTH_WINDOW, GROWTH_MIN_ROWS = 2.0, 4, 5

# A record names an individual (自然人) when it carries a personal ID number, when its subject is an
# individual business (个体工商户: pipelines.uscc.PERSONAL_USCC_PREFIX, GB 32100 positions 1–2), or
# when its record type lists a subject without an organisation code as a person (source.yml flag
# `uncoded_subject_is_person`, e.g. a 失信被执行人 entry: the court lists a person).
_USCC_KEYS = ("subject_uscc", "subject_uscc_raw", "uscc", "uscc_raw")
_UNCODED_PERSON_TYPES = sorted(t.name for t in record_types().values() if t.uncoded_subject_is_person)
PERSONAL_RECORD_SQL = (
    "(coalesce(trim(fields_json ->> 'subject_id_number'), '') <> '' OR "
    + " OR ".join(f"starts_with(upper(trim(coalesce(fields_json ->> '{k}', ''))), '{PERSONAL_USCC_PREFIX}')"
                  for k in _USCC_KEYS)
    + " OR (record_type IN (" + ", ".join(f"'{t}'" for t in _UNCODED_PERSON_TYPES or ["-"]) + ")"
    + " AND coalesce(trim(fields_json ->> 'subject_uscc'), '') = ''))"
)


@dataclass(frozen=True)
class Finding:
    """One doctor check: its level (ok|warn|error), what was checked, what was found, what to do."""

    level: Level
    check: str
    message: str
    fix: str = ""


@dataclass
class PurgeReport:
    """What a purge deleted (or, with dry_run, would delete)."""

    as_of: date
    retention_days: int
    cutoff: date  # display ended / run finished before this day → purged
    dry_run: bool
    record_ids: list[str] = field(default_factory=list)
    versions: int = 0
    quarantine_rows: int = 0
    run_folders: list[str] = field(default_factory=list)  # run ids
    run_folder_bytes: int = 0


# ------------------------------------------------------------------------------------------- audit


def audit(con: duckdb.DuckDBPyConnection, action: str, details: dict[str, Any], actor: str | None = None) -> None:
    """Append one row to ops.audit (审计记录). Raises ValueError for an unknown action."""
    if action not in AUDIT_ACTIONS:
        raise ValueError(f"unknown audit action {action!r}; expected one of {', '.join(AUDIT_ACTIONS)}")
    who = actor or os.environ.get("CREDITWATCH_ACTOR") or _os_user()
    con.execute(
        "INSERT INTO ops.audit VALUES (?, ?, ?, ?)",
        [_now(), action, who, json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)],
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid {os.getuid()}"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------ doctor


def doctor(warehouse: str | os.PathLike[str] | None = None,
           trial_build: Callable[[duckdb.DuckDBPyConnection], dict[str, int]] | None = None) -> list[Finding]:
    """Check the warehouse without changing it; every finding that is not ok says what to do.
    With `trial_build` (flows passes the models' build: imports go forward), the models are rebuilt on a
    throwaway copy of the snapshot and failing data tests are reported: what the next run would hit."""
    path = warehouse_path(warehouse)
    if not path.exists():
        return [Finding("error", "warehouse", f"no warehouse at {path}", "run `creditwatch run` first")]
    findings = [_snapshot_finding(warehouse)]  # before our own connection: DuckDB caches one per file
    try:
        con = connect(path, read_only=True)
    except WarehouseError as error:
        return [*findings, Finding("error", "warehouse", str(error), "see the message; `creditwatch restore <backup>` "
                                   "replaces a broken file with a backup")]
    try:
        findings += [_schema_finding(con), *_duplicate_findings(con), _orphan_link_finding(con)]
        findings += _run_folder_findings(con, runs_dir(warehouse))
        findings += [_incomplete_source_finding(con), _quarantine_growth_finding(con)]
    finally:
        con.close()
    if trial_build is not None:
        findings.append(_data_test_finding(warehouse, trial_build))
    return findings


def _data_test_finding(warehouse: str | os.PathLike[str] | None,
                       trial_build: Callable[[duckdb.DuckDBPyConnection], dict[str, int]]) -> Finding:
    """Rebuild the models on a copy of what readers see (the snapshot, else the file) and run the data tests."""
    source = snapshot_path(warehouse) if snapshot_path(warehouse).exists() else warehouse_path(warehouse)
    with tempfile.TemporaryDirectory(prefix="creditwatch-doctor-") as scratch:
        copy = Path(scratch) / "trial.duckdb"
        shutil.copyfile(source, copy)
        os.chmod(copy, 0o600)
        try:
            con = connect(copy)
            try:
                failures = trial_build(con)
            finally:
                con.close()
        except Exception as error:  # noqa: BLE001 — any failure of the trial is the finding
            return Finding("error", "data tests", f"the models do not build: {str(error).splitlines()[0]}",
                           "read the message; `creditwatch transform` shows the same error")
    if failures:
        listed = "; ".join(f"{name} ({n} rows)" for name, n in failures.items())
        return Finding("error", "data tests", f"the next build fails its data tests: {listed}; every run will "
                       "fail until this is fixed", "see the rows with the query in transforms/data_tests/<name>.sql "
                       "(`creditwatch sql --live \"…\"`); restore the backup from before the run that brought them "
                       "(`creditwatch restore <backup>`), or fix the data and run `creditwatch transform`")
    return Finding("ok", "data tests", "a trial rebuild passes every data test")


def _schema_finding(con: duckdb.DuckDBPyConnection) -> Finding:
    have, want = schema_version(con), max(v for v, _ in migrations())
    if have == want:
        return Finding("ok", "schema", f"schema version {have} is current")
    if have < want:
        return Finding("error", "schema", f"schema version {have}, code expects {want}",
                       "open the warehouse read-write once (any `creditwatch run`/`load`) to apply migrations")
    return Finding("error", "schema", f"schema version {have} is newer than this code ({want})",
                   "upgrade creditwatch, or restore a backup made by this version")


KEYS = {"raw.records": ("record_id",), "raw.record_versions": ("record_id", "version"),
        "ops.source_runs": ("run_id", "source")}


def _duplicate_findings(con: duckdb.DuckDBPyConnection) -> list[Finding]:
    out = []
    for table, key in KEYS.items():
        cols = ", ".join(key)
        dupes = con.execute(f"SELECT count(*) FROM (SELECT {cols} FROM {table} GROUP BY ALL HAVING count(*) > 1)"
                            ).fetchone()[0]
        if dupes:
            example = con.execute(f"SELECT {cols} FROM {table} GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchone()
            out.append(Finding("error", f"duplicates {table}", f"{dupes} keys ({cols}) occur more than once in "
                               f"{table}, e.g. {example}",
                               "the table lost its primary key (a bad import?): restore a backup, or dedupe "
                               "and recreate the table from warehouse/migrations"))
        else:
            out.append(Finding("ok", f"duplicates {table}", f"no duplicate ({cols}) in {table}"))
    return out


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    schema, table = name.split(".")
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND "
                            "table_name = ?", [schema, table]).fetchone()[0])


def _orphan_link_finding(con: duckdb.DuckDBPyConnection) -> Finding:
    if not _table_exists(con, "core.record_links"):
        return Finding("warn", "orphan links", "core.record_links is not built yet", "run `creditwatch transform`")
    operators = "core.licensed_operators" if _table_exists(con, "core.licensed_operators") else None
    missing_operator = (f"OR (l.operator_id IS NOT NULL AND l.operator_id NOT IN "
                        f"(SELECT operator_id FROM {operators} WHERE operator_id IS NOT NULL))") if operators else ""
    orphans = con.execute(f"""SELECT count(*) FROM core.record_links l
                              WHERE l.record_id NOT IN (SELECT record_id FROM raw.records) {missing_operator}""",
                          ).fetchone()[0]
    if orphans:
        return Finding("error", "orphan links", f"{orphans} rows of core.record_links name a record or operator "
                       "that no longer exists", "rebuild the models: `creditwatch transform`")
    return Finding("ok", "orphan links", "every link names an existing record and operator")


def _snapshot_finding(warehouse: str | os.PathLike[str] | None) -> Finding:
    try:
        info = snapshot_info(warehouse)
    except (duckdb.Error, OSError) as error:
        return Finding("error", "snapshot", f"cannot read the snapshot or warehouse: {str(error).splitlines()[0]}",
                       "republish it: `creditwatch transform` (or restore a backup)")
    if info["snapshot"] is None and not snapshot_path(warehouse).exists():
        return Finding("warn", "snapshot", "no readers' snapshot has been published",
                       "run `creditwatch transform` to publish one")
    if info["snapshot"] != info["warehouse"]:
        return Finding("warn", "snapshot", f"the snapshot shows run {info['snapshot']} but the warehouse has "
                       f"{info['warehouse']} (a run died after its commit?)",
                       "republish it: `creditwatch transform`")
    return Finding("ok", "snapshot", f"the snapshot is current (run {info['warehouse']})")


def _purged_run_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Run folders a purge deleted on purpose (retention), from the audit trail."""
    if not _table_exists(con, "ops.audit"):
        return set()
    rows = con.execute("SELECT details ->> 'run_folders' FROM ops.audit WHERE action = 'purge'").fetchall()
    return {run for (text,) in rows if text for run in json.loads(text)}


def _run_folder_findings(con: duckdb.DuckDBPyConnection, runs: Path) -> list[Finding]:
    folders = {p.name for p in runs.iterdir() if p.is_dir()} if runs.is_dir() else set()
    loaded = {r for (r,) in con.execute("SELECT run_id FROM ops.runs").fetchall()}
    unloaded = sorted(folders - loaded)
    gone = sorted(loaded - folders - _purged_run_ids(con))
    out = []
    if unloaded:
        out.append(Finding("warn", "unloaded runs", f"{len(unloaded)} run folders under {runs} were crawled but "
                           f"never loaded: {', '.join(unloaded[:5])}",
                           "load each with `creditwatch load <folder>` (it runs the data tests, as a run does), or "
                           "delete a folder you do not want"))
    else:
        out.append(Finding("ok", "unloaded runs", "every run folder is loaded"))
    if gone:
        out.append(Finding("warn", "missing run folders", f"{len(gone)} loaded runs have no folder (evidence lost) "
                           f"and were not purged: {', '.join(gone[:5])}",
                           "restore the folders from backup storage if you still need their evidence"))
    else:
        out.append(Finding("ok", "missing run folders", "every loaded run still has its folder (or was purged)"))
    return out


def _incomplete_source_finding(con: duckdb.DuckDBPyConnection) -> Finding:
    rows = con.execute("""SELECT source, run_id, incomplete_reasons FROM ops.source_runs
                          QUALIFY row_number() OVER (PARTITION BY source ORDER BY run_id DESC) = 1
                              AND NOT complete ORDER BY source""").fetchall()
    if not rows:
        return Finding("ok", "incomplete crawls", "the last crawl of every source was complete")
    listed = "; ".join(f"{s} (run {r}: {', '.join(why) or 'no reason given'})" for s, r, why in rows)
    return Finding("warn", "incomplete crawls", f"last crawl incomplete for {listed}; removals are not detected "
                   "for these sources until a complete crawl", "recrawl them: `creditwatch crawl <name>`")


def _quarantine_growth_finding(con: duckdb.DuckDBPyConnection) -> Finding:
    rows = con.execute("""
        WITH per_run AS (
            SELECT s.source, s.run_id, count(q.reason) AS n
            FROM ops.source_runs s LEFT JOIN raw.quarantine q USING (run_id, source)
            GROUP BY ALL),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY source ORDER BY run_id DESC) AS k FROM per_run)
        SELECT source, any_value(n) FILTER (k = 1) AS last, avg(n) FILTER (k BETWEEN 2 AND ?) AS before
        FROM ranked GROUP BY source ORDER BY source""", [GROWTH_WINDOW + 1]).fetchall()
    grown = [(s, last, before) for s, last, before in rows
             if before is not None and last > GROWTH_FACTOR * before and last - before >= GROWTH_MIN_ROWS]
    if not grown:
        return Finding("ok", "quarantine growth", "no source's quarantine grew unusually in its last run")
    listed = "; ".join(f"{s}: {last} rows (mean {before:.1f} before)" for s, last, before in grown)
    return Finding("warn", "quarantine growth", f"quarantine grew: {listed}",
                   "read the reasons (SELECT reason, count(*) FROM raw.quarantine WHERE run_id = …): the site "
                   "may have changed its layout; fix the spider or the validation rule")


# ------------------------------------------------------------------------------------------- purge


def run_finished(folder: Path) -> date:
    """When a run folder's crawl finished: its manifests, else the run id's timestamp, else the folder's mtime."""
    stamps = []
    for manifest in folder.glob("*.manifest.json"):
        try:
            stamps.append(datetime.fromisoformat(json.loads(manifest.read_text("utf-8"))["finished_at"]))
        except (ValueError, KeyError, TypeError):
            continue  # a damaged manifest: fall back on the other clocks
    if stamps:
        return max(s.astimezone(UTC) if s.tzinfo else s for s in stamps).date()
    try:
        return datetime.strptime(folder.name[:16], "%Y%m%dT%H%M%SZ").date()
    except ValueError:
        return datetime.fromtimestamp(folder.stat().st_mtime, UTC).date()


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def purge(warehouse: str | os.PathLike[str] | None = None, *, as_of: date, retention_days: int, dry_run: bool,
          rebuild: Callable[[duckdb.DuckDBPyConnection, date], object] | None = None) -> PurgeReport:
    """Delete personal data kept longer than `retention_days` (PIPL 个人信息保护法: keep no longer than needed):

    - records naming an individual whose display ended before as_of − retention_days — the registry
      stopped showing it (removed_at), or its display period ran out by rule (core.removal_status
      display_until, status `expired`) — from raw.records, raw.record_versions, raw.quarantine, and the
      ops rows that name them (compliance facts, link judgements, alert outbox);
    - run folders (records and the raw evidence archive) whose crawl finished before that day; in the run
      folders kept, those records' parquet rows and every evidence page that shows them.

    dry_run opens the warehouse read-only and changes nothing; the report lists exactly what would go.
    A real purge deletes in one transaction, rebuilds the models with `rebuild` (core tables copy subject
    names; flows.stages.purge passes the build), writes an ops.audit row, then REWRITES the warehouse file
    (every table copied into a fresh file, swapped in with os.replace) so deleted rows are gone from the
    disk too — DuckDB keeps freed blocks — then cleans the run folders and republishes the snapshot.
    Raises ValueError for a negative retention, WarehouseError when the warehouse is missing or busy."""
    if retention_days < 0:
        raise ValueError(f"retention_days must be 0 or more, got {retention_days}")
    cutoff = as_of - timedelta(days=retention_days)
    report = PurgeReport(as_of, retention_days, cutoff, dry_run)
    runs = runs_dir(warehouse)
    folders = sorted(p for p in runs.glob("*/") if p.is_dir() and run_finished(p) < cutoff) if runs.is_dir() else []
    report.run_folders = [p.name for p in folders]
    report.run_folder_bytes = sum(_folder_bytes(p) for p in folders)
    con = connect(warehouse, read_only=dry_run)
    try:
        with transaction(con):
            _select_personal_records(con, cutoff)
            report.record_ids = [r for (r,) in con.execute("SELECT record_id FROM purge_ids ORDER BY 1").fetchall()]
            report.versions = _count_in(con, "raw.record_versions")
            report.quarantine_rows = _count_in(con, "raw.quarantine")
            traces = _traces(con)
            if not dry_run:
                _delete_purged_rows(con)
                if _table_exists(con, "ops.alert_outbox"):
                    con.execute("DELETE FROM ops.alert_outbox o WHERE EXISTS (SELECT 1 FROM purge_ids p "
                                "WHERE contains(o.payload::VARCHAR, p.record_id))")
                if rebuild is not None:  # the models (flows passes transforms' build: imports go forward)
                    rebuild(con, as_of)
                details = asdict(report)
                details["records"] = len(details.pop("record_ids"))  # counts; the ids are in the report
                audit(con, "purge", details)
        if not dry_run:
            rewrite_file(con, warehouse_path(warehouse))
    finally:
        con.close()
    if not dry_run:
        for folder in folders:
            shutil.rmtree(folder)
        if report.record_ids and runs.is_dir():
            for folder in sorted(p for p in runs.glob("*/") if p.is_dir()):
                purge_run_folder(folder, set(report.record_ids), traces)
        publish_snapshot(warehouse)
    return report


def _delete_purged_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Delete the purge_ids' rows from every raw and ops table keyed by record_id (found, not listed: a table
    a later migration adds is covered too), a repair case's events with its case, raw.records last."""
    if _table_exists(con, "ops.repair_case_events") and _table_exists(con, "ops.repair_cases"):
        con.execute("DELETE FROM ops.repair_case_events WHERE case_id IN (SELECT case_id FROM ops.repair_cases "
                    "WHERE record_id IN (SELECT record_id FROM purge_ids))")
    tables = [t for (t,) in con.execute("""
        SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_catalog, table_schema, table_name)
        WHERE c.column_name = 'record_id' AND c.table_schema IN ('raw', 'ops') AND t.table_type = 'BASE TABLE'
          AND c.table_catalog = current_database()
        ORDER BY c.table_schema || '.' || c.table_name = 'raw.records', 1""").fetchall()]
    for table in tables:
        con.execute(f"DELETE FROM {table} WHERE record_id IN (SELECT record_id FROM purge_ids)")


def _select_personal_records(con: duckdb.DuckDBPyConnection, cutoff: date) -> None:
    # Display ended when the registry dropped the record, or when its display period ran out by rule
    # (公示期满: core.removal_status, built by the last run; absent before the first build).
    expired = ("OR record_id IN (SELECT record_id FROM core.removal_status WHERE status = 'expired' "
               "AND display_until < ?::DATE)") if _table_exists(con, "core.removal_status") else ""
    params = [cutoff, cutoff] if expired else [cutoff]
    con.execute(f"""CREATE OR REPLACE TEMP TABLE purge_ids AS
                    SELECT record_id FROM raw.records
                    WHERE ((removed_at IS NOT NULL AND removed_at < ?::DATE) {expired}) AND {PERSONAL_RECORD_SQL}""",
                params)


def _traces(con: duckdb.DuckDBPyConnection) -> list[str]:
    """What shows a purged person in an evidence page: their names (a Chinese name can be 2 characters) and
    the records' registry keys (6+ characters: a short key would match unrelated pages)."""
    rows = con.execute("""
        SELECT fields_json ->> 'subject_name', fields_json ->> 'legal_rep', natural_key
        FROM raw.records WHERE record_id IN (SELECT record_id FROM purge_ids)""").fetchall()
    names = {v.strip() for name, rep, _ in rows for v in (name, rep) if v and len(v.strip()) >= 2}
    keys = {k.strip() for _, _, k in rows if k and len(k.strip()) >= 6}
    return sorted(names | keys)


def rewrite_file(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Copy every schema, table, view and sequence of the open warehouse `con` into a fresh file and swap it
    in (os.replace) while `con` keeps the write lock: the new file holds no freed block of deleted rows.
    The copy is checked to open before the swap; on any error the old file stays."""
    fresh = path.with_name(path.name + ".rewrite-tmp")
    fresh.unlink(missing_ok=True)
    quoted = str(fresh).replace("'", "''")
    con.execute("CHECKPOINT")
    try:
        con.execute(f"ATTACH '{quoted}' AS rewritten")
        try:
            con.execute(f'COPY FROM DATABASE "{con.execute("SELECT current_database()").fetchone()[0]}" '
                        "TO rewritten")
        finally:
            con.execute("DETACH rewritten")
        _validate(fresh)
        os.chmod(fresh, 0o600)
        os.replace(fresh, path)
    finally:
        fresh.unlink(missing_ok=True)
        fresh.with_name(fresh.name + ".wal").unlink(missing_ok=True)


def purge_run_folder(folder: Path, record_ids: set[str], traces: list[str]) -> None:
    """Remove purged records from a kept run folder: their rows in every parquet file (rewritten whole,
    atomically), and every evidence page showing one of `traces` (the page and its index lines)."""
    import gzip

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for parquet in sorted(folder.glob("*.parquet")):
        table = pq.read_table(parquet)
        if "record_id" not in table.column_names:
            continue
        keep = pc.invert(pc.is_in(table["record_id"], value_set=pa.array(sorted(record_ids), type=pa.string())))
        if pc.all(keep).as_py() is not False:
            continue  # nothing of theirs here
        tmp = parquet.with_name(parquet.name + ".purge-tmp")
        pq.write_table(table.filter(keep), tmp)
        os.replace(tmp, parquet)
    evidence = folder / "evidence"
    if not evidence.is_dir() or not traces:
        return
    needles = [t.encode("utf-8") for t in traces]
    gone: set[str] = set()
    for page in sorted(evidence.glob("*/*.gz")):
        try:
            body = gzip.decompress(page.read_bytes())
        except (OSError, EOFError):
            body = page.read_bytes()
        if any(n in body for n in needles):
            page.unlink()
            gone.add(page.name.removesuffix(".gz"))
    for index in sorted(evidence.glob("*.index.jsonl")):
        lines = index.read_text("utf-8").splitlines()
        kept = [line for line in lines if not (gone and any(g in line for g in gone))
                and not any(t in line for t in traces)]
        if len(kept) != len(lines):
            tmp = index.with_name(index.name + ".purge-tmp")
            tmp.write_text("".join(line + "\n" for line in kept), "utf-8")
            os.replace(tmp, index)


def _count_in(con: duckdb.DuckDBPyConnection, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table} WHERE record_id IN (SELECT record_id FROM purge_ids)"
                       ).fetchone()[0]


# ---------------------------------------------------------------------------------- backup, restore


def backup(warehouse: str | os.PathLike[str] | None, out: Path) -> Path:
    """Write a consistent copy of the warehouse to `out` (a file, or a directory to put
    `<name>-<UTC time>.duckdb` in) and return its path. Never overwrites; audited as 'backup'.
    Raises WarehouseError when the warehouse is missing, busy, or the copy does not open."""
    source = warehouse_path(warehouse)
    if not source.exists():
        raise WarehouseError(f"no warehouse at {source}: nothing to back up")
    out = Path(out)
    target = out / f"{source.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}{source.suffix}" if out.is_dir() else out
    if target.exists():
        raise WarehouseError(f"{target} exists: choose a new name, backups are never overwritten")
    target.parent.mkdir(parents=True, exist_ok=True)
    connect(source).close()  # migrations first, so the backup has the audit table
    tmp = target.with_name(target.name + ".tmp")
    con = lock_warehouse(source)
    try:
        copy_in_child(source, tmp)
        os.chmod(tmp, 0o600)  # a backup holds personal data: owner-only, whatever the umask
        runs = _validate(tmp)
        os.replace(tmp, target)
        with transaction(con):
            audit(con, "backup", {"to": str(target.resolve()), "bytes": target.stat().st_size, "runs": runs})
    finally:
        con.close()
        tmp.unlink(missing_ok=True)
    return target


def _validate(path: Path, shown_as: Path | None = None) -> int:
    """The number of runs in a backup, after checking it is a DuckDB warehouse this code can use."""
    shown = shown_as or path
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        raise WarehouseError(f"{shown} is not a DuckDB warehouse ({str(error).splitlines()[0]}); nothing was "
                             "changed") from error
    try:
        if not _table_exists(con, "ops.runs"):
            raise WarehouseError(f"{shown} is a DuckDB file but not a creditwatch warehouse (no ops.runs); "
                                 "nothing was changed")
        newest = max(v for v, _ in migrations())
        if schema_version(con) > newest:
            raise WarehouseError(f"{shown} has schema version {schema_version(con)}, newer than this code "
                                 f"({newest}); upgrade creditwatch first. Nothing was changed")
        return con.execute("SELECT count(*) FROM ops.runs").fetchone()[0]
    finally:
        con.close()


def restore(backup: Path, warehouse: str | os.PathLike[str] | None = None) -> Path | None:
    """Replace the warehouse with `backup` (恢复), verifying before anything is touched:

    1. copy the backup beside the warehouse and verify the copy: it opens read-only, is a creditwatch
       warehouse of a schema version this code knows, every table reads back whole (DuckDB checks each
       block's checksum as it reads: a truncated file fails here) and the doctor's integrity checks
       (duplicate keys, orphan links) find no error;
    2. migrate the copy and write its audit trail (the replaced file's rows carried over, then 'restore');
    3. while holding the current file's lock, keep it as `<name>.before-restore-<UTC time>` (never
       overwritten: each restore keeps its own) and swap the copy in with os.replace; republish the snapshot.

    Returns the kept file (None when there was no warehouse). Any failure before the swap leaves the
    warehouse byte-identical and raises WarehouseError ("nothing was changed"). Data purged after the backup
    was made comes back with it: run purge again after a restore."""
    backup, target = Path(backup), warehouse_path(warehouse)
    if target.exists() and backup.resolve() == target.resolve():
        raise WarehouseError(f"{backup} is the warehouse itself; nothing was changed")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.restore-tmp")
    kept = target.with_name(f"{target.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}")
    if kept.exists():
        raise WarehouseError(f"{kept} exists; it is never overwritten. Nothing was changed")
    shutil.copyfile(backup, tmp)
    os.chmod(tmp, 0o600)
    lock, swapped = None, False
    try:
        runs = verify_warehouse(tmp, shown_as=backup)
        if target.exists():
            try:
                lock = lock_warehouse(target)
            except duckdb.Error:
                lock = None  # a broken file (the usual reason to restore): nothing to lock, keep it anyway
            copy_in_child(target, kept)  # in a child: our lock on `target` survives
            os.chmod(kept, 0o600)
        _finish_restored_copy(tmp, kept if kept.exists() else None, backup, runs)
        wal = target.with_name(target.name + ".wal")
        if wal.exists() and lock is None:
            os.replace(wal, kept.with_name(kept.name + ".wal"))  # a broken file's WAL must not replay onto the new
        os.replace(tmp, target)
        swapped = True
    finally:
        if lock is not None:
            lock.close()
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        if not swapped:
            kept.unlink(missing_ok=True)  # the warehouse was not touched: no second copy of it either
    publish_snapshot(target)
    return kept if kept.exists() else None


def verify_warehouse(path: Path, shown_as: Path | None = None) -> int:
    """Check that `path` is a whole, usable creditwatch warehouse and return its number of runs.
    Raises WarehouseError naming `shown_as` (default `path`) and the reason, ending "nothing was changed"."""
    name = shown_as or path
    runs = _validate(path, shown_as=name)
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = "
                             "current_database() AND NOT temporary").fetchall()
        for schema, table in tables:
            try:  # hashing every row reads every block of every column (each block's checksum is checked)
                con.execute(f'SELECT count(*), sum(hash(t)) FROM "{schema}"."{table}" AS t').fetchone()
            except duckdb.Error as error:
                raise WarehouseError(f"{name} is damaged: table {schema}.{table} does not read back "
                                     f"({str(error).splitlines()[0]}); nothing was changed") from error
        broken = [f for f in (*_duplicate_findings(con), _orphan_link_finding(con)) if f.level == "error"]
    except duckdb.Error as error:
        raise WarehouseError(f"{name} is damaged ({str(error).splitlines()[0]}); nothing was changed") from error
    finally:
        con.close()
    if broken:
        raise WarehouseError(f"{name} fails the doctor's integrity checks: "
                             + "; ".join(f.message for f in broken) + "; nothing was changed")
    return runs


def _finish_restored_copy(copy: Path, kept: Path | None, backup: Path, runs: int) -> None:
    """Migrate the verified copy and write its audit trail before it replaces the warehouse."""
    con = connect(copy)
    try:
        previous = _attach_previous(con, kept) if kept else False
        with transaction(con):
            # The trail (purges included) outlives a restore: copy the rows the backup lacks.
            carried = con.execute("INSERT INTO ops.audit SELECT * FROM previous.ops.audit EXCEPT "
                                  "SELECT * FROM ops.audit").fetchone()[0] if previous else 0
            audit(con, "restore", {"from": str(backup.resolve()), "runs": runs, "audit_rows_carried": carried})
        if previous:
            con.execute("DETACH previous")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _attach_previous(con: duckdb.DuckDBPyConnection, previous: Path) -> bool:
    """Attach the replaced file as `previous` when it is readable and has an audit trail."""
    if not previous.exists():
        return False
    try:
        quoted = str(previous).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS previous (READ_ONLY)")
    except duckdb.Error:
        return False  # the replaced file was broken: its trail is unreadable
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE database_name = 'previous' AND "
                            "schema_name = 'ops' AND table_name = 'audit'").fetchone()[0])
