"""Working days on China's official calendar: holidays, adjusted working Saturdays, a missing year."""

from __future__ import annotations

from datetime import date

import pytest

from transforms.workdays import CalendarMissing, add_working_days, is_working_day, working_days_between


def test_national_day_holiday_is_skipped_and_the_adjusted_saturday_counts() -> None:
    # 2026 National Day: 1-7 October off; Sunday 20 September and Saturday 10 October are worked (调休).
    assert not is_working_day(date(2026, 10, 5))
    assert is_working_day(date(2026, 10, 10))  # a Saturday, worked
    # 3 working days after Wednesday 30 September: 8, 9, 10 October (the 10th is the adjusted Saturday).
    assert add_working_days(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 10)) == 3


def test_an_ordinary_week_counts_monday_to_friday() -> None:
    assert add_working_days(date(2026, 11, 20), 7) == date(2026, 12, 1)  # Fri + 7 working days
    assert working_days_between(date(2026, 11, 20), date(2026, 11, 20)) == 0


def test_a_year_without_a_published_calendar_is_named() -> None:
    with pytest.raises(CalendarMissing, match="2099") as caught:
        add_working_days(date(2099, 1, 1), 3)
    assert caught.value.year == 2099


def test_a_period_must_be_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(date(2026, 1, 5), 0)
