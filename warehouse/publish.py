"""Apply a crawl run to the warehouse atomically, then publish a read-only snapshot for readers.

- `apply_run`: the load of a run folder AND the rebuild of every model, in ONE transaction. A crash
  or SIGKILL at any moment leaves the previous state; rerunning the run gives the unbroken result.
- `publish_snapshot`: after a commit, a copy of the warehouse file replaces
  `data/snapshot/creditwatch.duckdb` atomically (os.replace). Analysts, dashboards and the exporter
  read the snapshot, so they never block the weekly run and never see a half-written state.
"""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from transforms.build import BuildResult, build
from warehouse.db import pause_point, transaction, warehouse_path
from warehouse.load import LoadResult, load_run


def apply_run(
    con: duckdb.DuckDBPyConnection, run_dir: Path, as_of: date | None = None
) -> tuple[LoadResult, BuildResult]:
    with transaction(con):
        loaded = load_run(con, run_dir)
        built = build(con, as_of=as_of)
        pause_point("apply_run.before_commit")
    return loaded, built


def snapshot_path(warehouse: str | os.PathLike[str] | None = None) -> Path:
    path = warehouse_path(warehouse)
    return path.parent / "snapshot" / path.name


def publish_snapshot(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Copy the (closed, checkpointed) warehouse file over the snapshot, atomically."""
    source = warehouse_path(warehouse)
    con = duckdb.connect(str(source))
    try:
        con.execute("CHECKPOINT")  # fold the WAL into the file, so the copy is complete on its own
    finally:
        con.close()
    target = snapshot_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    shutil.copyfile(source, tmp)
    pause_point("publish_snapshot.before_replace")
    os.replace(tmp, target)
    return target


def reader_path(warehouse: str | os.PathLike[str] | None = None, live: bool = False) -> Path:
    """What a reader should open: the published snapshot, or the live file when asked (or no snapshot yet)."""
    snapshot = snapshot_path(warehouse)
    return warehouse_path(warehouse) if live or not snapshot.exists() else snapshot


def snapshot_info(warehouse: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The last run in the snapshot and in the warehouse (the doctor compares them)."""
    out: dict[str, Any] = {}
    for label, path in (("warehouse", warehouse_path(warehouse)), ("snapshot", snapshot_path(warehouse))):
        if not path.exists():
            out[label] = None
            continue
        con = duckdb.connect(str(path), read_only=True)
        try:
            out[label] = con.execute("SELECT max(run_id) FROM ops.runs").fetchone()[0]
        finally:
            con.close()
    return out
