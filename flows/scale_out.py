"""Crawling spread over Prefect workers: a process work pool, one crawl flow run per source on any worker,
then the load and build once, on the worker that holds the warehouse.

    work pool `creditwatch` (type process)
      queue `crawl`  ← deployment crawl-source/crawl: one source into the run folder; every worker polls it
      queue `build`  ← deployments scale-out-run/weekly and /daily: submit one crawl run per source, wait for
                       all, then load + build (+ export) + alerts; only the warehouse machine's worker polls it

Politeness across machines: each crawl holds one slot of its registry host's Prefect global concurrency limit
(`creditwatch-host-<host>`, one slot by default) for as long as it runs, so N workers never send a host more
than one crawler at a time, as one machine would. The limits are created (or set back to their slots) by
`deploy`, and a crawl refuses to start without its limit (strict), rather than crawl unthrottled.

The run folder (data/runs/<run_id>/) is written by the crawl workers and read by the build worker: it must be
on storage every worker mounts at the same path. DuckDB stays single-writer: only the build worker opens it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.concurrency.sync import concurrency
from prefect.runtime import flow_run as current_flow_run

from flows import prefect_env, stages
from flows.serve import DAILY_CRON, TIMEZONE, WEEKLY_CRON
from pipelines.normalise import masking_secret
from pipelines.run_folder import MASKING_KEY_ENV, RunFolder, masking_key_file, read_manifest
from spiders.source import sources as declared_sources
from warehouse.db import warehouse_path

POOL = "creditwatch"
CRAWL_QUEUE = "crawl"
BUILD_QUEUE = "build"
CRAWL_FLOW = "crawl-source"
RUN_FLOW = "scale-out-run"
CRAWL_DEPLOYMENT = f"{CRAWL_FLOW}/crawl"
HOST_SLOTS = 1  # crawlers one registry host may see at once, across every worker
LIMIT_PREFIX = "creditwatch-host-"
WORKER_LABEL = "creditwatch.worker"  # flow-run label: which worker crawled the source
CRAWL_ATTEMPTS = 3  # polite_crawl_task: the first and two retries
RETRY_DELAYS = [10, 60]
PICKUP_SECONDS = 600  # time for a worker to take a crawl run, on top of the crawls themselves


def limit_name(host: str) -> str:
    """The global concurrency limit of a registry host (Prefect names allow dots and dashes)."""
    return f"{LIMIT_PREFIX}{host}"


def host_of(source: str) -> str:
    """The registry host a source crawls, from its source.yml live base URL."""
    return declared_sources()[source].host


def registry_hosts() -> list[str]:
    """Every registry host a declared source crawls, once each."""
    return sorted({s.host for s in declared_sources().values()})


def worker_name() -> str:
    """The Prefect worker running this flow run (the process worker sets PREFECT__WORKER_NAME), else the host."""
    return os.environ.get("PREFECT__WORKER_NAME") or socket.gethostname()


def crawl_wait_seconds(sources: list[str]) -> float:
    """How long a run waits for its crawls: one host's crawls run one after another (HOST_SLOTS), each at most
    every attempt at its timeout plus the retry delays; the busiest host sets the time."""
    per_host: dict[str, int] = {}
    for source in sources:
        per_host[host_of(source)] = per_host.get(host_of(source), 0) + 1
    one_crawl = CRAWL_ATTEMPTS * stages.CRAWL_TIMEOUT_SECONDS + sum(RETRY_DELAYS)
    return max(per_host.values(), default=0) * one_crawl + PICKUP_SECONDS


@task(name="crawl", retries=CRAWL_ATTEMPTS - 1, retry_delay_seconds=RETRY_DELAYS, task_run_name="crawl-{source}")
def polite_crawl_task(
    source: str,
    run_dir: str,
    replica_url: str | None,
    solver: str | None,
    spider_args: dict[str, str] | None,
    settings: dict[str, Any] | None,
) -> dict[str, Any]:
    # The host's slot is held per attempt, not across the retry delays, so another crawl may use them.
    with concurrency(limit_name(host_of(source)), occupy=1, strict=True):
        manifest = stages.crawl_source(source, Path(run_dir), replica_url=replica_url, solver=solver,
                                       spider_args=spider_args, settings=settings)
    return {"source": source, "complete": manifest.complete, "items": manifest.items}


@flow(name=CRAWL_FLOW, log_prints=False)
def crawl_source_run(
    source: str,
    run_dir: str,
    replica_url: str | None = None,
    solver: str | None = None,
    spider_args: dict[str, str] | None = None,
    settings: dict[str, Any] | None = None,
    masking_key: str | None = None,
) -> dict[str, Any]:
    """Crawl one source into `run_dir` (shared storage), holding its registry host's slot while it crawls.
    `masking_key`: the fingerprint of the run's masking key, which this worker's must match."""
    label_this_run()
    check_masking_key(Path(run_dir), masking_key)
    return polite_crawl_task(stages.check_sources([source])[0], run_dir, replica_url, solver, spider_args, settings)


def key_fingerprint(path: Path) -> str | None:
    """A short SHA-256 of the masking key file (it says nothing of the key), None when there is none."""
    try:
        return hashlib.sha256(path.read_bytes().strip()).hexdigest()[:16]
    except FileNotFoundError:
        return None


def check_masking_key(run_dir: Path, expected: str | None) -> None:
    """Refuse to crawl with another masking key than the build worker's: a record's protected key would then
    depend on the machine that crawled it, and the same record would look new (pipelines.normalise)."""
    if expected is None:
        return
    path = masking_key_file(run_dir)
    if key_fingerprint(path) != expected:
        state = "has none" if not path.exists() else "has another"
        raise RuntimeError(f"this worker {state} masking key at {path}: copy the build machine's masking.key there "
                           f"(owner-only) or name it with {MASKING_KEY_ENV}")


def label_this_run() -> None:
    """Label the current flow run with the worker running it: the operator (and the run) see who crawled what."""
    from prefect.client.orchestration import get_client

    flow_run_id = current_flow_run.get_id()
    if flow_run_id:
        with get_client(sync_client=True) as client:
            client.update_flow_run_labels(flow_run_id, {WORKER_LABEL: worker_name()})


def wait_for_runs(flow_run_ids: dict[str, Any], timeout: float, poll: float = 2.0) -> dict[str, Any]:
    """Poll until every flow run is final; return each source's last flow run. Runs still going at the timeout
    are asked to cancel and returned as they are (their sources then count as crashed)."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            runs = {source: client.read_flow_run(run_id) for source, run_id in flow_run_ids.items()}
            pending = [r for r in runs.values() if not (r.state and r.state.is_final())]
            if not pending:
                return runs
            if time.monotonic() > deadline:
                for run in pending:
                    client.set_flow_run_state(run.id, Cancelling(message="the run stopped waiting for it"), force=True)
                return runs
            time.sleep(poll)


@flow(name=RUN_FLOW, log_prints=False)
def scale_out_run(
    sources: list[str] | None = None,
    warehouse: str | None = None,
    replica_url: str | None = None,
    solver: str | None = None,
    export_root: str = "exports",
    as_of: date | None = None,
    lang: str = "zh",
    spider_args: dict[str, dict[str, str]] | None = None,
    settings: dict[str, Any] | None = None,
    export: bool = True,
    alerts_config: str | None = None,
) -> dict[str, Any]:
    """`monitoring_run` with its crawls spread over the pool's workers: one crawl-source run per source (any
    worker), and once all have finished, the load, build, export and alerts here, once."""
    from prefect.deployments import run_deployment

    from flows.monitoring import finish_run  # here: the crawl runs, which import this module, need none of it

    logger = get_run_logger()
    label_this_run()
    sources = stages.check_sources(sources)
    run_id = stages.new_run_id()
    run_dir = stages.runs_dir(warehouse) / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    key = masking_key_file(run_dir)
    masking_secret(key)  # made here first (if this is the first run ever), so every crawl checks against it
    submitted = {
        source: run_deployment(
            CRAWL_DEPLOYMENT,
            parameters={"source": source, "run_dir": str(run_dir), "replica_url": replica_url, "solver": solver,
                        "spider_args": (spider_args or {}).get(source), "settings": settings,
                        "masking_key": key_fingerprint(key)},
            flow_run_name=f"crawl-{source}-{run_id}",
            timeout=0,  # submit every source first; the workers take them as they are free
        ).id
        for source in sources
    }
    runs = wait_for_runs(submitted, crawl_wait_seconds(sources))
    folder = RunFolder(run_dir)
    manifests, crashed, crawled_by = {}, {}, {}
    for source, run in runs.items():
        crawled_by[source] = run.labels.get(WORKER_LABEL)
        if run.state is not None and run.state.is_completed() and folder.manifest(source).exists():
            manifests[source] = read_manifest(folder.manifest(source))
        else:
            state = run.state.name if run.state else "unknown"
            crashed[source] = f"crawl flow run {run.name} ended {state}: {run.state.message if run.state else ''}"
            logger.error("crawl of %s failed: %s", source, crashed[source])
    result = finish_run(warehouse, run_id, run_dir, manifests, crashed, export_root=export_root, as_of=as_of,
                        lang=lang, export=export, alerts_config=alerts_config)
    return {**result, "crawled_by": crawled_by}


# -- deploying --------------------------------------------------------------------------------------------


def host_slots(slots: dict[str, int] | None = None) -> dict[str, int]:
    """Limit name → slots for every registry host: HOST_SLOTS unless `slots` says otherwise for that host."""
    hosts = registry_hosts()
    unknown = sorted(set(slots or {}) - set(hosts))
    if unknown:
        raise ValueError(f"no source crawls {', '.join(unknown)}; registry hosts: {', '.join(hosts)}")
    bad = {h: n for h, n in (slots or {}).items() if not isinstance(n, int) or n < 1}
    if bad:
        raise ValueError(f"slots must be whole numbers ≥ 1, not {bad}")
    return {limit_name(h): (slots or {}).get(h, HOST_SLOTS) for h in hosts}


def ensure_host_limits(wanted: dict[str, int]) -> None:
    """Create each global concurrency limit, or set it back to its slots (and active). Idempotent."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        for name, limit in wanted.items():
            try:
                current = client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=limit))
                continue
            if current.limit != limit or not current.active:
                client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=limit, active=True))


def ensure_pool(pool: str = POOL) -> None:
    """Create the process work pool with Prefect's default job template, unless it exists."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    template = ProcessWorker.get_default_base_job_template()
    # An existing pool is left as it is: the operator may have tuned it.
    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=pool, type=ProcessWorker.type, base_job_template=template))


def deployments(warehouse: str | None, schedules: bool = True) -> list:
    """The crawl deployment (queue crawl) and the weekly and daily runs (queue build), by module path: every
    worker imports them from the installed creditwatch package, so nothing is uploaded anywhere."""
    from prefect.deployments.runner import EntrypointType
    from prefect.schedules import Cron

    def cron(expression: str) -> Any:
        return Cron(expression, timezone=TIMEZONE) if schedules else None

    params = {"warehouse": warehouse}
    return [
        crawl_source_run.to_deployment(name="crawl", work_queue_name=CRAWL_QUEUE,
                                       entrypoint_type=EntrypointType.MODULE_PATH),
        scale_out_run.to_deployment(name="weekly", work_queue_name=BUILD_QUEUE, schedule=cron(WEEKLY_CRON),
                                    parameters=params, entrypoint_type=EntrypointType.MODULE_PATH),
        scale_out_run.to_deployment(name="daily", work_queue_name=BUILD_QUEUE, schedule=cron(DAILY_CRON),
                                    parameters={**params, "export": False},
                                    entrypoint_type=EntrypointType.MODULE_PATH),
    ]


def deploy(
    warehouse: str | None, pool: str = POOL, slots: dict[str, int] | None = None, schedules: bool = True
) -> dict[str, Any]:
    """Everything the workers need on the Prefect server (PREFECT_API_URL), idempotently: the pool, the host
    limits and the deployments. Returns what was set."""
    if not os.environ.get("PREFECT_API_URL"):
        raise RuntimeError(prefect_env.NO_SERVER)
    limits = host_slots(slots)
    # Absolute: the runs execute in the workers' own working directories.
    warehouse = str(warehouse_path(warehouse).resolve())
    ensure_pool(pool)
    ensure_host_limits(limits)
    # The masking key every crawl worker must hold a copy of (check_masking_key): made now if there is none.
    key = masking_key_file(stages.runs_dir(warehouse) / "run")
    masking_secret(key)
    names = []
    for deployment in deployments(warehouse, schedules=schedules):
        deployment.apply(work_pool_name=pool)
        names.append(f"{deployment.flow_name}/{deployment.name}")
    return {"pool": pool, "warehouse": warehouse, "limits": limits, "deployments": names, "masking_key": str(key)}


def worker_command(pool: str = POOL, build: bool = False, limit: int | None = None,
                   name: str | None = None) -> list[str]:
    """`prefect worker start` for this pool: every worker polls the crawl queue; the one beside the warehouse
    (build=True) polls the build queue too."""
    import sys

    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process",
               "--work-queue", CRAWL_QUEUE]
    if build:
        command += ["--work-queue", BUILD_QUEUE]
    if limit:
        command += ["--limit", str(limit)]
    if name:
        command += ["--name", name]
    return command
