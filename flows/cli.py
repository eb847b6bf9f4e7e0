"""`creditwatch`: the command line, a thin layer over flows.stages (the same code the schedule runs)."""

# Commands import what only they need (Prefect, Scrapy, the replica, the linker) inside the command, so
# `creditwatch --help` and the quick commands start in a fraction of the time.
from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table

from flows import alerts, stages
from spiders.source import sources
from transforms.reporting import LICENCE_WINDOW_DAYS

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Watch China's public credit registries for licensed IDC and cloud operators.",
)
console = Console()
err = Console(stderr=True)
STATE: dict[str, Any] = {"warehouse": None, "debug": False}


@app.callback()
def _global(
    warehouse: Annotated[
        Path | None,
        typer.Option(
            "--warehouse",
            envvar="CREDITWATCH_WAREHOUSE",
            help="The DuckDB warehouse file (default data/creditwatch.duckdb).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    STATE["warehouse"] = str(warehouse) if warehouse else None
    STATE["debug"] = debug


BROWSER_HELP = (
    "Send every request through a real Chromium session (the system browser; needs the "
    "browser extra). Same as CREDITWATCH_BROWSER=1."
)


def _use_browser(browser: bool) -> None:
    # Crawls run in subprocesses (spiders/run.py), which read this from their environment.
    if browser:
        os.environ["CREDITWATCH_BROWSER"] = "1"


INTERRUPTED = ("Interrupted: nothing half-written was kept (the load and rebuild are one transaction); "
               "a crawled run folder stays for `creditwatch load` or the next run.")


def stop_at_once_on_interrupt() -> None:
    """Ctrl-C during `run`: one line and exit 130 within moments. Left to itself, Prefect spends ~80 s
    retrying to report the crash to its ephemeral server, which the same Ctrl-C already stopped. Exiting
    at once is safe: the load and rebuild are one DuckDB transaction (never committed half), the snapshot
    is swapped in atomically, and a crash mid-run is what tests/test_crash_safety.py covers."""

    def stop(signum: int, frame: object) -> None:
        os.write(2, (INTERRUPTED + "\n").encode())
        if os.getpgrp() == os.getpid():  # started as its own job: stop our children (spiders, Prefect) too
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            os.killpg(os.getpgrp(), signal.SIGTERM)
        os._exit(130)

    signal.signal(signal.SIGINT, stop)


def _warehouse() -> str | None:
    return STATE["warehouse"]


def _table(title: str, columns: list[str], rows: list[tuple]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*["" if v is None else str(v) for v in row])
    return table


def _start_replica(port: int = 0, seed: int | None = None, faults: bool = True, browser_session: bool = True) -> Any:
    from replica.server import Faults, Replica
    from replica.sites import browser_session as grant_browser_session
    from replica.world import World

    world = World(seed) if seed is not None else World()
    replica = Replica(world, None if faults else Faults.none(), port=port)
    # Live sites behind a JS firewall (the 公示系统's 加速乐 521, …) answer only once a browser session has passed
    # its check; creditwatch never runs challenge JS. By default the replica acts as if that browser session
    # exists (--no-browser-session shows the real first answer: those sources then end incomplete, "blocked").
    grant_browser_session(replica, browser_session)
    try:
        replica.start()
    except OSError as error:
        raise click.ClickException(
            f"cannot serve the replica on 127.0.0.1:{port}: {error.strerror or error}; "
            "choose another --port or stop what holds it"
        ) from error
    return replica


def _print_summary(result: dict[str, Any], replica: bool) -> None:
    summary = stages.summary(_warehouse())
    manifests = result["manifests"]
    rows = [
        (s, m.items, m.quarantined, "yes" if m.complete else "NO: " + "; ".join(m.incomplete_reasons)[:120])
        for s, m in manifests.items()
    ]
    rows += [(s, "-", "-", f"CRASHED: {why[:120]}") for s, why in result["crashed"].items()]
    console.print(
        _table(
            f"Run {result['run_id']}" + (" (registry replica)" if replica else ""),
            ["source", "records", "quarantined", "complete"],
            rows,
        )
    )
    load = result["load"]
    console.print(
        f"Loaded: {load['new']} new, {load['changed']} changed, {load['removed']} removed, "
        f"{load['quarantined']} quarantined" + ("" if load["loaded"] else " (run was loaded before)")
    )
    links = summary.get("links_by_status", {})
    console.print("Links by status: " + (", ".join(f"{k} {v}" for k, v in links.items()) or "no records to link yet"))
    console.print(
        f"Operators: {summary.get('operators', 0)}; licences expiring within {LICENCE_WINDOW_DAYS} days: "
        f"{summary.get('licences_expiring_in_window', 0)}"
    )
    console.print(
        f"Open records on licensed operators: {summary.get('open_records', 0)}; operators on a "
        f"telecom list: {summary.get('operators_listed', 0)}; removal candidates: "
        f"{summary.get('removal_candidates', 0)}"
    )
    if summary.get("repair_cases"):
        console.print("Repair cases: " + ", ".join(f"{state} {n}" for state, n in summary["repair_cases"].items())
                      + f"; overdue {summary.get('repair_cases_overdue', 0)} (`creditwatch repair list`)")
    console.print(f"Warehouse: {stages.warehouse_path(_warehouse())}")
    exported = [Path(p) for p in result["export"]]
    if exported:
        shown = [p for p in exported if p.suffix in (".xlsx", ".html")]
        console.print(
            f"Export: {exported[0].parent}/ ({len(exported)} files: "
            + ", ".join(p.name for p in shown)
            + ", CSV and Parquet per sheet)"
        )


def _demo_receiver() -> Any:
    from flows.alerts_receiver import Receiver

    return Receiver().start()


def _print_alerts(summary: dict[str, Any], receiver: Any = None) -> None:
    """Per channel: sent, pending, baseline; with the demo's receiver, every message it received."""
    if summary.get("note"):
        console.print(f"Alerts: {summary['note']}.")
        return
    for name, c in summary["channels"].items():
        parts = [f"{c['sent']} events sent in {c['messages']} messages"]
        if c["baseline"]:
            parts.append(f"{c['baseline']} recorded as baseline (the channel's first run: what already "
                         "stood is not sent)")
        if c["pending"]:
            parts.append(f"{c['pending']} pending (see `creditwatch alerts list --pending`)")
        console.print(f"Alerts → {name}: " + "; ".join(parts), highlight=False)
        for error in c["errors"]:
            err.print(f"  {error}", highlight=False, markup=False, soft_wrap=True)
    for message in receiver.received if receiver else []:
        body = message.body if isinstance(message.body, dict) else {"message": str(message.body)}
        console.print(f"\n── received by the demo channel ({receiver.url}{message.path}) ──", highlight=False,
                      markup=False)
        console.print(body.get("title", ""), highlight=False, markup=False)
        console.print(body.get("message", ""), highlight=False, markup=False)


@app.command()
def run(
    demo: Annotated[
        bool, typer.Option("--demo", help="Run on the registry replica (127.0.0.1 only), no live site.")
    ] = False,
    source: Annotated[list[str] | None, typer.Option("--source", "-s", help="Only these sources (repeatable).")] = None,
    as_of: Annotated[
        str | None, typer.Option(help="Date the marts are computed for (YYYY-MM-DD; default today).")
    ] = None,
    export_dir: Annotated[Path, typer.Option(help="Exports go to EXPORT_DIR/<ISO week>/.")] = Path("exports"),
    lang: Annotated[str, typer.Option(help="Export headers: zh or en.")] = "zh",
    faults: Annotated[bool, typer.Option(help="With --demo: the replica injects its faults.")] = True,
    browser_session: Annotated[
        bool, typer.Option(help="With --demo: act as if a browser session passed the 公示系统 firewall (加速乐 521).")
    ] = True,
    replica_week: Annotated[
        int, typer.Option(help="With --demo: the week of the replica's world to serve (1 = a week later).")
    ] = 0,
    browser: Annotated[bool, typer.Option("--browser", help=BROWSER_HELP)] = False,
    alerts_file: Annotated[
        Path | None,
        typer.Option("--alerts", help="alerts.yaml to send alerts with (default: $CREDITWATCH_ALERTS, else "
                     "./alerts.yaml; with --demo: a local receiver the demo starts)."),
    ] = None,
) -> None:
    """Run the whole pipeline: crawl → load → link → transform → export → alerts, as the weekly flow."""
    stop_at_once_on_interrupt()
    _use_browser(browser)
    sources = stages.check_sources(source)
    day = date.fromisoformat(as_of) if as_of else None
    from flows import prefect_env

    prefect_env.configure(stages.data_dir(_warehouse()))
    from flows.monitoring import monitoring_run

    replica = _start_replica(faults=faults, browser_session=browser_session) if demo else None
    if replica:
        replica.epoch = replica_week
    receiver = _demo_receiver() if demo and alerts_file is None else None
    if receiver:
        alerts_file = alerts.write_demo_config(stages.data_dir(_warehouse()) / "demo_alerts.yaml", receiver.url)
    started = time.perf_counter()
    try:
        with console.status("Running the weekly monitoring flow…"):
            result = monitoring_run(
                sources=sources,
                warehouse=_warehouse(),
                replica_url=replica.base_url if replica else None,
                solver="replica" if replica else None,
                export_root=str(export_dir),
                as_of=day,
                lang=lang,
                alerts_config=str(alerts_file) if alerts_file else None,
            )
        if replica:
            # The demo pretends the compliance team recorded some paid fines, so removal candidates show.
            from replica.demo import compliance_facts_csv

            facts_file = compliance_facts_csv(replica.world, stages.data_dir(_warehouse()) / "demo_facts.csv")
            stages.record_facts(_warehouse(), facts_file, "demo", as_of=day)
            result["export"] = stages.export(_warehouse(), export_dir, week=result["week"], lang=lang)["files"]
    finally:
        if replica:
            replica.stop()
        if receiver:
            receiver.stop()
    _print_summary(result, replica is not None)
    _print_alerts(result["alerts"], receiver)
    console.print(f"Finished in {time.perf_counter() - started:.1f} s.")
    if result["crashed"]:
        raise typer.Exit(1)


@app.command()
def crawl(
    sources: Annotated[list[str], typer.Argument(help="Source names (see `creditwatch status`).")],
    replica_url: Annotated[str | None, typer.Option(help="Crawl the registry replica at this URL.")] = None,
    solver: Annotated[str | None, typer.Option(help="Captcha solver: none, prompt or replica.")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Run folder (default: a new one under data/runs).")] = None,
    browser: Annotated[bool, typer.Option("--browser", help=BROWSER_HELP)] = False,
) -> None:
    """Crawl sources into a run folder (not loaded; see `creditwatch load`). Exit 1 when a source crashed or
    ended incomplete (a site that does not answer, a blocked page …)."""
    _use_browser(browser)
    sources = stages.check_sources(sources)
    folder = run_dir or stages.runs_dir(_warehouse()) / stages.new_run_id()
    failed = False
    for source in sources:
        with console.status(f"Crawling {source}…"):
            try:
                manifest = stages.crawl_source(source, folder, replica_url=replica_url, solver=solver)
            except stages.CrawlError as error:
                err.print(f"[red]{error}[/red]")
                failed = True
                continue
        state = "complete" if manifest.complete else "INCOMPLETE: " + "; ".join(manifest.incomplete_reasons)
        console.print(f"{source}: {manifest.items} records, {manifest.quarantined} quarantined, {state}")
        failed = failed or not manifest.complete  # e.g. the site (or --replica-url) did not answer
    console.print(f"Run folder: {folder}")
    if failed:
        raise typer.Exit(1)


@app.command()
def load(
    run_dir: Annotated[Path | None, typer.Argument(help="Run folder (default: the newest).")] = None,
    as_of: Annotated[str | None, typer.Option(help="Date the marts are rebuilt for (YYYY-MM-DD; default today).")]
    = None,
) -> None:
    """Load a crawl run folder and rebuild the models with the data tests, as a run does (one transaction:
    a folder that fails a data test changes nothing; loading it again changes nothing)."""
    folder = run_dir or stages.latest_run_dir(_warehouse())
    result = stages.load_and_build(_warehouse(), folder, as_of=date.fromisoformat(as_of) if as_of else None)["load"]
    if not result["loaded"]:
        console.print(f"Run {result['run_id']} was loaded before: nothing changed.")
        return
    console.print(
        f"Loaded {result['run_id']}: {result['new']} new, {result['changed']} changed, "
        f"{result['removed']} removed, {result['quarantined']} quarantined; models rebuilt, data tests passed."
    )


@app.command()
def link(
    operators: Annotated[
        Path | None, typer.Option(help="Screening file mode: OPS.csv (operator_id,name,uscc,aliases).")
    ] = None,
    records: Annotated[Path | None, typer.Option(help="Screening file mode: RECS.csv (record_id,name,uscc).")] = None,
    out: Annotated[Path | None, typer.Option(help="Screening file mode: LINKS.csv to write.")] = None,
) -> None:
    """Link records to licensed operators: in the warehouse, or between two CSV files."""
    if operators or records or out:
        if not (operators and records and out):
            raise click.UsageError("file mode needs all of --operators, --records and --out")
        from transforms.link import link_csv_files

        counts = link_csv_files(operators, records, out)
        console.print(f"Wrote {out}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return
    result = stages.transform(_warehouse(), targets=["core.record_links"])
    console.print(f"Linked {result['rows'].get('core.record_links', 0)} records.")


@app.command()
def transform(
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
    full: Annotated[bool, typer.Option("--full", help="From scratch: forget the linker's decided pairs.")] = False,
) -> None:
    """Rebuild staging, core and marts and run the data tests (all or nothing)."""
    result = stages.transform(_warehouse(), as_of=date.fromisoformat(as_of) if as_of else None, full=full)
    rows = [(name, result["rows"][name], f"{result['seconds'][name]:.2f}") for name in result["built"]]
    console.print(_table("Models built", ["model", "rows", "seconds"], rows))


def _iso_date_option(value: str | None) -> date | None:
    """Typer callback: an ISO date, or a usage error that names the option and the value."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint="'--as-of'") from None


@app.command()
def removal(
    records: Annotated[Path, typer.Option("--records", help="CASES.csv (see README: removal file interface).")],
    out: Annotated[Path, typer.Option("--out", help="OUT.csv to write (replaced only when complete).")],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today).", callback=_iso_date_option)
    ] = None,
) -> None:
    """When may each record stop being displayed? Applies the removal rules to a file of cases.

    Writes record_id, status, early_removal_from, auto_removal_on, display_until, escalation_on,
    removal_deadline, rule_id, basis, confidence, the alternative reading (alt_*) and reason. The cases file
    may be UTF-8 or GB18030/GBK and of any size (read in batches). Invalid rows are reported one per line
    (exit 1); every other row is still answered."""
    from transforms.removal import removal_csv
    from transforms.removal.csv_io import same_file

    if not records.is_file():
        raise click.BadParameter(f"{records} is not a file", param_hint="'--records'")
    if same_file(records, out):
        raise click.BadParameter(f"{out} is the --records file itself; choose another file", param_hint="'--out'")
    day: date = as_of or date.today()  # type: ignore[assignment]  (the callback made it a date)
    result = removal_csv(records, day, out)
    console.print(
        f"Wrote {out}: {result.answered} of {result.rows} rows answered"
        + (f", {result.unknown} of them unknown (a needed field is empty: see the reason column)" if result.unknown
           else "")
        + (f"; {len(result.errors)} rows refused" if result.errors else "")
        + ("" if result.encoding == "utf-8-sig" else f" (read as {result.encoding.upper()})") + "."
    )
    for error in result.errors:
        err.print(f"{records}: {error}", highlight=False, soft_wrap=True, markup=False)
    if result.errors:
        raise typer.Exit(1)


@app.command()
def ingest(
    source: Annotated[str, typer.Argument(
        help="The source the file stands in for: one whose source.yml lists the file format under `files`.")],
    file: Annotated[Path, typer.Argument(help="A 双公示 行政处罚 file (CSV or XLSX, official Chinese headers).")],
) -> None:
    """Feed a source from a file (an official bulk export) instead of crawling it; then load and rebuild.

    Records missing from a file are never marked removed: a file covers only what it holds."""
    result = stages.ingest(_warehouse(), source, file)
    manifest = result["manifest"]
    console.print(
        f"{source} from {file}: {manifest.items} records, {manifest.quarantined} quarantined, "
        f"{manifest.duplicates_dropped} duplicate rows; loaded {result['load']['new']} new, "
        f"{result['load']['changed']} changed."
    )


@app.command()
def facts(
    file: Annotated[Path, typer.Argument(help="CSV: reference,obligations_done_date,corrected_date,note (UTF-8).")],
    by: Annotated[str, typer.Option(help="Who records these facts (kept with each row).")] = os.environ.get(
        "USER", "unknown"
    ),
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD for the rebuild (default today).")] = None,
) -> None:
    """Record what no registry publishes (a fine paid, a cause corrected), then rebuild the marts.

    `reference` is a record id or the registry's own key (decision number, case code). One bad row
    refuses the whole file, naming the line."""
    result = stages.record_facts(_warehouse(), file, by, as_of=date.fromisoformat(as_of) if as_of else None)
    console.print(f"Recorded {result['imported']} facts; marts rebuilt.")


review_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="The link review queue: analysts' decisions win over the linker on every rebuild.",
)
app.add_typer(review_app, name="review")
RecordArg = Annotated[str, typer.Argument(help="A record id, or its decision number / case code.")]
ByOption = Annotated[str, typer.Option("--by", help="Who decides (kept with the judgement).")]
NoteOption = Annotated[str | None, typer.Option(help="Why (kept with the judgement).")]


def _judge(record: str, operator: str | None, judgement: str, by: str, note: str | None) -> None:
    result = stages.judge_link(_warehouse(), record, operator, judgement, by, note)
    console.print(
        f"{result['judgement']}: record {result['record_id']} ↔ operator {result['operator_id']}; "
        "links and marts rebuilt."
    )


@review_app.command("list")
def review_list(limit: Annotated[int, typer.Option(help="Rows to show.")] = 50) -> None:
    """Links waiting for a person: the record, the best candidate operator, score and why."""
    table = stages.review_queue(_warehouse(), limit)
    console.print(_table("Links to review", table.columns, table.rows))


@review_app.command("accept")
def review_accept(
    record: RecordArg,
    by: ByOption = os.environ.get("USER", "analyst"),
    operator: Annotated[str | None, typer.Option(help="Default: the linker's candidate.")] = None,
    note: NoteOption = None,
) -> None:
    """The record belongs to the candidate operator (a positive judgement)."""
    _judge(record, operator, "positive", by, note)


@review_app.command("reject")
def review_reject(
    record: RecordArg,
    by: ByOption = os.environ.get("USER", "analyst"),
    operator: Annotated[str | None, typer.Option(help="Default: the linker's candidate.")] = None,
    note: NoteOption = None,
) -> None:
    """The record does NOT belong to that operator (a negative judgement): never linked to it again."""
    _judge(record, operator, "negative", by, note)


@review_app.command("link")
def review_link(
    record: RecordArg,
    operator: Annotated[str, typer.Argument(help="The operator id (its USCC).")],
    by: ByOption = os.environ.get("USER", "analyst"),
    note: NoteOption = None,
) -> None:
    """Link the record to an operator the linker did not propose."""
    _judge(record, operator, "positive", by, note)


@app.command()
def export(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: the marts' as-of week).")] = None,
    watchlist: Annotated[
        Path | None,
        typer.Option(help="CSV name,uscc of your group companies: the export covers exactly their records."),
    ] = None,
    lang: Annotated[str, typer.Option(help="Headers and labels: zh or en.")] = "zh",
    out: Annotated[Path, typer.Option(help="Exports go to OUT/<ISO week>/.")] = Path("exports"),
) -> None:
    """Write the weekly risk export: XLSX workbook, CSV (UTF-8 with BOM) and Parquet per sheet, HTML report."""
    result = stages.export(_warehouse(), out, week=week, lang=lang, watchlist=watchlist)
    console.print(
        f"Export for {result['week']} in {result['dir']}: " + ", ".join(f"{k} {v}" for k, v in result["rows"].items())
    )
    for entry in result["unmatched"]:
        err.print(f"watchlist {entry}: matched no record or licence", highlight=False, soft_wrap=True)


@app.command()
def replica(
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0 = any free port).")] = 8321,
    seed: Annotated[int | None, typer.Option(help="World seed (same seed, same registry data).")] = None,
    faults: Annotated[bool, typer.Option(help="Inject the registries' faults at small rates.")] = True,
    browser_session: Annotated[
        bool, typer.Option(help="Act as if a browser session passed the sites' JS firewalls (else e.g. the "
                                "公示系统 answers 521).")
    ] = True,
) -> None:
    """Serve the registry replica on 127.0.0.1 in the foreground (Ctrl-C stops it)."""
    server = _start_replica(port, seed, faults, browser_session)
    console.print(
        f"Registry replica on {server.base_url} (sites under /<real host>/: "
        f"{', '.join(server.site_url(s.host) for s in sources().values())}). Ctrl-C stops it."
    )
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SQL query on the snapshot: read-only, no file access.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print rows as JSON lines.")] = False,
    live: Annotated[bool, typer.Option("--live", help="Read the warehouse file, not the published snapshot.")] = False,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Write the rows to FILE.parquet or FILE.csv (the CLI writes it, atomically)."),
    ] = None,
) -> None:
    """Run a query against the published snapshot (or the live warehouse) and print or extract the result.

    The file is opened read-only and DuckDB's file access is off: a query can read every schema, but
    cannot write or read other files (COPY … TO, read_csv, ATTACH), install or load extensions, or
    change settings. Use --to for an extract."""
    from flows.extract import check_target, write_extract
    from warehouse.snapshot import analyst_connection, reader_path, snapshot_path

    if to is not None:
        check_target(to, [stages.warehouse_path(_warehouse()), snapshot_path(_warehouse())])
    con = analyst_connection(reader_path(_warehouse(), live=live))
    try:
        relation = con.sql(query)
        if relation is None:
            console.print("OK")
            return
        if to is not None:
            console.print(f"Wrote {write_extract(relation, to)} rows to {to}")
            return
        columns, rows = relation.columns, relation.fetchall()
    finally:
        con.close()
    if as_json:
        for row in rows:
            print(json.dumps(dict(zip(columns, row, strict=True)), ensure_ascii=False, default=str))
        return
    console.print(_table("", columns, rows))
    console.print(f"{len(rows)} rows")


@app.command()
def status() -> None:
    """Last runs, per-source completeness and row counts (from the published snapshot)."""
    console.print("Sources: " + ", ".join(stages.source_names()))
    for table in stages.status_tables(_warehouse()):
        console.print(_table(table.title, table.columns, table.rows))


@app.command()
def doctor() -> None:
    """Check the warehouse (schema, duplicate keys, orphan links, stale snapshot, unloaded runs,
    incomplete sources, quarantine growth, data tests on a trial rebuild) and say what to do. Exit 1 on any
    error."""
    findings = stages.doctor(_warehouse())
    colour = {"ok": "green", "warn": "yellow", "error": "red"}
    rows = [(f"[{colour[f.level]}]{f.level}[/]", f.check, f.message, f.fix or "") for f in findings]
    console.print(_table("Doctor", ["level", "check", "finding", "what to do"], rows))
    if any(f.level == "error" for f in findings):
        raise typer.Exit(1)


@app.command()
def purge(
    retention_days: Annotated[int, typer.Option(help="Keep personal data this many days after display ends.")] = 180,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Report what would go; change nothing.")] = False,
    as_of: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default today).")] = None,
) -> None:
    """Delete personal data past its retention (PIPL): records naming individuals whose display ended, and
    old run folders with their evidence archive. Audited in ops.audit."""
    report = stages.purge(
        _warehouse(),
        as_of=date.fromisoformat(as_of) if as_of else date.today(),
        retention_days=retention_days,
        dry_run=dry_run,
    )
    verb = "Would delete" if dry_run else "Deleted"
    console.print(
        f"{verb}: {len(report.record_ids)} records naming individuals (display ended before "
        f"{report.cutoff}), {report.versions} versions, {report.quarantine_rows} quarantine rows, "
        f"{len(report.run_folders)} run folders ({report.run_folder_bytes / 1e6:.1f} MB)."
    )


@app.command()
def backup(out: Annotated[Path, typer.Argument(help="A file, or a folder to put a dated copy in.")]) -> None:
    """Write a consistent copy of the warehouse (audited)."""
    from warehouse.maintenance import backup as run_backup

    console.print(f"Backed up to {run_backup(_warehouse(), out)}")


@app.command()
def restore(file: Annotated[Path, typer.Argument(help="A backup written by `creditwatch backup`.")]) -> None:
    """Replace the warehouse with a verified backup (the current file is kept as <name>.before-restore-<time>).

    The backup is checked first (opens, every table reads back, schema version, the doctor's integrity
    checks); a backup that fails leaves the warehouse byte-identical."""
    from warehouse.maintenance import restore as run_restore

    kept = run_restore(file, _warehouse())
    console.print(
        f"Restored {file}" + (f"; the previous warehouse is kept as {kept}" if kept else "") + ". "
        "Run `creditwatch purge` again: data purged after the backup came back with it."
    )


@app.command()
def serve() -> None:
    """Run the weekly and daily deployments on their schedules, in the foreground."""
    from flows.serve import serve_forever

    serve_forever(stages.data_dir(_warehouse()), _warehouse())


def _prefect_server() -> None:
    """The scale-out commands talk to one shared Prefect server, never an ephemeral one."""
    from flows import prefect_env

    if not os.environ.get("PREFECT_API_URL"):
        raise click.UsageError(prefect_env.NO_SERVER)
    prefect_env.configure(stages.data_dir(_warehouse()))


@app.command()
def deploy(
    slots: Annotated[
        list[str] | None,
        typer.Option("--slots", help="HOST=N: crawlers a registry host may see at once (default 1; repeatable)."),
    ] = None,
    pool: Annotated[str, typer.Option(help="The Prefect process work pool.")] = "creditwatch",
    schedules: Annotated[bool, typer.Option(help="Put the weekly and daily schedules on the runs.")] = True,
) -> None:
    """Set up crawling over Prefect workers on the server at PREFECT_API_URL (idempotent): the work pool, one
    global concurrency limit per registry host, the crawl deployment and the weekly and daily runs."""
    wanted: dict[str, int] = {}
    for pair in slots or []:
        host, _, n = pair.partition("=")
        if not n.isdigit() or int(n) < 1:
            raise typer.BadParameter(f"{pair!r} is not HOST=N with N ≥ 1", param_hint="--slots")
        wanted[host] = int(n)
    _prefect_server()
    from flows.scale_out import deploy as deploy_all

    done = deploy_all(_warehouse(), pool=pool, slots=wanted, schedules=schedules)
    console.print(f"Work pool {done['pool']}; deployments: {', '.join(done['deployments'])}.")
    console.print(_table("Host limits", ["limit", "slots"], sorted(done["limits"].items())))
    console.print(f"Copy {done['masking_key']} to the same path on every crawl worker (owner-only).")


@app.command()
def worker(
    build: Annotated[
        bool,
        typer.Option("--build", help="Also take the runs' load and build: only on the machine with the warehouse."),
    ] = False,
    pool: Annotated[str, typer.Option(help="The Prefect process work pool.")] = "creditwatch",
    limit: Annotated[int | None, typer.Option(help="Flow runs this worker runs at once (default: no limit).")] = None,
    name: Annotated[str | None, typer.Option(help="The worker's name in Prefect (default: generated).")] = None,
) -> None:
    """Start a Prefect worker for the pool (foreground), against the server at PREFECT_API_URL."""
    _prefect_server()
    if _warehouse():  # the runs this worker takes read the same warehouse setting
        os.environ["CREDITWATCH_WAREHOUSE"] = str(_warehouse())
    from flows.scale_out import worker_command

    command = worker_command(pool=pool, build=build, limit=limit, name=name)
    os.execv(command[0], command)


alerts_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Alerts: what changed for your watchlists, to chat bots and e-mail, each event once per channel.",
)
app.add_typer(alerts_app, name="alerts")
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="alerts.yaml (default: $CREDITWATCH_ALERTS, else ./alerts.yaml).")
]


@alerts_app.command("list")
def alerts_list(
    pending: Annotated[bool, typer.Option("--pending", help="Only events not delivered yet.")] = False,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 100,
) -> None:
    """The outbox, newest first: each event, the channel, its status, attempts and the last error."""
    rows = alerts.list_outbox(_warehouse(), pending_only=pending, channel=channel, limit=limit)
    shown = [(r.created_at.strftime("%Y-%m-%d %H:%M"), r.channel, r.kind, r.company, r.status, r.attempts, r.error,
              r.event_key) for r in rows]
    columns = ["created", "channel", "kind", "company", "status", "attempts", "last error", "event key"]
    console.print(_table("Pending alerts" if pending else "Alerts", columns, shown))
    console.print(f"{len(rows)} rows")


@alerts_app.command("send")
def alerts_send(
    config: ConfigOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the digests; send and record nothing.")] = False,
) -> None:
    """Compute the events now, queue the new ones and send everything pending (what every run does)."""
    if dry_run:
        result = alerts.preview(_warehouse(), config)
        for channel in result.channels:
            if channel.baseline:
                console.print(f"{channel.channel}: first run of this channel, {channel.baseline} standing events "
                              "would be recorded as baseline (not sent)")
            for message in channel.messages:
                text = message.body if message.body.startswith(message.title) else f"{message.title}\n{message.body}"
                console.print(f"\n── {channel.channel} ──\n{text}", highlight=False, markup=False)
        if not any(c.messages or c.baseline for c in result.channels):
            console.print(result.note or "Nothing to send.")
        return
    result = alerts.run_alerts(_warehouse(), config)
    _print_alerts(result.summary())
    if any(c.pending for c in result.channels):
        raise typer.Exit(1)


@alerts_app.command("test")
def alerts_test(
    channel: Annotated[str, typer.Argument(help="A channel name from alerts.yaml.")],
    config: ConfigOption = None,
) -> None:
    """Send a sample digest (one plainly marked test event) to one channel; nothing is recorded."""
    message = alerts.send_test(config, channel)
    console.print(f"Sent a test message to {channel} ({len(message.body)} characters).")


@alerts_app.command("check")
def alerts_check(config: ConfigOption = None) -> None:
    """Check alerts.yaml and say whether each channel's secrets are set (values are never shown)."""
    cfg, secrets = alerts.secret_status(config)
    console.print(f"{cfg.path}: {len(cfg.channels)} channels, {len(cfg.watchlists)} watchlists"
                  + (", operations route" if cfg.operations else ""), highlight=False)
    rows = [(w.name, "all licensed operators" if w.all_licensed else
             f"group {w.group.trade_name or ''} (+{len(w.group.members)} members)" if w.group else
             f"file, {len(w.entries or ())} entries", ", ".join(w.channels), w.min_severity,
             ", ".join(sorted(w.kinds)) if w.kinds else "all") for w in cfg.watchlists]
    console.print(_table("Watchlists", ["name", "scope", "channels", "min severity", "kinds"], rows))
    console.print(_table("Channel secrets", ["channel", "placeholder", "status"], secrets))
    if any(status == "NOT SET" for _, _, status in secrets):
        raise typer.Exit(1)


repair_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Credit-repair cases (信用修复): open one for a removal candidate, record its submission and outcome; "
    "the run verifies the removal.",
)
app.add_typer(repair_app, name="repair")
CaseArg = Annotated[str, typer.Argument(help="The case id (RC-0001, …; see `creditwatch repair list`).")]
OnOption = Annotated[str, typer.Option("--on", help="The day it happened (YYYY-MM-DD).")]


def _on(value: str, option: str = "--on") -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=f"'{option}'") from None


def _case_line(case: Any) -> str:
    return f"{case.case_id}: {case.state}" + (f" (platform {case.platform})" if case.platform else "")


@repair_app.command("open")
def repair_open(
    record: Annotated[str, typer.Argument(help="A removal candidate: its record id or the reference in 可申请修复.")],
    export_dir: Annotated[Path, typer.Option(help="Packs go to EXPORT_DIR/repair/<case>/.")] = Path("exports"),
) -> None:
    """Open a case for a removal candidate and write its application pack (申请书, 承诺书, 材料清单)."""
    from flows import repair

    opened = repair.open_case(_warehouse(), record, export_dir / "repair")
    console.print(f"Opened {opened.case.case_id} for record {opened.case.record_id}; pack in {opened.pack.folder}/",
                  highlight=False)
    if opened.pack.where_to_apply:
        console.print(f"Apply at: {opened.pack.where_to_apply}", highlight=False)
    if opened.pack.missing:
        console.print("Left blank (not in the warehouse; fill in by hand): " + "、".join(opened.pack.missing),
                      highlight=False)


@repair_app.command("pack")
def repair_pack(
    case: CaseArg,
    export_dir: Annotated[Path, typer.Option(help="Packs go to EXPORT_DIR/repair/<case>/.")] = Path("exports"),
) -> None:
    """Write the case's application pack again (e.g. after `creditwatch facts` recorded the payment)."""
    from flows import repair

    pack = repair.write_case_pack(_warehouse(), case, export_dir / "repair")
    console.print(f"Pack written to {pack.folder}/; left blank: " + ("、".join(pack.missing) or "nothing"),
                  highlight=False)


@repair_app.command("submit")
def repair_submit(
    case: CaseArg,
    on: OnOption,
    platform: Annotated[str, typer.Option("--platform", help="Where: creditchina, gsxt, miit or court.")],
    receipt: Annotated[str | None, typer.Option("--receipt", help="The platform's receipt / 受理编号.")] = None,
) -> None:
    """Record that the application was submitted (the handling-time clock starts)."""
    from flows import repair

    console.print(_case_line(repair.submit(_warehouse(), case, _on(on), platform, receipt)), highlight=False)


@repair_app.command("outcome")
def repair_outcome(
    case: CaseArg,
    result: Annotated[str, typer.Argument(help="accepted or rejected.")],
    on: OnOption,
    reason: Annotated[str | None, typer.Option("--reason", help="The platform's reason (for a rejection).")] = None,
) -> None:
    """Record the platform's decision; after acceptance the next complete crawl verifies the removal."""
    from flows import repair

    console.print(_case_line(repair.outcome(_warehouse(), case, result, _on(on), reason)), highlight=False)


@repair_app.command("note")
def repair_note(case: CaseArg, text: Annotated[str, typer.Argument(help="The note.")]) -> None:
    """Add a note to the case's history (its state does not change)."""
    from flows import repair

    console.print(_case_line(repair.note(_warehouse(), case, text)) + ": note added", highlight=False)


@repair_app.command("list")
def repair_list(
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past their deadline.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default today).")] = None,
) -> None:
    """Every case with its state, deadline (working days on the official calendar) and days open."""
    from flows import repair

    rows = repair.list_cases(_warehouse(), _on(as_of, "--as-of") if as_of else None, overdue_only=overdue)
    columns = ["case", "state", "operator", "reference", "platform", "submitted", "deadline", "days left",
               "overdue", "days open", "verified"]
    shown = [(r["case_id"], r["state"], r["operator_name"], r["reference"], r["platform"], r["submitted_on"],
              r["deadline"] or r["deadline_note"], r["days_to_deadline"], "OVERDUE" if r["overdue"] else "",
              r["days_open"], r["verified_on"]) for r in rows]
    table = Table(title="Overdue repair cases" if overdue else "Repair cases", title_justify="left")
    for column in columns:  # wrapped, never cut: a case id or a date must be read whole
        table.add_column(column, overflow="fold", no_wrap=column == "case", min_width=7 if column == "case" else None)
    for row in shown:
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
    console.print(f"{len(rows)} cases")


def main() -> None:
    """Entry point: one clear line and a non-zero exit on errors; tracebacks only with --debug."""
    debug = "--debug" in sys.argv
    try:
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except click.exceptions.Exit as done:
        sys.exit(done.exit_code)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("Interrupted.")
        sys.exit(130)
    except Exception as error:  # noqa: BLE001 — the CLI's one place that turns errors into a line
        if debug or os.environ.get("CREDITWATCH_DEBUG"):
            raise
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
