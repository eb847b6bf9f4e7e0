"""Verified removal (核实撤下): the run, not a person, closes a repair case.

After the platform accepted the application, the first COMPLETE crawl of the record's source that no longer
shows the record (finished on or after the acceptance day) closes the case removed_verified with that
crawl's date. Dates are days in China (the acceptance date is one); the warehouse's timestamps are UTC. An
incomplete crawl proves nothing: the loader marks a record removed only on a complete one
(warehouse/load.py). A record a crawl still shows after the case's removal due (handling + sync time,
transforms/repair/deadlines.py) flags the case still_shown; a later complete crawl without it still closes
the case removed_verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import duckdb

from transforms.repair.cases import Case, all_cases, transition
from transforms.repair.deadlines import china_day, china_day_start, handling_time, removal_due
from transforms.workdays import CalendarMissing

RUN_ACTOR = "creditwatch run"  # who the audit names for the run's own transitions


@dataclass(frozen=True)
class Verified:
    case_id: str
    action: str  # verify_removed / flag_still_shown
    on: date
    run_id: str


def first_complete_crawl_without(con: duckdb.DuckDBPyConnection, source: str, since: datetime
                                 ) -> tuple[str, datetime] | None:
    """(run_id, crawled_at) of the first complete crawl of `source` at or after `since`."""
    rows = con.execute("SELECT s.run_id, r.crawled_at FROM ops.source_runs s JOIN ops.runs r USING (run_id) "
                       "WHERE s.source = ? AND s.complete AND r.crawled_at >= ? ORDER BY r.crawled_at LIMIT 1",
                       [source, since]).fetchall()
    return rows[0] if rows else None


def run_that_saw(con: duckdb.DuckDBPyConnection, source: str, seen_at: datetime) -> str:
    """The run of `source` that last saw a record (its crawled_at is the record's last_seen_at)."""
    rows = con.execute("SELECT max(s.run_id) FROM ops.source_runs s JOIN ops.runs r USING (run_id) "
                       "WHERE s.source = ? AND r.crawled_at = ?", [source, seen_at]).fetchall()
    return rows[0][0]


def check_case(con: duckdb.DuckDBPyConnection, case: Case) -> Verified | None:
    """What the crawls so far say about an accepted (or still_shown) case; None: nothing to do yet."""
    if case.state not in ("accepted", "still_shown") or case.outcome_on is None:
        return None
    rows = con.execute("SELECT source, removed_at, last_seen_at FROM raw.records WHERE record_id = ?",
                       [case.record_id]).fetchall()
    if not rows:
        return None  # purged: there is nothing left to compare
    source, removed_at, last_seen_at = rows[0]
    accepted_at = china_day_start(case.outcome_on)  # dates are days in China; timestamps are UTC
    if removed_at is not None:
        crawl = first_complete_crawl_without(con, source, max(accepted_at, removed_at))
        return Verified(case.case_id, "verify_removed", china_day(crawl[1]), crawl[0]) if crawl else None
    if case.state == "still_shown" or case.submitted_on is None or case.platform is None:
        return None
    try:
        due = removal_due(case.submitted_on, case.outcome_on, handling_time(case.platform, case.record_type))
    except CalendarMissing:
        return None  # no deadline on an unpublished calendar: the mart says so (deadline_note)
    if china_day(last_seen_at) > due:
        return Verified(case.case_id, "flag_still_shown", china_day(last_seen_at), run_that_saw(con, source,
                                                                                               last_seen_at))
    return None


def verify_cases(con: duckdb.DuckDBPyConnection) -> list[Verified]:
    """Apply what the crawls say to every accepted or still_shown case (in the caller's transaction)."""
    done = []
    for case in all_cases(con):
        found = check_case(con, case)
        if found is None:
            continue
        transition(con, found.case_id, found.action, found.on, {"run_id": found.run_id}, RUN_ACTOR,
                   verified_on=found.on, verified_run_id=found.run_id)
        done.append(found)
    return done
