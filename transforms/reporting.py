"""The reporting calendar and windows: each defined here once, read by the models (as SQL variables and a
macro the build sets), the export, the report, the CLI and the flows.

- The reporting week (统计周) is the ISO week, Monday to Sunday, in China Standard Time (Asia/Shanghai,
  UTC+8 all year: China has kept no daylight saving time since 1991). Timestamps in the warehouse are UTC.
- The removal window: a removal candidate (可申请信用修复) is eligible now or within this many days.
- The licence window: a licence expiring within this many days is a licence at risk (续期风险).
- The trend: the report shows this many reporting weeks.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import duckdb

REPORTING_TIMEZONE = "Asia/Shanghai"
REPORTING_UTC_OFFSET_HOURS = 8  # Asia/Shanghai: China Standard Time, no DST
REMOVAL_WINDOW_DAYS = 30
LICENCE_WINDOW_DAYS = 180
TREND_WEEKS = 26


def iso_week(day: date) -> str:
    """The reporting week a (China Standard Time) day falls in: '2026-W47'."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(week: str) -> tuple[date, date]:
    """'2026-W47' → (its Monday, its Sunday); ValueError naming the text when it is not an ISO week."""
    match = re.fullmatch(r"(\d{4})-W(\d{2})", week.strip())
    if not match:
        raise ValueError(f"week {week!r}: expected an ISO week like 2026-W47")
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError as error:
        raise ValueError(f"week {week!r}: {error}") from None
    return monday, monday + timedelta(days=6)


def trend_weeks(as_of: date) -> list[str]:
    """The TREND_WEEKS reporting weeks up to and including the week of `as_of`, oldest first."""
    monday = as_of - timedelta(days=as_of.weekday())
    return [iso_week(monday - timedelta(weeks=n)) for n in range(TREND_WEEKS - 1, -1, -1)]


def set_sql_calendar(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    """The as-of date, the windows and the reporting-week macros, for the models and the data tests.

    `reporting_day(ts)` is the China Standard Time date of a UTC timestamp; `reporting_week(day_or_ts)`
    its ISO week as '2026-W47' (a DATE is taken as already a China date)."""
    con.execute("SET VARIABLE as_of = ?::DATE", [as_of])
    con.execute(f"SET VARIABLE removal_window_days = {int(REMOVAL_WINDOW_DAYS)}")
    con.execute(f"SET VARIABLE licence_window_days = {int(LICENCE_WINDOW_DAYS)}")
    con.execute("CREATE OR REPLACE TEMP MACRO reporting_day(ts) AS "
                f"CAST(CAST(ts AS TIMESTAMP) + INTERVAL {int(REPORTING_UTC_OFFSET_HOURS)} HOUR AS DATE)")
    con.execute("CREATE OR REPLACE TEMP MACRO reporting_week(day) AS strftime(CAST(day AS DATE), '%G-W%V')")
