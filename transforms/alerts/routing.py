"""Which events go to which channel: each watchlist's scope, minimum severity and kinds (关注名单 → 渠道).

- a file watchlist (name,uscc): the events whose record — or, for licence and operator events, whose
  licensed operator — the linker attaches to one of its entries (the same linker and the same entries
  as the export's --watchlist; only `linked`, never `review`);
- a group: the licensed operators whose trade name (字号, as the linker parses names) is the group's, in
  any region, except `exclude`, and whatever links to its `members` file;
- all_licensed: every event about a licensed operator (a record linked to one, its licences);
- operations: the `operations` scope events (source incomplete twice, run failed).

Only the events at hand are linked, so routing costs what changed, not the size of the warehouse.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from pipelines.normalise import name_key
from transforms.alerts.config import AlertsConfig, Group, Watchlist
from transforms.alerts.events import SEVERITIES, Event
from transforms.export import WatchlistEntry, _watchlist_operators
from transforms.link import link_records
from transforms.link.parse import parse_name

OPERATIONS = "operations"  # the route name recorded for operations events …
OPERATIONS_LABEL = "运行监控"  # … and how a digest names it


def scope_text(route_names: list[str]) -> str:
    """The watchlists a digest covers, as its header shows them."""
    return "、".join(dict.fromkeys(OPERATIONS_LABEL if n == OPERATIONS else n for n in route_names))


@dataclass(frozen=True)
class Delivery:
    """One event for one channel, and the watchlists that sent it there."""

    event: Event
    channel: str
    watchlists: tuple[str, ...]


def at_least(severity: str, minimum: str) -> bool:
    return SEVERITIES.index(severity) >= SEVERITIES.index(minimum)


def linked_keys(con: duckdb.DuckDBPyConnection, entries: Iterable[WatchlistEntry], events: list[Event]) -> set[str]:
    """Keys of the events whose record (or licensed operator, for events without a record) links to an entry."""
    entries = list(entries)
    if not entries or not events:
        return set()
    operators = _watchlist_operators(entries)
    record_ids = sorted({e.record_id for e in events if e.record_id})
    operator_ids = sorted({e.operator_id for e in events if not e.record_id and e.operator_id})
    linked_records = _linked(operators, con.execute(
        "SELECT record_id, subject_name AS name, subject_uscc AS uscc FROM core.credit_records "
        "WHERE list_contains($ids, record_id) ORDER BY record_id", {"ids": record_ids}).df()) if record_ids else set()
    linked_operators = _linked(operators, con.execute(
        "SELECT operator_id AS record_id, name, uscc FROM core.licensed_operators "
        "WHERE list_contains($ids, operator_id) ORDER BY operator_id", {"ids": operator_ids}).df()) \
        if operator_ids else set()
    return {e.key for e in events
            if (e.record_id in linked_records) or (not e.record_id and e.operator_id in linked_operators)}


def _linked(operators: pd.DataFrame, records: pd.DataFrame) -> set[str]:
    if records.empty:
        return set()
    links = link_records(operators, records.astype(object))
    return set(links.loc[links["status"] == "linked", "record_id"])


def group_operator_ids(con: duckdb.DuckDBPyConnection, group: Group) -> set[str]:
    """The licensed operators whose 字号 (any of their published names) is the group's trade name."""
    if not group.trade_name:
        return set()
    trade = name_key(group.trade_name)
    rows = con.execute("SELECT operator_id, uscc, name, published_names FROM core.licensed_operators").fetchall()
    return {operator_id for operator_id, uscc, name, names in rows
            if uscc not in group.exclude and any(parse_name(n).trade == trade for n in {name, *(names or [])})}


def _members(con: duckdb.DuckDBPyConnection, watchlist: Watchlist, events: list[Event]) -> set[str]:
    if watchlist.all_licensed:
        return {e.key for e in events if e.operator_id}
    if watchlist.entries is not None:
        return linked_keys(con, watchlist.entries, events)
    assert watchlist.group is not None
    operators = group_operator_ids(con, watchlist.group)
    return {e.key for e in events if e.operator_id in operators} | linked_keys(con, watchlist.group.members, events)


def route(con: duckdb.DuckDBPyConnection, events: list[Event], config: AlertsConfig) -> list[Delivery]:
    """Every (event, channel) pair the config asks for, each once, with the watchlists that asked."""
    routes: dict[tuple[str, str], list[str]] = {}
    by_key = {e.key: e for e in events}

    def add(keys: Iterable[str], channels: tuple[str, ...], name: str) -> None:
        for key in keys:
            for channel in channels:
                names = routes.setdefault((key, channel), [])
                if name not in names:
                    names.append(name)

    watched = [e for e in events if e.scope != OPERATIONS]
    for watchlist in config.watchlists:
        wanted = [e for e in watched if at_least(e.severity, watchlist.min_severity)
                  and (watchlist.kinds is None or e.kind in watchlist.kinds)]
        matched = _members(con, watchlist, wanted)
        add([e.key for e in wanted if e.key in matched], watchlist.channels, watchlist.name)
    if config.operations is not None:
        add([e.key for e in events if e.scope == OPERATIONS and at_least(e.severity, config.operations.min_severity)],
            config.operations.channels, OPERATIONS)
    return [Delivery(by_key[key], channel, tuple(names)) for (key, channel), names in routes.items()]
