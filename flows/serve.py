"""`creditwatch serve`: the schedules, run in the foreground.

- weekly: Monday 06:00 Asia/Shanghai, every source, the weekly export.
- daily: every day 06:30 Asia/Shanghai, every source crawled and loaded, marts rebuilt, no export.

Prefect's ephemeral server cannot schedule ("Cannot schedule flows on an ephemeral server"), so
with no PREFECT_API_URL set this starts a local `prefect server` (SQLite under the data directory),
waits until it answers, and stops it on exit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flows import prefect_env

TIMEZONE = "Asia/Shanghai"
WEEKLY_CRON = "0 6 * * 1"
DAILY_CRON = "30 6 * * *"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_server(data_dir: Path, timeout: float = 120) -> tuple[subprocess.Popen, str]:
    server, url = launch_local_server(data_dir)
    wait_for_server(server, url, data_dir, timeout)
    return server, url


def launch_local_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """Start `prefect server` on a free loopback port without waiting for it (the caller may set
    PREFECT_API_URL to the url and do other work while it starts); then wait_for_server."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    with (data_dir / "prefect-server.log").open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    return server, url


def wait_for_server(server: subprocess.Popen, url: str, data_dir: Path, timeout: float = 120) -> None:
    """Until the server answers its health check; stops it and raises if it exits or does not answer in time."""
    log = data_dir / "prefect-server.log"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited with {server.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:  # noqa: S310 (loopback)
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"prefect server did not answer within {timeout:.0f} s; see {log}")


def deployments(warehouse: str | None) -> list:
    from prefect.schedules import Cron

    from flows.monitoring import monitoring_run

    params = {"warehouse": warehouse}
    return [
        monitoring_run.to_deployment(
            name="weekly", schedule=Cron(WEEKLY_CRON, timezone=TIMEZONE), parameters=params
        ),
        monitoring_run.to_deployment(
            name="daily", schedule=Cron(DAILY_CRON, timezone=TIMEZONE), parameters={**params, "export": False}
        ),
    ]


def serve_forever(data_dir: Path, warehouse: str | None) -> None:
    prefect_env.configure(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        server, url = start_local_server(data_dir)
        os.environ["PREFECT_API_URL"] = url
    try:
        from prefect import serve

        serve(*deployments(warehouse), pause_on_shutdown=False)
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
