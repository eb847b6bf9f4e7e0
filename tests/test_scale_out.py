"""Crawling spread over Prefect workers (flows/scale_out.py): a local Prefect server, two process workers and the
replica; the daily deployment crawls two sources of ONE registry host on both workers, the host's global
concurrency limit keeps the replica from ever answering that host twice at once, and the warehouse the build
worker writes equals the one a single process writes from the same replica."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import urllib.request
from pathlib import Path

import click
import duckdb
import pytest

from flows.scale_out import (
    check_masking_key,
    crawl_wait_seconds,
    host_of,
    host_slots,
    key_fingerprint,
    limit_name,
    registry_hosts,
    worker_command,
)
from pipelines.normalise import masking_secret
from replica.server import Faults, Replica, site_host
from replica.world import World
from spiders.source import sources

# Two sources on the same registry host: their crawls contend for its one slot.
SOURCES = ["miit_licences", "miit_annual_reports"]
AS_OF = "2026-11-23"

DRIVER = textwrap.dedent("""
    import json, os, subprocess, sys, threading, time
    from concurrent.futures import ThreadPoolExecutor
    from datetime import date
    from pathlib import Path
    from flows import prefect_env
    from flows.serve import launch_local_server, wait_for_server
    t0 = time.perf_counter()
    phases = {}
    def phase(name):
        phases[name] = round(time.perf_counter() - t0, 1)
        print(f"phase {name} {phases[name]}", file=sys.stderr, flush=True)
    data = Path(sys.argv[1]) / "data"
    data.mkdir(parents=True)
    sources, as_of = json.loads(sys.argv[2]), date.fromisoformat(sys.argv[3])
    prefect_env.configure(data)
    os.environ["PREFECT_WORKER_QUERY_SECONDS"] = "1"  # workers poll every second (default 10)
    server, url = launch_local_server(data)
    os.environ["PREFECT_API_URL"] = url  # before Prefect is imported: its settings are read once
    workers, out = [], {}
    try:
        from flows import scale_out, stages
        from replica.server import Faults, Replica
        from replica.world import World
        warehouse, single = str(data / "scaled" / "w.duckdb"), str(data / "single" / "w.duckdb")
        replica, control = Replica(World(operators=10), Faults.none()), Replica(World(operators=10), Faults.none())
        replica.start(), control.start()

        def single_run():
            # The same crawls from one machine without Prefect, on a replica of the same world: the reference.
            run_dir = stages.runs_dir(single) / stages.new_run_id()
            with ThreadPoolExecutor(len(sources)) as pool:
                list(pool.map(lambda s: stages.crawl_source(s, run_dir, replica_url=control.base_url,
                                                            solver="replica"), sources))
            stages.load_and_build(single, run_dir, as_of=as_of)
            phase("single_run")

        reference = ThreadPoolExecutor(1).submit(single_run)
        wait_for_server(server, url, data)
        phase("server")
        log = (data / "workers.log").open("ab")
        # What `creditwatch worker` starts. worker-a, beside the warehouse: the run itself and one crawl (limit 2);
        # worker-b: one crawl (limit 1). So with two crawls pending at once, each worker takes one.
        for command in (scale_out.worker_command(build=True, limit=2, name="worker-a"),
                        scale_out.worker_command(limit=1, name="worker-b")):
            workers.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=data))
        deployed = scale_out.deploy(warehouse, schedules=False)
        scale_out.ensure_pool(), scale_out.ensure_host_limits(deployed["limits"])  # again: idempotent
        phase("deploy")
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.filters import FlowFilter, FlowFilterName
        from prefect.deployments import run_deployment
        run = run_deployment("scale-out-run/daily", timeout=240, poll_interval=1, parameters={
            "sources": sources, "replica_url": replica.base_url, "solver": "replica", "as_of": str(as_of),
            # Each crawl one request at a time, as live, with a short delay so that a crawl lasts long enough for
            # the two to overlap if nothing kept them apart; the host limit must. (Without a delay Scrapy may start
            # two requests of one slot at once, hence the global setting too.)
            "settings": {"CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1, "DOWNLOAD_DELAY": 0.25}})
        phase("scaled_run")
        out["peak_in_flight"] = dict(replica.peak_in_flight)
        with get_client(sync_client=True) as client:
            crawls = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["crawl-source"])))
            out["crawls"] = [{"name": r.name, "state": r.state.type.value, "start": r.start_time, "end": r.end_time,
                              "worker": r.labels.get(scale_out.WORKER_LABEL)} for r in crawls]
            out["limits"] = {l.name: [l.limit, l.active_slots] for l in client.read_global_concurrency_limits()}
            run = client.read_flow_run(run.id)
        out["run_state"], out["run_worker"] = run.state.type.value, run.labels.get(scale_out.WORKER_LABEL)
        out["deployed"] = deployed
        reference.result()
        out["warehouses"] = [warehouse, single]
        replica.stop(), control.stop()
    finally:
        for process in [*workers, server]:
            process.terminate()
        for process in [*workers, server]:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    phase("stopped")
    out["phases"] = phases
    print("RESULT " + json.dumps(out, default=str))
""")

# What two runs of the same crawl cannot share: the run id, the replica's port, the moment.
RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{4}")
REPLICA_URL = re.compile(r"http://127\.0\.0\.1:\d+")


def warehouse_rows(path: str) -> dict[str, list[str]]:
    """Every row of every raw, core and marts table, sorted, with run ids and the replica's address masked and
    the timestamp columns left out."""
    con = duckdb.connect(path, read_only=True)
    try:
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_schema IN ('raw', 'core', 'marts') ORDER BY 1, 2").fetchall()
        out = {}
        for schema, table in tables:
            columns = [c for (c, kind) in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ? ORDER BY ordinal_position", [schema, table]).fetchall()
                if not c.endswith("_at") and "TIMESTAMP" not in kind]
            select = ", ".join('"' + c + '"' for c in columns)
            rows = con.execute(f"SELECT {select} FROM {schema}.{table}")
            out[f"{schema}.{table}"] = sorted(REPLICA_URL.sub("REPLICA", RUN_ID.sub("RUN", repr(row)))
                                              for row in rows.fetchall())
        return out
    finally:
        con.close()


def manifests(warehouse: str) -> list[dict]:
    """The manifests of the warehouse's one run folder."""
    [run_dir] = (Path(warehouse).parent / "runs").iterdir()
    return [json.loads(p.read_text()) for p in sorted(run_dir.glob("*.manifest.json"))]


@pytest.mark.timeout(360)
def test_crawls_spread_over_two_workers_keep_one_request_per_host_and_build_the_same_warehouse(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    # Its own session: on a timeout the driver, its server, its workers and their runs all go at once.
    with subprocess.Popen([sys.executable, "-c", DRIVER, str(tmp_path), json.dumps(SOURCES), AS_OF], env=env,
                          cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as driver:
        try:
            stdout, stderr = driver.communicate(timeout=300)
        except subprocess.TimeoutExpired:
            os.killpg(driver.pid, signal.SIGKILL)
            stdout, stderr = driver.communicate()
    logs = "".join(p.read_text(errors="replace")[-3000:] for p in (tmp_path / "data").glob("*.log"))
    assert driver.returncode == 0, stderr[-3000:] + logs
    [line] = [x for x in stdout.splitlines() if x.startswith("RESULT ")]
    result = json.loads(line.removeprefix("RESULT "))
    assert result["run_state"] == "COMPLETED", logs
    assert result["run_worker"] == "worker-a"  # the run (load and build) on the worker beside the warehouse
    host = host_of(SOURCES[0])
    assert host_of(SOURCES[1]) == host
    # Both workers took a crawl run, each completed.
    assert sorted(c["worker"] for c in result["crawls"]) == ["worker-a", "worker-b"], result["crawls"]
    assert {c["state"] for c in result["crawls"]} == {"COMPLETED"}
    # One slot per registry host, created by deploy, free again after the run; and the replica never saw the
    # host answer two requests at once although two crawlers on two workers wanted it.
    assert result["limits"][limit_name(host)] == [1, 0]
    assert set(result["deployed"]["limits"]) == {limit_name(h) for h in registry_hosts()}
    assert result["peak_in_flight"] == {host: 1}, result["peak_in_flight"]
    # Both crawl flow runs were running at once (two crawlers wanted the host), yet the crawls themselves (their
    # subprocesses, from the manifests) did not overlap: one waited for the host's slot.
    flows = sorted((c["start"], c["end"]) for c in result["crawls"])
    assert flows[1][0] < flows[0][1], flows
    windows = sorted((m["started_at"], m["finished_at"]) for m in manifests(result["warehouses"][0]))
    assert len(windows) == 2 and windows[0][1] <= windows[1][0], (windows, flows)
    # Loaded once, after both crawls had finished: one run, holding both sources, loaded after the last crawl.
    con = duckdb.connect(result["warehouses"][0], read_only=True)
    try:
        assert con.execute("SELECT sources, complete, loaded_at >= crawled_at FROM ops.runs").fetchall() == [
            (sorted(SOURCES), True, True)]
    finally:
        con.close()
    scaled, single = (warehouse_rows(p) for p in result["warehouses"])
    assert scaled["raw.records"] and scaled.keys() == single.keys()
    assert {t: rows for t, rows in scaled.items() if rows != single[t]} == {}
    print(f"phases (s since start) {result['phases']}; crawl flow runs {result['crawls']}")


def test_every_registry_host_has_its_limit_and_every_source_a_host() -> None:
    hosts = registry_hosts()
    assert hosts == sorted({s.host for s in sources().values()}) and len(hosts) == len(set(hosts))
    assert all(host_of(name) in hosts for name in sources())
    assert {limit_name(h) for h in hosts} == {f"creditwatch-host-{h}" for h in hosts}
    # One host's crawls run one after another, so a run waits for the busiest host's crawls back to back.
    other = next(name for name in sources() if host_of(name) != host_of(SOURCES[0]))
    assert crawl_wait_seconds(SOURCES) > crawl_wait_seconds([SOURCES[0], other]) == crawl_wait_seconds([other])


def test_deploy_and_worker_need_the_shared_server_and_sane_slots(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from flows.cli import app

    runner = CliRunner()
    env = {"PREFECT_API_URL": ""}
    for args in (["deploy"], ["worker", "--build"]):
        done = runner.invoke(app, ["--warehouse", str(tmp_path / "w.duckdb"), *args], env=env)
        # a usage error: `creditwatch` (flows.cli.main) prints it as one line and exits 2
        assert isinstance(done.exception, click.UsageError), done.output
        assert "PREFECT_API_URL is not set" in str(done.exception)
    done = runner.invoke(app, ["deploy", "--slots", "dxzhgl.miit.gov.cn=0"], env=env)
    assert done.exit_code == 2 and "not HOST=N with N ≥ 1" in done.output
    assert host_slots({"dxzhgl.miit.gov.cn": 2})[limit_name("dxzhgl.miit.gov.cn")] == 2
    assert set(host_slots().values()) == {1}
    with pytest.raises(ValueError, match="no source crawls example.org"):
        host_slots({"example.org": 1})


def test_a_crawl_worker_with_another_masking_key_refuses_to_crawl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CREDITWATCH_MASKING_KEY_FILE", raising=False)
    build_data, worker_data = tmp_path / "build", tmp_path / "worker"
    build_key = build_data / "masking.key"
    masking_secret(build_key)
    expected = key_fingerprint(build_key)
    run_dir = worker_data / "runs" / "20261123T060000Z-abcd"
    with pytest.raises(RuntimeError, match="has none masking key"):
        check_masking_key(run_dir, expected)
    masking_secret(worker_data / "masking.key")  # a key of its own: another one
    with pytest.raises(RuntimeError, match="has another masking key"):
        check_masking_key(run_dir, expected)
    (worker_data / "masking.key").write_bytes(build_key.read_bytes())
    check_masking_key(run_dir, expected)
    check_masking_key(tmp_path / "elsewhere" / "runs" / "r", None)  # no fingerprint given: nothing to check


def test_the_build_worker_also_polls_the_build_queue() -> None:
    crawl = worker_command(name="w1")
    build = worker_command(build=True, limit=2)
    assert crawl[crawl.index("--work-queue") + 1] == "crawl" and "build" not in crawl
    assert [build[i + 1] for i, a in enumerate(build) if a == "--work-queue"] == ["crawl", "build"]
    assert build[build.index("--limit") + 1] == "2"


def test_the_replica_counts_requests_in_flight_per_host(world: World) -> None:
    """The instrument can fail: two slow requests to one host at once show 2; the hooks and robots.txt count
    for no host."""
    assert site_host("/dxzhgl.miit.gov.cn/a/b") == "dxzhgl.miit.gov.cn"
    assert site_host("/robots.txt") is None and site_host("/__replica__/health") is None
    faults = Faults.none()
    faults.slow, faults.slow_seconds = 1.0, 0.4
    with Replica(world, faults) as replica:
        path = "/dxzhgl.miit.gov.cn/dxxzsp/xkz/xkzgl/resource/qiyesearch.jsp"
        urls = [f"{replica.base_url}{path}?n={n}" for n in range(2)]

        def fetch(url: str) -> None:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(url, timeout=5).close()  # noqa: S310 (loopback)

        threads = [threading.Thread(target=fetch, args=(u,)) for u in urls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        fetch(f"{replica.base_url}/__replica__/health")
    assert replica.peak_in_flight == {"dxzhgl.miit.gov.cn": 2}
    assert replica.in_flight["dxzhgl.miit.gov.cn"] == 0
