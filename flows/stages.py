"""The pipeline's stages as plain functions: the CLI and the Prefect flow call the same code.

Each stage reads what the previous one wrote, in a documented place:
crawl  → data/runs/<run_id>/ (pipelines.run_folder)      load → raw.* and ops.* tables
transform → staging.*, core.*, marts.* (transforms/models)  export → exports/<ISO week>/
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb

from flows import alerts
from pipelines.ingest import FORMAT, IngestError, ingest_file
from pipelines.run_folder import Manifest, RunFolder, read_manifest, write_manifest
from spiders import available
from spiders.source import item_fields, sources
from transforms.build import BuildResult, DataTestFailure, build
from transforms.export import _as_of, export_week, scope_of
from transforms.repair.verify import verify_cases
from transforms.report import write_report
from transforms.reporting import LICENCE_WINDOW_DAYS, iso_week
from warehouse.db import connect, pause_point, runs_dir, transaction, warehouse_path
from warehouse.facts import import_facts
from warehouse.judgements import record_judgement
from warehouse.load import LoadResult, load_run
from warehouse.maintenance import Finding, PurgeReport, audit
from warehouse.maintenance import doctor as check_warehouse
from warehouse.maintenance import purge as purge_personal_data
from warehouse.snapshot import publish_snapshot, reader_path

CRAWL_TIMEOUT_SECONDS = int(os.environ.get("CREDITWATCH_CRAWL_TIMEOUT", "3600"))


class CrawlError(RuntimeError):
    pass


def data_dir(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Where runs and Prefect's state live: beside the warehouse file."""
    return warehouse_path(warehouse).resolve().parent


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def source_names() -> list[str]:
    return list(available())


def check_sources(sources: list[str] | None) -> list[str]:
    known = source_names()
    if not sources:
        return known
    unknown = [s for s in sources if s not in known]
    if unknown:
        raise ValueError(f"unknown source {', '.join(map(repr, unknown))}; known sources: {', '.join(known)}")
    return list(sources)


def crawl_source(
    source: str,
    run_dir: Path,
    replica_url: str | None = None,
    solver: str | None = None,
    spider_args: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    politeness: str | None = None,
    browser: bool = False,
    timeout: int = CRAWL_TIMEOUT_SECONDS,
) -> Manifest:
    """Crawl one source in a subprocess (Twisted's reactor cannot restart in-process) and return its
    manifest. A crash or a timeout writes an *incomplete* manifest saying so, then raises CrawlError."""
    run_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "spiders.run", source, "--run-dir", str(run_dir)]
    if replica_url:
        command += ["--replica-url", replica_url]
    if solver:
        command += ["--solver", solver]
    if politeness:
        command += ["--politeness", politeness]
    if browser:
        command += ["--browser"]
    for key, value in (spider_args or {}).items():
        command += ["--arg", f"{key}={value}"]
    for key, value in (settings or {}).items():
        command += ["--set", f"{key}={json.dumps(value)}"]
    folder = RunFolder(run_dir)
    started = datetime.now(UTC)
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        failure = (
            None
            if done.returncode == 0
            else (f"crawl process exited {done.returncode}: {(done.stderr or '').strip().splitlines()[-1:] or ['']}")
        )
    except subprocess.TimeoutExpired:
        failure = f"crawl timed out after {timeout} s"
    if failure is None and folder.manifest(source).exists():
        return read_manifest(folder.manifest(source))
    manifest = Manifest(
        run_id=folder.run_id,
        source=source,
        base_url=replica_url,
        started_at=started.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        finish_reason="crashed",
        complete=False,
        incomplete_reasons=[failure or "no manifest written"],
    )
    # Records a crashed crawl may have written are not trusted: remove them, keep the failure on record.
    for path in (folder.records(source), folder.quarantine(source)):
        path.unlink(missing_ok=True)
    write_manifest(folder, manifest)
    raise CrawlError(f"{source}: {manifest.incomplete_reasons[0]}")


def load(warehouse: str | os.PathLike[str] | None, run_dir: Path) -> dict[str, Any]:
    """Load a run folder (one transaction), then republish the readers' snapshot."""
    con = connect(warehouse)
    try:
        result = asdict(load_run(con, run_dir))
    finally:
        con.close()
    publish_snapshot(warehouse)
    return result


def transform(
    warehouse: str | os.PathLike[str] | None, as_of: date | None = None, targets: list[str] | None = None,
    full: bool = False,
) -> dict[str, Any]:
    """Rebuild the models (one transaction, data tests included), then republish the snapshot. A rebuild of
    every model first applies what the loaded crawls say to the repair cases, as a run does (apply_run).
    `full`: from scratch, forgetting what the incremental models kept (the linker's decided pairs)."""
    con = connect(warehouse)
    try:
        with transaction(con):
            if not targets:
                verify_cases(con)
            result = asdict(build(con, targets=targets, as_of=as_of, full=full))
    finally:
        con.close()
    publish_snapshot(warehouse)
    return result


def apply_run(
    con: duckdb.DuckDBPyConnection, run_dir: Path, as_of: date | None = None
) -> tuple[LoadResult, BuildResult]:
    """The load of a run folder AND the rebuild of every model, in ONE transaction. A crash or SIGKILL at
    any moment leaves the previous state; rerunning the run gives the unbroken result. Between the two, the
    repair cases the crawl decides are closed or flagged (transforms/repair/verify.py), so the marts show it."""
    with transaction(con):
        loaded = load_run(con, run_dir)
        verify_cases(con)
        built = build(con, as_of=as_of)
        pause_point("apply_run.before_commit")
    return loaded, built


def load_and_build(
    warehouse: str | os.PathLike[str] | None, run_dir: Path, as_of: date | None = None
) -> dict[str, Any]:
    """The scheduled path: load the run and rebuild every model in ONE transaction, then republish the
    snapshot. A crash anywhere leaves the previous state for readers and for the next run."""
    con = connect(warehouse)
    try:
        loaded, built = apply_run(con, run_dir, as_of=as_of)
    finally:
        con.close()
    publish_snapshot(warehouse)
    return {"load": asdict(loaded), "build": asdict(built)}


def doctor(warehouse: str | os.PathLike[str] | None) -> list[Finding]:
    """The doctor's checks, plus a trial rebuild with the data tests on a throwaway copy of the snapshot, and
    the alerts' config, secrets and undelivered alerts."""
    return [*check_warehouse(warehouse, trial_build=_data_test_failures), *alerts.doctor_findings(warehouse)]


def _data_test_failures(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    try:
        build(con)
    except DataTestFailure as failure:
        return failure.failures
    return {}


def purge(
    warehouse: str | os.PathLike[str] | None, *, as_of: date, retention_days: int, dry_run: bool
) -> PurgeReport:
    """Delete personal data past its retention, then rebuild the models in the same transaction."""
    return purge_personal_data(warehouse, as_of=as_of, retention_days=retention_days, dry_run=dry_run,
                               rebuild=lambda con, day: build(con, as_of=day))


def record_facts(
    warehouse: str | os.PathLike[str] | None, path: Path, recorded_by: str, as_of: date | None = None
) -> dict[str, Any]:
    """Import compliance facts (whole file or nothing), then rebuild the models so the removal rules use them."""
    con = connect(warehouse)
    try:
        count = import_facts(con, path, recorded_by)
    finally:
        con.close()
    return {"imported": count, "build": transform(warehouse, as_of=as_of)}


def ingest(
    warehouse: str | os.PathLike[str] | None, source: str, path: Path, as_of: date | None = None
) -> dict[str, Any]:
    """Feed `source` from a file into a new run folder, then load it and rebuild (one transaction)."""
    declared = sources().get(source)
    if declared is None or FORMAT not in declared.files:
        can = [name for name, s in sources().items() if FORMAT in s.files]
        raise IngestError(f"source {source!r} cannot be fed from a 双公示 penalty file; use one of {', '.join(can)}")
    run_dir = runs_dir(warehouse) / new_run_id()
    try:
        manifest = ingest_file(source, path, run_dir, item_fields(source), declared.files[FORMAT],
                               registry_url=declared.live_base_url)
        return {"manifest": manifest, **load_and_build(warehouse, run_dir, as_of=as_of)}
    except BaseException:
        # Nothing of a failed ingest stays behind: no half-written folder, and no unloaded run for the
        # doctor to suggest loading (the file itself is still there to fix and feed again).
        shutil.rmtree(run_dir, ignore_errors=True)
        raise


def judge_link(
    warehouse: str | os.PathLike[str] | None,
    reference: str,
    operator_id: str | None,
    judgement: str,
    decided_by: str,
    note: str | None = None,
) -> dict[str, Any]:
    """Store an analyst's judgement on a link, then rebuild so it takes effect everywhere."""
    con = connect(warehouse)
    try:
        record_id, operator = record_judgement(con, reference, operator_id, judgement, decided_by, note)
    finally:
        con.close()
    transform(warehouse)
    return {"record_id": record_id, "operator_id": operator, "judgement": judgement}


def export(
    warehouse: str | os.PathLike[str] | None,
    out_root: Path,
    week: str | None = None,
    lang: str = "zh",
    watchlist: Path | None = None,
) -> dict[str, Any]:
    """Write the week's export into out_root/<ISO week>/ from the published snapshot (what readers see):
    the XLSX workbook, every table as CSV and Parquet, and the HTML monitoring report. Logged in ops.audit.
    Everything is written into a temporary folder beside the target and renamed into place when complete:
    a failure leaves the previous export of that week as it was."""
    con = connect(reader_path(warehouse), read_only=True)
    try:
        week = week or iso_week(_as_of(con))
        out_dir = Path(out_root) / week
        scope = scope_of(con, watchlist)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f".{week}.", suffix=".tmp", dir=out_dir.parent) as scratch:
            building = Path(scratch) / week
            result = export_week(con, building, week, lang=lang, scope=scope)
            report = write_report(con, building / f"creditwatch-{week}.html", week, lang=lang, scope=scope)
            _swap_folder(building, out_dir)
    finally:
        con.close()
    files = [str(out_dir / Path(p).name) for p in [*result.files, report]]
    unmatched = [f"line {e.line}: {e.name or ''} {e.uscc or ''}".strip() for e in result.unmatched]
    con = connect(warehouse)
    try:
        audit(
            con,
            "export",
            {
                "week": week,
                "files": files,
                "lang": lang,
                "watchlist": str(watchlist) if watchlist else None,
                "rows": result.row_counts,
            },
        )
    finally:
        con.close()
    return {"week": week, "dir": str(out_dir), "files": files, "unmatched": unmatched, "rows": result.row_counts}


def top_risks(warehouse: str | os.PathLike[str] | None, limit: int = 20) -> list[dict[str, Any]]:
    """The operators most at risk (lowest cloud-rating dimension 1, most open records), from the snapshot."""
    con = connect(reader_path(warehouse), read_only=True)
    try:
        relation = con.sql(f"""
            SELECT name, uscc, cloud_rating_dimension1, open_records, open_penalties, open_abnormal_operations,
                   on_telecom_bad_list, on_telecom_dishonest_list, eligible_for_repair, next_licence_expiry::VARCHAR
                   AS next_licence_expiry
            FROM marts.operator_risk WHERE open_records > 0 LIMIT {int(limit)}""")
        return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]
    finally:
        con.close()


@dataclass(frozen=True)
class Rows:
    """A small table for a person to read: a title, column names and rows (from the snapshot)."""

    title: str
    columns: list[str]
    rows: list[tuple]


def review_queue(warehouse: str | os.PathLike[str] | None, limit: int = 50) -> Rows:
    """The links waiting for a person (marts.review_queue), best candidates first."""
    con = connect(reader_path(warehouse), read_only=True)
    try:
        relation = con.sql(
            "SELECT reference, subject_name, candidate_operator_name, candidate_operator_id, "
            f"round(score, 1) AS score, record_id FROM marts.review_queue ORDER BY score DESC LIMIT {int(limit)}"
        )
        return Rows("Links to review", list(relation.columns), relation.fetchall())
    finally:
        con.close()


def status_tables(warehouse: str | os.PathLike[str] | None) -> list[Rows]:
    """The last runs, each source's last crawl and the row count of every table, from the snapshot."""
    con = connect(reader_path(warehouse), read_only=True)
    try:
        runs = con.execute(
            "SELECT run_id, crawled_at, complete, records_new, records_changed, records_removed, "
            "quarantined FROM ops.runs ORDER BY run_id DESC LIMIT 5"
        ).fetchall()
        sources = con.execute("""
            SELECT source, run_id, complete, items, quarantined, array_to_string(incomplete_reasons, '; ')
            FROM ops.source_runs QUALIFY row_number() OVER (PARTITION BY source ORDER BY run_id DESC) = 1
            ORDER BY source""").fetchall()
        counts = con.execute("""
            SELECT schema_name || '.' || table_name, estimated_size FROM duckdb_tables()
            WHERE schema_name IN ('raw', 'core', 'marts', 'ops') ORDER BY 1""").fetchall()
    finally:
        con.close()
    return [
        Rows("Last runs", ["run", "crawled at", "complete", "new", "changed", "removed", "quarantined"], runs),
        Rows("Sources, last crawl", ["source", "run", "complete", "records", "quarantined", "why incomplete"],
             sources),
        Rows("Tables", ["table", "rows"], counts),
    ]


def _swap_folder(new: Path, target: Path) -> None:
    """Put the complete folder `new` at `target` (same file system): the old one is renamed aside first and
    deleted only once the new one is in place; if the rename fails, the old one is put back."""
    aside = None
    if target.exists():
        aside = target.with_name(f".{target.name}.old-{secrets.token_hex(4)}")
        os.replace(target, aside)
    try:
        os.replace(new, target)
    except BaseException:
        if aside is not None:
            os.replace(aside, target)
        raise
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


def latest_run_dir(warehouse: str | os.PathLike[str] | None) -> Path:
    runs = sorted(runs_dir(warehouse).glob("*/"))
    if not runs:
        raise FileNotFoundError(f"no crawl runs under {runs_dir(warehouse)}: run "
                                "`creditwatch crawl <source>` or `creditwatch run` first")
    return runs[-1]


def summary(warehouse: str | os.PathLike[str] | None) -> dict[str, Any]:
    """Counts a person wants after a run: records per source, links by status, operators, flags."""
    con = connect(reader_path(warehouse), read_only=True)
    try:

        def rows(query: str) -> list[tuple]:
            return con.execute(query).fetchall()

        def table_exists(name: str) -> bool:
            schema, table = name.split(".")
            return bool(
                rows(f"SELECT 1 FROM information_schema.tables WHERE table_schema='{schema}' AND table_name='{table}'")
            )

        out: dict[str, Any] = {
            "records_by_source": dict(
                rows(
                    "SELECT source, count(*) FROM raw.records WHERE removed_at IS NULL GROUP BY source ORDER BY source"
                )
            ),
            "quarantined_last_run": rows(
                "SELECT count(*) FROM raw.quarantine WHERE run_id = (SELECT max(run_id) FROM ops.runs)"
            )[0][0],
            "runs": rows("SELECT count(*) FROM ops.runs")[0][0],
        }
        if table_exists("core.record_links"):
            out["links_by_status"] = dict(rows("SELECT status, count(*) FROM core.record_links GROUP BY 1 ORDER BY 1"))
        if table_exists("marts.operator_risk"):
            out["open_records"] = rows("SELECT coalesce(sum(open_records), 0) FROM marts.operator_risk")[0][0]
            out["operators_listed"] = rows(
                "SELECT count(*) FROM marts.operator_risk WHERE on_telecom_bad_list OR on_telecom_dishonest_list"
            )[0][0]
        if table_exists("marts.removal_candidates"):
            out["removal_candidates"] = rows("SELECT count(*) FROM marts.removal_candidates")[0][0]
        if table_exists("marts.repair_cases"):
            out["repair_cases"] = dict(rows("SELECT state, count(*) FROM marts.repair_cases GROUP BY 1 ORDER BY 1"))
            out["repair_cases_overdue"] = rows("SELECT count(*) FROM marts.repair_cases WHERE overdue")[0][0]
        if table_exists("marts.operator_licences"):
            out["operators"] = rows("SELECT count(*) FROM marts.operator_licences")[0][0]
            out["licences_expiring_in_window"] = rows(
                "SELECT count(*) FROM marts.operator_licences "
                f"WHERE days_to_expiry BETWEEN 0 AND {int(LICENCE_WINDOW_DAYS)}"
            )[0][0]
        return out
    finally:
        con.close()
