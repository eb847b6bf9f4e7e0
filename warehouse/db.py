"""Opening the warehouse (a DuckDB file) and keeping its schema current."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

DEFAULT_PATH = Path("data/creditwatch.duckdb")
MIGRATIONS = Path(__file__).parent / "migrations"
# DuckDB's own limit (it spills beyond it). The linker's Python side comes on top in the same process, so
# the default leaves room for it under the 4 GB the whole run may use (bench/results.md).
MEMORY_LIMIT = os.environ.get("CREDITWATCH_MEMORY_LIMIT", "2.5GB")


class WarehouseError(RuntimeError):
    """A warehouse problem a person can act on; the message says what and what to do."""


def warehouse_path(path: str | os.PathLike[str] | None = None) -> Path:
    return Path(path or os.environ.get("CREDITWATCH_WAREHOUSE") or DEFAULT_PATH)


def connect(path: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse. Read-write opens create it and apply migrations; read-only opens never write."""
    target = warehouse_path(path)
    if read_only and not target.exists():
        raise WarehouseError(f"no warehouse at {target}: run `creditwatch run` (or `make demo`) first")
    if not read_only:
        private_dir(target.parent)
    try:
        con = duckdb.connect(
            str(target), read_only=read_only, config={"memory_limit": MEMORY_LIMIT, "threads": os.cpu_count() or 2}
        )
    except duckdb.IOException as error:
        text = str(error)
        if "lock" in text.lower():
            raise WarehouseError(
                f"warehouse {target} is in use by another process (a run in progress?): "
                "wait for it, or query the published snapshot"
            ) from error
        raise WarehouseError(
            f"cannot open warehouse {target}: it is not a valid DuckDB file "
            f"({text.splitlines()[0]}); nothing was changed. Restore a backup or move it away."
        ) from error
    except duckdb.Error as error:
        raise WarehouseError(
            f"cannot open warehouse {target}: {str(error).splitlines()[0]}; nothing was changed"
        ) from error
    if not read_only:
        private_file(target)
        migrate(con)
    return con


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) if needed; a folder this call creates is owner-only (0700)."""
    if not path.exists():
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make the warehouse-like file `path` and its WAL owner-only (0600) — personal data, whatever the umask."""
    for file in (path, path.with_name(path.name + ".wal")):
        if file.exists() and file.stat().st_uid == os.getuid():
            os.chmod(file, 0o600)


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema='ops' AND table_name='schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM ops.schema_version").fetchone()[0]


def migrations() -> list[tuple[int, Path]]:
    return sorted((int(p.name.split("_", 1)[0]), p) for p in MIGRATIONS.glob("[0-9][0-9][0-9]_*.sql"))


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration not yet recorded, in version order, each in its own transaction (a migration
    merged late from a parallel branch still applies). Returns the schema version."""
    current = schema_version(con)
    applied = set()
    if current:
        applied = {v for (v,) in con.execute("SELECT version FROM ops.schema_version").fetchall()}
    for version, path in migrations():
        if version in applied:
            continue
        con.execute("BEGIN")
        try:
            con.execute("CREATE SCHEMA IF NOT EXISTS ops")
            con.execute(
                "CREATE TABLE IF NOT EXISTS ops.schema_version (version INTEGER PRIMARY KEY, "
                "name VARCHAR, applied_at TIMESTAMP)"
            )
            con.execute(path.read_text("utf-8"))
            con.execute(
                "INSERT INTO ops.schema_version VALUES (?, ?, ?)",
                [version, path.stem, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        current = max(current, version)
    return current


_OPEN_TRANSACTIONS: set[int] = set()  # id() of connections inside transaction(); DuckDB has no "in txn?" call


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """BEGIN … COMMIT, or ROLLBACK on any error. Inside an open transaction() it joins that one, so stages
    compose: a run's load and build commit together or not at all."""
    if id(con) in _OPEN_TRANSACTIONS:
        yield  # the outer transaction owns commit and rollback
        return
    con.execute("BEGIN")
    _OPEN_TRANSACTIONS.add(id(con))
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")
    finally:
        _OPEN_TRANSACTIONS.discard(id(con))


def pause_point(name: str) -> None:
    """Crash tests stop a run here: with CREDITWATCH_PAUSE_AT=<name> the process announces the point on
    stderr and sleeps, so a test can SIGKILL it at a known moment. A no-op otherwise."""
    if os.environ.get("CREDITWATCH_PAUSE_AT") == name:
        print(f"PAUSED AT {name}", file=sys.stderr, flush=True)
        time.sleep(3600)


def runs_dir(warehouse: str | os.PathLike[str] | None = None) -> Path:
    """Where crawl run folders live: data/runs beside the warehouse file (the one home of that path)."""
    return warehouse_path(warehouse).resolve().parent / "runs"
