"""The Prefect flow: `monitoring_run` runs crawl (a task per source) → load and transform (one
transaction, then the readers' snapshot is republished) → export → alerts (flows/alerts.py).

Orchestration only: every task calls a stage function from flows.stages. Network stages (crawls)
retry with backoff; the others do not (a retry would not fix them, and they are transactional).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows import alerts, stages
from transforms.reporting import iso_week


@task(name="crawl", retries=2, retry_delay_seconds=[10, 60], task_run_name="crawl-{source}")
def crawl_task(
    source: str, run_dir: str, replica_url: str | None, solver: str | None, spider_args: dict[str, str] | None = None
) -> dict[str, Any]:
    return stages.crawl_source(source, Path(run_dir), replica_url=replica_url, solver=solver, spider_args=spider_args)


@task(name="load-and-transform")
def load_and_build_task(warehouse: str | None, run_dir: str, as_of: date | None) -> dict[str, Any]:
    """Load the run and rebuild every model (the linker included) in one transaction; publish the snapshot."""
    return stages.load_and_build(warehouse, Path(run_dir), as_of=as_of)


@task(name="export")
def export_task(warehouse: str | None, export_root: str, week: str, lang: str) -> dict[str, Any]:
    return stages.export(warehouse, Path(export_root), week=week, lang=lang)


@task(name="alerts")
def alerts_task(
    warehouse: str | None, config: str | None, run_id: str, failures: list[alerts.RunFailure]
) -> dict[str, Any]:
    """Events from history → outbox → digests; a failed send stays pending for the next run."""
    result = alerts.run_alerts(warehouse, config, run_id=run_id, failures=failures)
    logger = get_run_logger()
    for channel in result.channels:
        for error in channel.errors:
            logger.warning("alert channel %s: %s", channel.channel, error)
    return result.summary()


@flow(name="monitoring_run", log_prints=False)
def monitoring_run(
    sources: list[str] | None = None,
    warehouse: str | None = None,
    replica_url: str | None = None,
    solver: str | None = None,
    export_root: str = "exports",
    as_of: date | None = None,
    lang: str = "zh",
    spider_args: dict[str, dict[str, str]] | None = None,
    export: bool = True,
    alerts_config: str | None = None,
) -> dict[str, Any]:
    """Crawl every source into a new run folder, load it, rebuild the marts and (unless `export` is
    False, as in the daily run) write this week's export to exports/<ISO week>/; then send the alerts
    (`alerts_config`, else $CREDITWATCH_ALERTS, else ./alerts.yaml; none: alerts off)."""
    logger = get_run_logger()
    sources = stages.check_sources(sources)
    run_id = stages.new_run_id()
    run_dir = stages.runs_dir(warehouse) / run_id
    futures = {s: crawl_task.submit(s, str(run_dir), replica_url, solver, (spider_args or {}).get(s)) for s in sources}
    manifests, crashed = {}, {}
    for source, future in futures.items():
        try:
            manifests[source] = future.result()
        except Exception as error:  # noqa: BLE001 — a crashed source is recorded, the others go on
            crashed[source] = str(error)
            logger.error("crawl of %s failed: %s", source, error)
    # Alerts: a crashed crawl or a stage that raises is a failed run; the operator hears of it either way.
    failures = [alerts.RunFailure("crawl", why, source) for source, why in crashed.items()]
    week = iso_week(as_of or date.today())
    stage = "load-and-transform"
    try:
        published = load_and_build_task(warehouse, str(run_dir), as_of)
        stage = "export"
        exported = export_task(warehouse, export_root, week, lang) if export else {"files": []}
    except Exception as error:
        try:
            alerts_task(warehouse, alerts_config, run_id, [*failures, alerts.RunFailure(stage, str(error))])
        except Exception as alert_error:  # noqa: BLE001 — the run's own error is the one to raise
            logger.error("alerts after the failed run could not be sent: %s", alert_error)
        raise
    sent = alerts_task(warehouse, alerts_config, run_id, failures)
    files = exported["files"]
    post_run_artifacts(warehouse, run_id, week, manifests, crashed, files)
    return {
        "run_id": run_id,
        "run_dir": str(run_dir),
        "manifests": manifests,
        "crashed": crashed,
        "load": published["load"],
        "build": published["build"],
        "export": files,
        "week": week,
        "alerts": sent,
    }


def post_run_artifacts(
    warehouse: str | None, run_id: str, week: str, manifests: dict[str, Any], crashed: dict[str, str], files: list[str]
) -> None:
    """A markdown summary and a table of the riskiest operators, shown on the flow run in Prefect's UI."""
    summary = stages.summary(warehouse)
    lines = [
        f"# creditwatch {week} — run {run_id}",
        "",
        "| source | records | quarantined | complete |",
        "|---|---|---|---|",
    ]
    for source, m in manifests.items():
        state = "yes" if m.complete else "NO: " + "; ".join(m.incomplete_reasons)[:200]
        lines.append(f"| {source} | {m.items} | {m.quarantined} | {state} |")
    lines += [f"| {source} | - | - | CRASHED: {why[:200]} |" for source, why in crashed.items()]
    lines += [
        "",
        f"- open records on licensed operators: {summary.get('open_records', 0)}",
        f"- operators on a telecom list: {summary.get('operators_listed', 0)}",
        f"- removal candidates: {summary.get('removal_candidates', 0)}",
        f"- links: {summary.get('links_by_status', {})}",
        "",
        *[f"- export: `{f}`" for f in files],
    ]
    create_markdown_artifact(key="weekly-summary", markdown="\n".join(lines), description=f"creditwatch {week}")
    create_table_artifact(
        key="operator-risk",
        table=stages.top_risks(warehouse),
        description="Operators with open records, riskiest first",
    )
