"""The readers' snapshot of the warehouse.

- `publish_snapshot`: after a commit, a copy of the warehouse file replaces
  `data/snapshot/creditwatch.duckdb` atomically (os.replace). Analysts, dashboards and the exporter
  read the snapshot, so they never block the weekly run and never see a half-written state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from warehouse.db import WarehouseError, pause_point, private_dir, warehouse_path


def copy_in_child(source: Path, target: Path) -> None:
    """Copy a file in a child process, so this process's lock on `source` survives: DuckDB drops a file
    lock when ANY handle on that file in this process closes."""
    done = subprocess.run([sys.executable, "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])",
                           str(source), str(target)], capture_output=True, text=True, check=False)
    if done.returncode:
        raise WarehouseError(f"copying {source} to {target} failed: {done.stderr.strip().splitlines()[-1:]}")


def lock_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-write connection to `path` (the write lock), checkpointed so the file holds everything."""
    try:
        con = duckdb.connect(str(path))
    except duckdb.IOException as error:
        if "lock" in str(error).lower():
            raise WarehouseError(f"warehouse {path} is in use by another process (a run in progress?): "
                                 "wait for it to finish; nothing was changed") from error
        raise
    con.execute("CHECKPOINT")
    return con


def snapshot_path(warehouse: str | os.PathLike[str] | None = None) -> Path:
    path = warehouse_path(warehouse)
    return path.parent / "snapshot" / path.name


def publish_snapshot(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Copy the checkpointed warehouse file over the snapshot, atomically. This process holds the write lock
    during the copy (the copy runs in a child), so no run can change the file mid-copy."""
    source = warehouse_path(warehouse)
    target = snapshot_path(warehouse)
    private_dir(target.parent)
    tmp = target.with_name(target.name + ".tmp")
    con = lock_warehouse(source)
    try:
        copy_in_child(source, tmp)
    finally:
        con.close()
    os.chmod(tmp, 0o600)  # a copy is made with the umask's mode: the snapshot holds personal data too
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


# DuckDB's own guards for SQL a person types (creditwatch sql): no file or network access beyond the
# database file opened (no COPY TO, read_csv, ATTACH, INSTALL), no extension loaded on demand, and no
# SET that could lift any of this. The file itself is opened read-only.
ANALYST_GUARDS: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}


def analyst_connection(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to `path` that can read every schema and write no file (ANALYST_GUARDS).
    Raises WarehouseError when the file is missing or not a DuckDB file."""
    if not path.exists():
        raise WarehouseError(f"no warehouse at {path}: run `creditwatch run` (or `make demo`) first")
    try:
        return duckdb.connect(str(path), read_only=True, config=dict(ANALYST_GUARDS))
    except duckdb.Error as error:
        raise WarehouseError(f"cannot open {path} for reading: {str(error).splitlines()[0]}") from error
