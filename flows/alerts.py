"""Sending alerts (发送提醒) at the end of every run: events → outbox → one digest per channel, via Apprise.

1. The run's failures, if any, are recorded (ops.run_failures) so the run_failed event sees them.
2. Events are computed from the warehouse's history (transforms.alerts.events) and routed to channels
   (transforms.alerts.routing).
3. Each new (event, channel) pair goes into ops.alert_outbox as `pending`, once: its key is the primary key.
   A channel evaluated for the first time records what already stands as `baseline` instead (never sent).
4. Per channel, every pending event goes into one digest (split to the platform's limit); for each
   message: attempts+1 is committed, the message is sent, then `sent` (or the error) is committed.
   A failed send stays pending and is retried by the next run. A crash between sending and recording
   leaves it pending too: the next run sends it again — at most one duplicate, with the same event keys.

Channel URLs are templates (alerts.yaml): ${NAME} from the environment, ${secret:NAME} from a Prefect
Secret block, filled in here, just before sending; secret values are scrubbed from every error kept.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import apprise
import duckdb
import pyarrow as pa

from transforms.alerts.config import (
    ENV_NAME,
    PLACEHOLDER,
    SECRET_NAME,
    AlertsConfig,
    AlertsConfigError,
    Channel,
    load_config,
    sample_plugin,
)
from transforms.alerts.digest import (
    TEST_KIND_LABEL,
    DigestError,
    Limit,
    Message,
    build_digest,
    channel_limit,
    sample_event,
)
from transforms.alerts.events import SEVERITIES, Event, compute_events, sort_events
from transforms.alerts.routing import Delivery, route, scope_text
from warehouse.db import WarehouseError, connect, pause_point, transaction, warehouse_path
from warehouse.maintenance import Finding

CONFIG_ENV = "CREDITWATCH_ALERTS"
DEFAULT_CONFIG = Path("alerts.yaml")
CHINA = ZoneInfo("Asia/Shanghai")
NOTIFY_TYPES = {"info": apprise.NotifyType.INFO, "warning": apprise.NotifyType.WARNING,
                "critical": apprise.NotifyType.FAILURE}
log = logging.getLogger(__name__)


class ChannelSecretError(RuntimeError):
    """A channel's secret cannot be found; the message names the channel and the variable or block."""


@dataclass(frozen=True)
class RunFailure:
    """Something that failed in a run: a crawl that crashed, or a stage that raised."""

    stage: str  # crawl / load-and-transform / export
    error: str
    source: str | None = None


@dataclass
class ChannelResult:
    channel: str
    baseline: int = 0  # first evaluation: events recorded as already standing, not sent
    queued: int = 0  # new (event, channel) pairs this run
    sent: int = 0  # events delivered this run
    pending: int = 0  # events still waiting after this run (failed sends)
    messages: list[Message] = field(default_factory=list)  # what was sent (or, dry run, would be)
    errors: list[str] = field(default_factory=list)


@dataclass
class AlertsResult:
    config: str | None
    events: int = 0
    channels: list[ChannelResult] = field(default_factory=list)
    note: str | None = None  # why nothing was done, when nothing was

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts (a Prefect task result; the flow's summary)."""
        return {"config": self.config, "events": self.events, "note": self.note, "channels": {
            c.channel: {"baseline": c.baseline, "queued": c.queued, "sent": c.sent, "pending": c.pending,
                        "messages": len(c.messages), "errors": c.errors} for c in self.channels}}


@dataclass(frozen=True)
class OutboxRow:
    """A row of ops.alert_outbox, as `creditwatch alerts list` shows it."""

    event_key: str
    channel: str
    kind: str
    severity: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    error: str | None
    company: str | None
    reference: str | None
    watchlists: tuple[str, ...]


def config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The alerts config to use: the one given, else $CREDITWATCH_ALERTS, else ./alerts.yaml if it exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def china_day(moment: datetime) -> date:
    """The day in China for a naive-UTC timestamp (digests are dated as their readers live)."""
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()


# ---------------------------------------------------------------------------------------------- secrets


def prefect_secret(name: str) -> str:
    """The value of the Prefect Secret block `name` (from the Prefect server this process talks to)."""
    from prefect.blocks.system import Secret

    try:
        return Secret.load(name).get()
    except (ValueError, KeyError) as error:
        raise ChannelSecretError(f"no Prefect Secret block {name!r}: {error}") from None


def resolve_url(channel: Channel, env: Mapping[str, str] | None = None,
                secret: Callable[[str], str] = prefect_secret) -> tuple[str, list[str]]:
    """The channel's URL with its placeholders filled (URL-encoded) and the secret values it now holds."""
    env = os.environ if env is None else env
    values: list[str] = []

    def fill(match: re.Match[str]) -> str:
        inner = match.group(1)
        if ENV_NAME.fullmatch(inner):
            if not env.get(inner):
                raise ChannelSecretError(f"channel {channel.name} (alerts.yaml line {channel.line}): environment "
                                         f"variable {inner} is not set")
            value = env[inner]
        else:
            block = SECRET_NAME.fullmatch(inner)
            assert block is not None  # checked when the config was read
            try:
                value = secret(block.group(1))
            except ChannelSecretError as error:
                raise ChannelSecretError(f"channel {channel.name} (alerts.yaml line {channel.line}): {error}") \
                    from None
        values.append(value)
        return quote(value, safe="")

    return PLACEHOLDER.sub(fill, channel.url), values


def scrub(text: str, secrets: list[str]) -> str:
    for value in secrets:
        if value:
            text = text.replace(value, "***").replace(quote(value, safe=""), "***")
    return text


# ------------------------------------------------------------------------------------------------ send


Sender = Callable[[str, Message, str, bool], str | None]


def send_message(url: str, message: Message, severity: str, title_in_body: bool) -> str | None:
    """Send one message through Apprise; None when it reports delivery, else why not (its warnings)."""
    notifier = apprise.Apprise()
    if not notifier.add(url):
        return "Apprise does not accept this URL"
    with apprise.LogCapture(level=logging.WARNING) as logs:
        ok = notifier.notify(body=message.body, title="" if title_in_body else message.title,
                             notify_type=NOTIFY_TYPES.get(severity, apprise.NotifyType.INFO),
                             body_format=apprise.NotifyFormat.TEXT)
    if ok:
        return None
    lines = [line.split(" - ", 2)[-1] for line in logs.getvalue().strip().splitlines()]
    return "; ".join(lines[-3:]) or "Apprise reported a failure"


@dataclass(frozen=True)
class _Target:
    url: str
    secrets: list[str]
    title_in_body: bool
    limit: Limit


def _target(channel: Channel) -> _Target:
    url, secrets = resolve_url(channel)
    plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        raise ChannelSecretError(f"channel {channel.name}: Apprise does not accept the URL once its "
                                 "placeholders are filled: check the variables' values")
    return _Target(url, secrets, plugin.title_maxlen == 0, channel_limit(channel.scheme, plugin.body_maxlen))


# ---------------------------------------------------------------------------------------------- outbox


def record_failures(con: duckdb.DuckDBPyConnection, run_id: str, failures: list[RunFailure],
                    now: datetime | None = None) -> None:
    now = now or _now()
    with transaction(con):
        for failure in failures:
            con.execute("INSERT INTO ops.run_failures VALUES (?, ?, ?, ?, ?)",
                        [run_id, failure.stage, failure.source, failure.error[:2000], now])


def _baselined(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {c for (c,) in con.execute("SELECT channel FROM ops.alert_channels").fetchall()}


def enqueue(con: duckdb.DuckDBPyConnection, deliveries: list[Delivery], channels: tuple[str, ...],
            run_id: str | None, now: datetime) -> dict[str, tuple[int, int]]:
    """Insert the new (event, channel) pairs; a channel seen for the first time gets them as baseline.
    One transaction. Returns channel → (baseline, queued)."""
    baselined = _baselined(con)
    counts: dict[str, tuple[int, int]] = {}
    with transaction(con):
        for channel in channels:
            mine = [d for d in deliveries if d.channel == channel]
            first = channel not in baselined
            new = pa.table({  # noqa: F841 (DuckDB reads the local by name)
                "event_key": [d.event.key for d in mine], "kind": [d.event.kind for d in mine],
                "severity": [d.event.severity for d in mine],
                "watchlists": pa.array([list(d.watchlists) for d in mine], pa.list_(pa.string())),
                "payload": [json.dumps(d.event.to_payload(), ensure_ascii=False) for d in mine],
            })
            [(inserted,)] = con.execute("""
                INSERT INTO ops.alert_outbox (event_key, channel, kind, severity, watchlists, payload, status,
                                              created_at, created_run_id)
                SELECT n.event_key, $channel, n.kind, n.severity, n.watchlists, n.payload, $status, $now, $run_id
                FROM new n
                WHERE NOT EXISTS (SELECT 1 FROM ops.alert_outbox o WHERE o.event_key = n.event_key
                                  AND o.channel = $channel)""",
                {"channel": channel, "status": "baseline" if first else "pending", "now": now, "run_id": run_id},
            ).fetchall()
            if first:
                con.execute("INSERT INTO ops.alert_channels VALUES (?, ?, ?)", [channel, now, inserted])
            counts[channel] = (inserted, 0) if first else (0, inserted)
    return counts


def due(con: duckdb.DuckDBPyConnection, channel: str) -> list[tuple[Event, tuple[str, ...]]]:
    """The channel's pending events (and the watchlists that routed each), most severe first."""
    rows = con.execute("SELECT payload, watchlists FROM ops.alert_outbox WHERE channel = ? AND status = 'pending' "
                       "ORDER BY created_at, event_key", [channel]).fetchall()
    routed = {(event := Event.from_payload(json.loads(payload))).key: (event, tuple(watchlists))
              for payload, watchlists in rows}
    return [routed[e.key] for e in sort_events([e for e, _ in routed.values()])]


def _mark(con: duckdb.DuckDBPyConnection, channel: str, keys: tuple[str, ...], sql: str, args: list) -> None:
    with transaction(con):
        con.execute(f"UPDATE ops.alert_outbox SET {sql} WHERE channel = ? AND list_contains(?, event_key)",
                    [*args, channel, list(keys)])


def _send_channel(con: duckdb.DuckDBPyConnection, config: AlertsConfig, name: str, now: datetime,
                  sender: Sender, result: ChannelResult) -> None:
    pending = due(con, name)
    if not pending:
        return
    keys = tuple(e.key for e, _ in pending)
    try:
        target = _target(config.channel(name))
    except ChannelSecretError as error:
        result.errors.append(str(error))
        _mark(con, name, keys, "error = ?", [str(error)])
        result.pending = len(pending)
        return
    scope = scope_text([w for _, names in pending for w in names])
    try:
        messages = build_digest([e for e, _ in pending], scope, china_day(now), target.limit, target.title_in_body)
    except DigestError as error:
        result.errors.append(str(error))
        _mark(con, name, keys, "error = ?", [str(error)])
        result.pending = len(pending)
        return
    severity = {e.key: e.severity for e, _ in pending}
    for message in messages:
        _mark(con, name, message.event_keys, "attempts = attempts + 1, last_attempt_at = ?", [_now()])
        worst = max((severity[k] for k in message.event_keys), key=SEVERITIES.index)
        error = sender(target.url, message, worst, target.title_in_body)
        pause_point("alerts.after_send")  # crash tests: sent, not yet recorded
        if error is None:
            _mark(con, name, message.event_keys, "status = 'sent', sent_at = ?, error = NULL", [_now()])
            result.sent += len(message.event_keys)
            result.messages.append(message)
        else:
            error = scrub(error, target.secrets)
            _mark(con, name, message.event_keys, "error = ?", [error])
            result.errors.append(f"{name}: {error}")
            result.pending += len(message.event_keys)


# ------------------------------------------------------------------------------------------- the stage


def _check_schema(con: duckdb.DuckDBPyConnection) -> None:
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'ops' "
                         "AND table_name = 'alert_outbox'").fetchone()[0]
    if not exists:
        raise WarehouseError("the warehouse has no alert outbox yet (schema older than 006): run any "
                             "`creditwatch load` or `creditwatch run` once to apply the migrations")


def run_alerts(warehouse: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None = None, *,
               run_id: str | None = None, failures: list[RunFailure] | None = None, now: datetime | None = None,
               sender: Sender = send_message) -> AlertsResult:
    """The alert stage of a run: record failures, compute and route events, fill the outbox, send."""
    path = config_path(config)
    if path is None:
        return AlertsResult(None, note=f"alerts off: no {DEFAULT_CONFIG} and no ${CONFIG_ENV}")
    cfg = load_config(path)
    now = now or _now()
    con = connect(warehouse)
    try:
        if failures:
            record_failures(con, run_id or "unknown", failures, now)
        _check_schema(con)
        events = compute_events(con, licence_expiry_days=cfg.settings.licence_expiry_days,
                                max_age_days=cfg.settings.max_age_days, now=now)
        deliveries = route(con, events, cfg)
        counts = enqueue(con, deliveries, cfg.used, run_id, now)
        result = AlertsResult(str(path), events=len(events))
        for name in cfg.used:
            channel = ChannelResult(name, *counts.get(name, (0, 0)))
            _send_channel(con, cfg, name, now, sender, channel)
            result.channels.append(channel)
        return result
    finally:
        con.close()


def preview(warehouse: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None = None,
            now: datetime | None = None) -> AlertsResult:
    """What run_alerts would send now, without sending or writing anything (read-only)."""
    path = config_path(config)
    if path is None:
        return AlertsResult(None, note=f"alerts off: no {DEFAULT_CONFIG} and no ${CONFIG_ENV}")
    cfg = load_config(path)
    now = now or _now()
    con = connect(warehouse_path(warehouse), read_only=True)
    try:
        _check_schema(con)
        events = compute_events(con, licence_expiry_days=cfg.settings.licence_expiry_days,
                                max_age_days=cfg.settings.max_age_days, now=now)
        deliveries = route(con, events, cfg)
        baselined = _baselined(con)
        result = AlertsResult(str(path), events=len(events))
        for name in cfg.used:
            mine = [d for d in deliveries if d.channel == name]
            channel = ChannelResult(name)
            result.channels.append(channel)
            if name not in baselined:
                channel.baseline = len(mine)
                continue
            known = {k for (k,) in con.execute("SELECT event_key FROM ops.alert_outbox WHERE channel = ? AND "
                                               "status <> 'pending'", [name]).fetchall()}
            waiting = {e.key: (e, w) for e, w in due(con, name)}
            for d in mine:
                if d.event.key not in known and d.event.key not in waiting:
                    waiting[d.event.key] = (d.event, d.watchlists)
                    channel.queued += 1
            if waiting:
                events_ = [waiting[e.key] for e in sort_events([e for e, _ in waiting.values()])]
                scope = scope_text([w for _, names in events_ for w in names])
                limit = _preview_limit(cfg.channel(name))
                channel.messages = build_digest([e for e, _ in events_], scope, china_day(now), *limit)
                channel.pending = len(waiting)
        return result
    finally:
        con.close()


def _preview_limit(channel: Channel) -> tuple[Limit, bool]:
    plugin = sample_plugin(channel.url)
    return channel_limit(channel.scheme, plugin.body_maxlen), plugin.title_maxlen == 0


def send_test(config: str | os.PathLike[str] | None, name: str, sender: Sender = send_message) -> Message:
    """Send a sample digest (one test event) to one channel; nothing is recorded. Raises on failure."""
    path = config_path(config)
    if path is None:
        raise FileNotFoundError(f"no alerts config: give --config, set ${CONFIG_ENV} or create {DEFAULT_CONFIG}")
    target = _target(load_config(path).channel(name))
    [message] = build_digest([sample_event()], "测试", china_day(_now()), target.limit, target.title_in_body,
                             {"test": TEST_KIND_LABEL})
    error = sender(target.url, message, "info", target.title_in_body)
    if error is not None:
        raise RuntimeError(f"channel {name}: the test message was not delivered: {scrub(error, target.secrets)}")
    return message


def list_outbox(warehouse: str | os.PathLike[str] | None, pending_only: bool = False, channel: str | None = None,
                limit: int = 100) -> list[OutboxRow]:
    """Outbox rows, newest first (read-only): what was sent where, what waits and why."""
    con = connect(warehouse_path(warehouse), read_only=True)
    try:
        _check_schema(con)
        rows = con.execute(f"""
            SELECT event_key, channel, kind, severity, status, attempts, created_at, sent_at, error,
                   payload ->> 'company', payload ->> 'reference', watchlists
            FROM ops.alert_outbox
            WHERE ($pending IS FALSE OR status = 'pending') AND ($channel IS NULL OR channel = $channel)
            ORDER BY created_at DESC, channel, event_key LIMIT {int(limit)}""",
                           {"pending": pending_only, "channel": channel}).fetchall()
    finally:
        con.close()
    return [OutboxRow(*row[:-1], tuple(row[-1])) for row in rows]


DEMO_CONFIG = """\
# Written by `creditwatch run --demo`: every licensed operator's events, and the schedule operator's, go to
# a local receiver standing in for a chat bot (flows/alerts_receiver.py). Nothing leaves 127.0.0.1.
channels:
  demo: "json://{host}/creditwatch-demo"
watchlists:
  - all_licensed: true
    channels: [demo]
operations:
  channels: [demo]
  min_severity: info
"""


def write_demo_config(path: Path, receiver_url: str) -> Path:
    """The demo's alerts.yaml: one channel, a json:// webhook to the local receiver at `receiver_url`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(DEMO_CONFIG.format(host=receiver_url.removeprefix("http://")), "utf-8")
    return path


def secret_status(config: str | os.PathLike[str] | None) -> tuple[AlertsConfig, list[tuple[str, str, str]]]:
    """The config, and for each channel placeholder (channel, placeholder, status) — values never shown."""
    path = config_path(config)
    if path is None:
        raise FileNotFoundError(f"no alerts config: give --config, set ${CONFIG_ENV} or create {DEFAULT_CONFIG}")
    cfg = load_config(path)
    found = []
    for channel in cfg.channels.values():
        for inner in channel.placeholders():
            if ENV_NAME.fullmatch(inner):
                state = "set" if os.environ.get(inner) else "NOT SET"
            else:
                state = "Prefect Secret block, looked up when sending"
            found.append((channel.name, f"${{{inner}}}", state))
    return cfg, found


def doctor_findings(warehouse: str | os.PathLike[str] | None, config: str | os.PathLike[str] | None = None
                    ) -> list[Finding]:
    """The doctor's view of alerts: the config reads, every channel secret from the environment is set, and
    no alert is still waiting for a channel that failed (each finding says the command to run)."""
    path = config_path(config)
    if path is None:
        return [Finding("ok", "alerts", f"alerts off: no {DEFAULT_CONFIG} and ${CONFIG_ENV} unset")]
    try:
        cfg, secrets = secret_status(path)
    except (AlertsConfigError, OSError) as error:
        return [Finding("error", "alerts", f"{path}: {error}", "creditwatch alerts check")]
    findings = []
    unset = sorted({f"{channel} {placeholder}" for channel, placeholder, state in secrets if state == "NOT SET"})
    if unset:
        findings.append(Finding("error", "alerts", f"channel secrets not set: {', '.join(unset)}; those channels "
                                "cannot send", "creditwatch alerts check"))
    try:
        pending = list_outbox(warehouse, pending_only=True, limit=10_000) if warehouse_path(warehouse).exists() else []
    except (WarehouseError, duckdb.Error) as error:
        return [*findings, Finding("warn", "alerts", f"the alert outbox could not be read: {error}")]
    if pending:
        findings.append(Finding("warn", "alerts", f"{len(pending)} alerts not delivered yet (a channel failed; the "
                                "next run retries them)", "creditwatch alerts list --pending"))
    return findings or [Finding("ok", "alerts", f"{path}: {len(cfg.channels)} channels, secrets set, none pending")]

