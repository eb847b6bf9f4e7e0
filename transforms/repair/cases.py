"""Repair cases (信用修复案件) and their state machine.

States: open (立案) → submitted (已提交申请) → accepted (同意修复) | rejected (不予修复);
accepted → removed_verified (已核实撤下) | still_shown (逾期仍公示); still_shown → removed_verified (撤下晚了);
rejected → submitted (补正后重新申请). Every transition and note is a row of ops.repair_case_events and of
ops.audit (action 'repair'); a transition not allowed from the case's state raises RepairError naming the
case, its state and what is allowed. The run makes the last two transitions (transforms/repair/verify.py);
people make the others (`creditwatch repair`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import duckdb

from transforms.repair.deadlines import (
    Deadline,
    HandlingTimeError,
    case_deadline,
    china_day,
    handling_time,
    platforms,
)
from warehouse.db import transaction
from warehouse.maintenance import _os_user, audit
from warehouse.references import UnknownRecord, resolve_record

STATES = ("open", "submitted", "accepted", "rejected", "removed_verified", "still_shown")
CLOSED_STATES = ("removed_verified",)  # a record with a case in any other state cannot get a second one
# action → (states it may start from, state it leads to); 'note' changes nothing.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("open", "rejected"), "submitted"),
    "accept": (("submitted",), "accepted"),
    "reject": (("submitted",), "rejected"),
    "verify_removed": (("accepted", "still_shown"), "removed_verified"),
    "flag_still_shown": (("accepted",), "still_shown"),
}
OUTCOMES = {"accepted": "accept", "rejected": "reject"}
CASE_COLUMNS = ("case_id", "record_id", "record_type", "operator_id", "state", "opened_at", "opened_by", "platform",
                "submitted_on", "receipt_no", "outcome_on", "outcome_reason", "verified_on", "verified_run_id",
                "updated_at")


NOT_BUILT = "the warehouse has no marts yet: run `creditwatch run` (or `creditwatch transform`) first"


class RepairError(ValueError):
    """A repair command that cannot be done; the message names the case or record and the reason."""


@dataclass(frozen=True)
class Case:
    case_id: str
    record_id: str
    record_type: str
    operator_id: str | None
    state: str
    opened_at: datetime
    opened_by: str
    platform: str | None
    submitted_on: date | None
    receipt_no: str | None
    outcome_on: date | None
    outcome_reason: str | None
    verified_on: date | None
    verified_run_id: str | None
    updated_at: datetime

    @property
    def accepted_on(self) -> date | None:
        return self.outcome_on if self.state in ("accepted", "removed_verified", "still_shown") else None

    def deadline(self, as_of: date) -> Deadline:
        """The deadline the case runs against on `as_of` (none for open, rejected and closed cases)."""
        time = handling_time(self.platform, self.record_type) if self.platform else None
        return case_deadline(self.state, self.submitted_on, self.accepted_on, time, as_of)


def actor_name(actor: str | None = None) -> str:
    """Who does it: as ops.audit records it (CREDITWATCH_ACTOR, else the OS user)."""
    return actor or os.environ.get("CREDITWATCH_ACTOR") or _os_user()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def next_state(case_id: str, state: str, action: str) -> str:
    """The state `action` leads to from `state`; RepairError naming the case and state when not allowed."""
    allowed_from, to = TRANSITIONS[action]
    if state not in allowed_from:
        can = [name for name, (starts, _) in TRANSITIONS.items() if state in starts]
        raise RepairError(
            f"case {case_id} is {state}: cannot {action.replace('_', ' ')} (only from {' or '.join(allowed_from)})"
            + (f"; from {state} it can: {', '.join(can)}" if can else f"; {state} is final"))
    return to


def get_case(con: duckdb.DuckDBPyConnection, case_id: str) -> Case:
    rows = con.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM ops.repair_cases WHERE case_id = ?",
                       [case_id.strip()]).fetchall()
    if not rows:
        known = [c for (c,) in con.execute("SELECT case_id FROM ops.repair_cases ORDER BY case_id").fetchall()]
        raise RepairError(f"no repair case {case_id!r}" + (f" (cases: {', '.join(known[-10:])})" if known
                                                             else " (no case opened yet: `creditwatch repair open`)"))
    return Case(*rows[0])


def all_cases(con: duckdb.DuckDBPyConnection) -> list[Case]:
    rows = con.execute(f"SELECT {', '.join(CASE_COLUMNS)} FROM ops.repair_cases ORDER BY case_id").fetchall()
    return [Case(*row) for row in rows]


def _event(con: duckdb.DuckDBPyConnection, case_id: str, action: str, from_state: str | None, to_state: str | None,
           on_date: date | None, details: dict[str, Any], actor: str) -> None:
    """One row in the case's history and one in ops.audit (审计记录)."""
    con.execute("INSERT INTO ops.repair_case_events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [case_id, _now(), actor, action, from_state, to_state, on_date,
                 json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)])
    audit(con, "repair", {"case": case_id, "action": action, "from": from_state, "to": to_state,
                          "on": on_date, **details}, actor=actor)


def transition(con: duckdb.DuckDBPyConnection, case_id: str, action: str, on_date: date | None,
               details: dict[str, Any] | None = None, actor: str | None = None, **columns: Any) -> Case:
    """Move a case by `action` (TRANSITIONS), setting `columns` on it; one transaction with its history."""
    who = actor_name(actor)
    with transaction(con):
        case = get_case(con, case_id)
        to = next_state(case.case_id, case.state, action)
        sets = {"state": to, "updated_at": _now(), **columns}
        con.execute(f"UPDATE ops.repair_cases SET {', '.join(f'{k} = ?' for k in sets)} WHERE case_id = ?",
                    [*sets.values(), case.case_id])
        _event(con, case.case_id, action, case.state, to, on_date, {**columns, **(details or {})}, who)
    return get_case(con, case.case_id)


# ------------------------------------------------------------------------------------------ the commands


def resolve_candidate(con: duckdb.DuckDBPyConnection, reference: str) -> dict[str, Any]:
    """The removal candidate (marts.removal_candidates) a record reference names (warehouse.references: a
    record id, or the registry's own reference as the workbook shows it)."""
    reference = reference.strip()
    if not reference:
        raise RepairError("empty record reference: give a record_id or the reference shown in 可申请修复")
    built = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'marts' "
                        "AND table_name = 'removal_candidates'").fetchone()[0]
    if not built:
        raise RepairError(NOT_BUILT)
    try:
        record_id = resolve_record(con, reference)
    except UnknownRecord as error:
        raise RepairError(str(error)) from None
    relation = con.execute("SELECT * FROM marts.removal_candidates WHERE record_id = ?", [record_id])
    columns = [c[0] for c in relation.description]
    rows = [dict(zip(columns, row, strict=True)) for row in relation.fetchall()]
    if rows:
        return rows[0]
    known = con.execute("SELECT reference, removal_status, removed_at FROM core.operator_records "
                        "WHERE record_id = ?", [record_id]).fetchall()
    if not known:
        raise RepairError(f"record {record_id} ({reference}) is on no licensed operator: a case opens for a "
                          "removal candidate (可申请修复)")
    shown_as, status, removed_at = known[0]
    why = "no longer shown" if removed_at is not None else f"removal status {status}"
    raise RepairError(f"record {record_id} ({shown_as}) is not a removal candidate ({why}): a case opens for a "
                      "record whose early removal (信用修复) can be applied for")


def open_case(con: duckdb.DuckDBPyConnection, reference: str, actor: str | None = None) -> Case:
    """立案: open a case for a removal candidate. RepairError if the record already has a case not closed."""
    who = actor_name(actor)
    with transaction(con):
        candidate = resolve_candidate(con, reference)
        existing = con.execute("SELECT case_id, state FROM ops.repair_cases WHERE record_id = ? AND state NOT IN "
                               f"({', '.join(repr(s) for s in CLOSED_STATES)})", [candidate["record_id"]]).fetchall()
        if existing:
            raise RepairError(f"record {candidate['record_id']} ({candidate['reference']}) already has case "
                              f"{existing[0][0]} ({existing[0][1]})")
        [(number,)] = con.execute("SELECT coalesce(max(CAST(substr(case_id, 4) AS INTEGER)), 0) + 1 "
                                  "FROM ops.repair_cases").fetchall()
        case_id, now = f"RC-{number:04d}", _now()
        con.execute(f"INSERT INTO ops.repair_cases ({', '.join(CASE_COLUMNS)}) VALUES "
                    f"({', '.join('?' * len(CASE_COLUMNS))})",
                    [case_id, candidate["record_id"], candidate["record_type"], candidate["operator_id"], "open",
                     now, who, candidate["platform"], None, None, None, None, None, None, now])
        _event(con, case_id, "open", None, "open", china_day(now),
               {"record_id": candidate["record_id"], "reference": candidate["reference"],
                "removal_status": candidate["removal_status"]}, who)
    return get_case(con, case_id)


def _not_future(case_id: str, on: date, what: str, today: date | None) -> None:
    if on > (today or china_day(_now())):  # the team's today is China's
        raise RepairError(f"case {case_id}: the {what} date {on} is in the future")


def submit(con: duckdb.DuckDBPyConnection, case_id: str, on: date, platform: str, receipt_no: str | None = None,
           actor: str | None = None, today: date | None = None) -> Case:
    """已提交申请: the application went to `platform` on `on` (with the platform's receipt number, if any)."""
    _not_future(case_id, on, "submission", today)
    platform = platform.strip()
    try:
        handling_time(platform)
    except HandlingTimeError:
        raise RepairError(f"case {case_id}: unknown platform {platform!r}; use one of {', '.join(platforms())}"
                          ) from None
    return transition(con, case_id, "submit", on, None, actor, platform=platform, submitted_on=on,
                      receipt_no=(receipt_no or "").strip() or None, outcome_on=None, outcome_reason=None)


def record_outcome(con: duckdb.DuckDBPyConnection, case_id: str, outcome: str, on: date, reason: str | None = None,
                   actor: str | None = None, today: date | None = None) -> Case:
    """同意修复 / 不予修复: the platform's decision on `on`."""
    if outcome not in OUTCOMES:
        raise RepairError(f"case {case_id}: outcome {outcome!r}; use accepted or rejected")
    _not_future(case_id, on, "outcome", today)
    case = get_case(con, case_id)
    if case.submitted_on is not None and on < case.submitted_on:
        raise RepairError(f"case {case_id}: the outcome date {on} is before its submission on {case.submitted_on}")
    return transition(con, case_id, OUTCOMES[outcome], on, None, actor, outcome_on=on,
                      outcome_reason=(reason or "").strip() or None)


def add_note(con: duckdb.DuckDBPyConnection, case_id: str, text: str, actor: str | None = None) -> Case:
    """A note on the case (a call to the authority, a document received); the state does not change."""
    if not text.strip():
        raise RepairError(f"case {case_id}: empty note")
    who = actor_name(actor)
    with transaction(con):
        case = get_case(con, case_id)
        _event(con, case.case_id, "note", case.state, case.state, china_day(_now()), {"note": text.strip()}, who)
        con.execute("UPDATE ops.repair_cases SET updated_at = ? WHERE case_id = ?", [_now(), case.case_id])
    return case


def case_history(con: duckdb.DuckDBPyConnection, case_id: str) -> list[tuple]:
    """(at, actor, action, from_state, to_state, on_date, details) of a case, oldest first."""
    return con.execute('SELECT "at", actor, action, from_state, to_state, on_date, details FROM '
                       'ops.repair_case_events WHERE case_id = ? ORDER BY "at"', [case_id]).fetchall()
