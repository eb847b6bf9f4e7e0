"""Prefect settings for running without a server, quietly and offline. Call before importing prefect."""

from __future__ import annotations

import logging
import os
from pathlib import Path

QUIET = {
    # No telemetry: its heartbeat makes the only non-loopback connection and, on the ephemeral
    # server's SQLite, the "database is locked" tracebacks (stack-notes.md §2).
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_UI_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
}

# Work spread over workers needs the one server they all poll (flows/scale_out.py), never an ephemeral one.
NO_SERVER = ("PREFECT_API_URL is not set: point it at the Prefect server every worker shares "
             "(e.g. http://prefect-host:4200/api)")


class _DropSqliteLockNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += str(record.exc_info[1])
        return "database is locked" not in text


def configure(data_dir: Path) -> None:
    """Point PREFECT_HOME at the data directory (one SQLite database, migrated once) unless set."""
    os.environ.setdefault("PREFECT_HOME", str(Path(data_dir).resolve() / "prefect"))
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    for key, value in QUIET.items():
        os.environ.setdefault(key, value)
    noise = _DropSqliteLockNoise()
    for name in ("prefect", "prefect.server", "prefect.server.services", "uvicorn.error", "sqlalchemy"):
        logging.getLogger(name).addFilter(noise)
