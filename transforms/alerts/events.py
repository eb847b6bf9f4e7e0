"""Alert events (提醒事件), computed from the warehouse's history at the end of every run — never from a
diff of files.

Event kinds are data: one query per kind in transforms/alerts/queries/<kind>.sql, and one row per kind in
transforms/alerts/kinds.csv (severity, scope, Chinese and English label). Adding a kind — the annual-report
warning, a repair case overdue (修复案件逾期) — is adding those two things:

- the query returns `subject` (what the event is about: a record id, a licence number, a source, a run id,
  an operator id), `discriminator` (what makes a recurrence a new event: a version, a date; '' if none)
  and `occurred_at` (when it happened, a timestamp), and any of the display columns in EVENT_COLUMNS
  (NULL or absent when they do not apply). Columns starting with "_" are helpers and are dropped; any
  other column is an error naming the query.
- it may use the parameters $as_of (the marts' as-of date), $since (the alert window's start: the newest
  run minus settings.max_age_days), $licence_expiry_days and $listing_types (record types that make a
  new entry critical), and the helper views alert_records (every credit record in the shared event shape,
  with `_source`, `_first_seen_at`, `_removed_at`, `_removal_status`) and alert_source_baseline (each
  source's first complete crawl); helpers are queries/_<name>.sql, created as temp views alert_<name>.
- scope `record`, `licence` and `operator` events are routed to watchlists by their record or operator;
  scope `operations` events go to the schedule's operator (alerts.yaml `operations:`).

The event key is a hash of kind, subject and discriminator: stable across runs, so the outbox sends each
event once per channel however often it is computed.
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import asdict, dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from transforms.alerts.labels import listing_types

ROOT = Path(__file__).parent
QUERIES = ROOT / "queries"
KINDS_FILE = ROOT / "kinds.csv"
SEVERITIES = ("info", "warning", "critical")  # in rising order; a watchlist's min_severity picks from these
SCOPES = ("record", "licence", "operator", "operations")
REQUIRED_COLUMNS = ("subject", "discriminator", "occurred_at")
EVENT_COLUMNS = ("operator_id", "record_id", "company", "party", "record_type", "reference", "authority",
                 "event_on", "summary", "early_removal_from", "auto_removal_on", "url", "detail")


class EventQueryError(ValueError):
    """An event kind or query that cannot be used; the message names the file."""


@dataclass(frozen=True)
class EventKind:
    kind: str
    severity: str
    scope: str
    label_zh: str
    label_en: str
    query: Path


@dataclass(frozen=True)
class Event:
    """One thing that happened, as the digest shows it: 企业, 记录类型, 决定机关, 日期, 处罚内容摘要, 可移除日期."""

    key: str
    kind: str
    severity: str
    scope: str
    subject: str
    occurred_at: datetime
    operator_id: str | None = None  # the licensed operator (持证经营者) it concerns, if any
    record_id: str | None = None
    company: str | None = None  # 企业
    party: str | None = None  # 当事人, when not the operator itself (a branch 分公司)
    record_type: str | None = None
    reference: str | None = None  # 文书号 / 名单 / 案号 / 许可证编号 / source / run id
    authority: str | None = None  # 决定机关
    event_on: date | None = None  # 日期
    summary: str | None = None  # 处罚内容摘要
    early_removal_from: date | None = None  # 可申请修复日
    auto_removal_on: date | None = None  # 到期停止公示日
    url: str | None = None  # the registry's page
    detail: str | None = None  # what happened, in words

    def to_payload(self) -> dict[str, Any]:
        """JSON-ready (dates as ISO text): what the outbox keeps, so a retry sends what was found."""
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Event:
        known = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in payload.items():
            if name not in known:
                continue  # written by a newer version: ignored, never fatal
            if value is not None and name == "occurred_at":
                value = datetime.fromisoformat(value)
            elif value is not None and name in ("event_on", "early_removal_from", "auto_removal_on"):
                value = date.fromisoformat(value)
            values[name] = value
        return cls(**values)


def event_key(kind: str, subject: str, discriminator: str) -> str:
    return hashlib.sha256(f"{kind}\x1f{subject}\x1f{discriminator}".encode()).hexdigest()[:20]


def load_kinds(kinds_file: Path = KINDS_FILE, queries: Path = QUERIES) -> dict[str, EventKind]:
    """Every event kind: a row of kinds.csv with its query. EventQueryError naming the file and line for an
    unknown severity or scope, a duplicate kind, a kind without its query or a query without its row."""
    kinds: dict[str, EventKind] = {}
    with kinds_file.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            where = f"{kinds_file}: line {line}"
            kind = (row.get("kind") or "").strip()
            if not kind:
                raise EventQueryError(f"{where}: empty kind")
            if kind in kinds:
                raise EventQueryError(f"{where}: kind {kind!r} listed twice")
            if row.get("severity") not in SEVERITIES:
                raise EventQueryError(f"{where}: severity {row.get('severity')!r}; use one of {', '.join(SEVERITIES)}")
            if row.get("scope") not in SCOPES:
                raise EventQueryError(f"{where}: scope {row.get('scope')!r}; use one of {', '.join(SCOPES)}")
            query = queries / f"{kind}.sql"
            if not query.exists():
                raise EventQueryError(f"{where}: kind {kind!r} has no query {query}")
            kinds[kind] = EventKind(kind, row["severity"], row["scope"], row["label_zh"], row["label_en"], query)
    orphans = sorted(p.name for p in queries.glob("[!_]*.sql") if p.stem not in kinds)
    if orphans:
        raise EventQueryError(f"{queries}: {', '.join(orphans)} have no row in {kinds_file}")
    return kinds


def _create_helpers(con: duckdb.DuckDBPyConnection, queries: Path) -> None:
    for path in sorted(queries.glob("_*.sql")):
        con.execute(f"CREATE OR REPLACE TEMP VIEW alert{path.stem} AS\n{path.read_text('utf-8')}")


def window_start(con: duckdb.DuckDBPyConnection, max_age_days: int, now: datetime | None = None) -> datetime:
    """$since: the newest loaded run minus max_age_days (the data's clock, not the wall clock, so a pause in
    the schedule loses nothing); with no run loaded yet, now minus max_age_days."""
    [(newest,)] = con.execute("SELECT max(crawled_at) FROM ops.runs").fetchall()
    return (newest or now or datetime.now(UTC).replace(tzinfo=None)) - timedelta(days=max_age_days)


def marts_as_of(con: duckdb.DuckDBPyConnection) -> date:
    """The date the marts were built for; today when they have not been built."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                         "AND table_name = 'operator_risk'").fetchone()[0]
    day = con.execute("SELECT max(as_of) FROM marts.operator_risk").fetchone()[0] if exists else None
    return day or date.today()


def compute_events(con: duckdb.DuckDBPyConnection, *, licence_expiry_days: int, max_age_days: int,
                   kinds: dict[str, EventKind] | None = None, as_of: date | None = None,
                   now: datetime | None = None) -> list[Event]:
    """Every event of every kind in the alert window, from the warehouse as it stands. Reads only."""
    kinds = load_kinds() if kinds is None else kinds
    if not kinds:
        return []
    queries = next(iter(kinds.values())).query.parent
    _create_helpers(con, queries)
    params: dict[str, Any] = {
        "as_of": as_of or marts_as_of(con),
        "since": window_start(con, max_age_days, now),
        "licence_expiry_days": licence_expiry_days,
        "listing_types": listing_types(),
    }
    events: list[Event] = []
    for kind in kinds.values():
        events += _run_query(con, kind, params)
    return sort_events(events, list(kinds))


def sort_events(events: list[Event], kind_order: list[str] | None = None) -> list[Event]:
    """Most severe first; then in kinds.csv order, by company, oldest first."""
    order = kind_order if kind_order is not None else list(load_kinds())

    def rank(kind: str) -> int:
        return order.index(kind) if kind in order else len(order)

    return sorted(events, key=lambda e: (-SEVERITIES.index(e.severity), rank(e.kind), e.company or "",
                                         e.occurred_at, e.key))


def _run_query(con: duckdb.DuckDBPyConnection, kind: EventKind, params: dict[str, Any]) -> list[Event]:
    sql = kind.query.read_text("utf-8")
    used = {name: value for name, value in params.items() if f"${name}" in sql}
    try:
        relation = con.execute(sql, used)
    except duckdb.Error as error:
        raise EventQueryError(f"event query {kind.query}: {str(error).splitlines()[0]}") from error
    columns = [c[0] for c in relation.description]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    unknown = [c for c in columns if not c.startswith("_") and c not in REQUIRED_COLUMNS + EVENT_COLUMNS]
    if missing or unknown:
        raise EventQueryError(f"event query {kind.query}: " + "; ".join(
            ([f"missing column(s) {', '.join(missing)}"] if missing else [])
            + ([f"unknown column(s) {', '.join(unknown)} (expected {', '.join(EVENT_COLUMNS)})"] if unknown else [])))
    out = []
    for values in relation.fetchall():
        row = dict(zip(columns, values, strict=True))
        if row["subject"] is None or row["occurred_at"] is None:
            raise EventQueryError(f"event query {kind.query}: a row without subject or occurred_at: {row}")
        subject, discriminator = str(row["subject"]), str(row["discriminator"] or "")
        out.append(Event(
            key=event_key(kind.kind, subject, discriminator), kind=kind.kind, severity=kind.severity,
            scope=kind.scope, subject=subject, occurred_at=_timestamp(row["occurred_at"]),
            **{c: _plain(row.get(c)) for c in EVENT_COLUMNS}))
    return out


def _timestamp(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.combine(value, datetime.min.time())


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.date()  # the display dates are days
    return value
