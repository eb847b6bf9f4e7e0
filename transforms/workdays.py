"""Working days on China's official calendar (国务院办公厅 holiday notices, with the adjusted working days
调休 that move a weekend day into the working week), read from the `chinese-calendar` package.

Where a rule counts working days -- a court deletes a 失信被执行人 entry within 3 working days after its
term (法释〔2017〕7号 Art 10), SAMR handles a repair application within 7 working days under its 2025
rules -- the count runs on this calendar. The State Council publishes each year's calendar late in the
year before, so a year the package does not know yet raises `CalendarMissing` naming it: an answer is
never computed on a guessed calendar.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


class CalendarMissing(ValueError):
    """The official calendar of `year` is not in the installed chinese-calendar package."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(f"China's official holiday calendar for {year} is not available "
                         f"(chinese-calendar {chinese_calendar.__version__}): upgrade the package once it is published")


def is_working_day(day: date) -> bool:
    """True on a working day 工作日, adjusted working days (调休上班的周末) included."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError as error:
        raise CalendarMissing(day.year) from error


def add_working_days(start: date, days: int) -> date:
    """The day on which `days` working days after `start` are complete (`start` itself is not counted,
    as 民法典 Art 201 does not count a period's first day). `days` must be at least 1."""
    if days < 1:
        raise ValueError(f"a working-day period must be at least 1 day, not {days}")
    day, counted = start, 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count


def known_years() -> tuple[int, int]:
    """The first and last year the installed package has China's official calendar for."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def working_day_flags(first: date, last: date) -> list[tuple[date, bool]]:
    """Every day from `first` to `last` with whether it is a working day, as is_working_day answers.

    For whole years at once (the removal engine's calendar table): the range is checked once, then each
    day is looked up in the package's own tables, which is what chinese_calendar.is_workday does after
    re-validating the year on every call (~100 µs a day)."""
    is_working_day(first)
    is_working_day(last)
    adjusted, holidays = chinese_calendar.workdays, chinese_calendar.holidays
    days = []
    day = first
    while day <= last:
        days.append((day, day in adjusted or (day.weekday() <= 4 and day not in holidays)))
        day += timedelta(days=1)
    return days
