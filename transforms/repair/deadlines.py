"""Deadlines of a repair case in working days (工作日) on China's official calendar.

Each platform's handling time (办理时限: from the application to the decision) and sync time (同步时间: from
the decision to the record gone from the public site) are data, with their basis and confidence, in
transforms/seeds/repair_handling_times.csv; a row for a record type overrides its platform's row.

- decision due (应答复日): `handling` working days after the submission;
- removal due (应撤下日): `handling + sync` working days after the submission, and never before `sync`
  working days after the acceptance (a late decision still needs its sync time).
A case is overdue (逾期) when it is submitted and past its decision due without an outcome, accepted and
past its removal due, or still_shown. A deadline in a year whose official calendar is not yet published is
not computed (CalendarMissing): the case says so instead of guessing.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from transforms.reporting import REPORTING_TIMEZONE
from transforms.workdays import CalendarMissing, add_working_days

SEED = Path(__file__).resolve().parents[1] / "seeds" / "repair_handling_times.csv"
CONFIDENCES = ("confirmed", "unconfirmed")
OVERDUE_STATES = ("submitted", "accepted", "still_shown")  # the states with a deadline


CHINA = ZoneInfo(REPORTING_TIMEZONE)  # the reporting calendar's zone (transforms/reporting.py)


def china_day(moment: datetime) -> date:
    """The day in China of a timestamp as the warehouse keeps them (naive UTC): the day a registry, a
    platform and the team count in (the SQL macro reporting_day gives the same)."""
    return moment.replace(tzinfo=UTC).astimezone(CHINA).date()


def china_day_start(day: date) -> datetime:
    """00:00 in China on `day`, as a naive UTC timestamp (what the warehouse's timestamps are compared to)."""
    return datetime.combine(day, time.min, CHINA).astimezone(UTC).replace(tzinfo=None)


class HandlingTimeError(ValueError):
    """A platform with no handling time, or a bad row in the seed; the message names which."""


@dataclass(frozen=True)
class HandlingTime:
    """办理时限 and 同步时间 of one platform (or one record type on it), in working days."""

    platform: str
    record_type: str  # '' for the platform's default
    handling_days: int
    handling_basis: str
    handling_confidence: str
    sync_days: int
    sync_basis: str
    sync_confidence: str

    @property
    def confirmed(self) -> bool:
        return self.handling_confidence == "confirmed" and self.sync_confidence == "confirmed"


@dataclass(frozen=True)
class Deadline:
    """A case's current deadline: which one, the day, and whether the case is past it on `as_of`."""

    kind: str | None  # 'decision' (submitted) / 'removal' (accepted, still_shown) / None
    due: date | None
    overdue: bool
    note: str | None = None  # why there is no date (calendar not published)


@cache
def load_handling_times(path: Path = SEED) -> dict[tuple[str, str], HandlingTime]:
    """The seed as {(platform, record_type): HandlingTime}; HandlingTimeError naming the line for a bad row."""
    times: dict[tuple[str, str], HandlingTime] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                handling, sync = int(row["handling_working_days"]), int(row["sync_working_days"])
            except (TypeError, ValueError):
                raise HandlingTimeError(f"{path}: line {line}: working days must be whole numbers") from None
            if handling < 1 or sync < 0:
                raise HandlingTimeError(f"{path}: line {line}: handling must be ≥ 1 and sync ≥ 0 working days")
            for column in ("handling_confidence", "sync_confidence"):
                if row[column] not in CONFIDENCES:
                    raise HandlingTimeError(f"{path}: line {line}: {column} {row[column]!r}; use one of "
                                            f"{', '.join(CONFIDENCES)}")
            key = (row["platform"].strip(), (row["record_type"] or "").strip())
            if key in times:
                raise HandlingTimeError(f"{path}: line {line}: {key[0]} {key[1] or '(default)'} listed twice")
            times[key] = HandlingTime(key[0], key[1], handling, row["handling_basis"], row["handling_confidence"],
                                      sync, row["sync_basis"], row["sync_confidence"])
    return times


def platforms() -> list[str]:
    """The platforms a case can be submitted to: those with a handling time."""
    return sorted({platform for platform, _ in load_handling_times()})


def handling_time(platform: str, record_type: str | None = None) -> HandlingTime:
    """The handling time for `record_type` on `platform`, else the platform's default."""
    times = load_handling_times()
    found = times.get((platform, record_type or "")) or times.get((platform, ""))
    if found is None:
        raise HandlingTimeError(f"no handling time for platform {platform!r} (known: {', '.join(platforms())}); "
                                f"add it to {SEED}")
    return found


def decision_due(submitted_on: date, time: HandlingTime) -> date:
    """应答复日: the day the platform's handling time ends."""
    return add_working_days(submitted_on, time.handling_days)


def removal_due(submitted_on: date, accepted_on: date | None, time: HandlingTime) -> date:
    """应撤下日: handling plus sync time after the submission, and at least the sync time after the acceptance."""
    due = add_working_days(submitted_on, time.handling_days + time.sync_days)
    if accepted_on is not None and time.sync_days:
        due = max(due, add_working_days(accepted_on, time.sync_days))
    return due


def case_deadline(state: str, submitted_on: date | None, accepted_on: date | None, time: HandlingTime | None,
                  as_of: date) -> Deadline:
    """The deadline a case in `state` runs against on `as_of`, and whether it is overdue."""
    if state not in OVERDUE_STATES or submitted_on is None or time is None:
        return Deadline(None, None, False)
    kind = "decision" if state == "submitted" else "removal"
    try:
        due = decision_due(submitted_on, time) if kind == "decision" else removal_due(submitted_on, accepted_on,
                                                                                          time)
    except CalendarMissing as error:
        # No date is computed on a guessed calendar; a flagged case stays overdue regardless.
        return Deadline(kind, None, state == "still_shown", str(error))
    return Deadline(kind, due, state == "still_shown" or as_of > due)
