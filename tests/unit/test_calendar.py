"""Periods, China's working days and the bureau's local day, on real 2026 dates.

chinese_calendar 1.11.0 reports for 2026: Mid-Autumn 09-25..09-27 and National Day 10-01..10-07 off,
with make-up working days Sunday 09-20 and Saturday 10-10; Spring Festival 02-15..02-23 off, with
make-up working days Saturday 02-14 and Saturday 02-28.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mailbot.domain.calendar import (
    Period,
    WorkCalendar,
    local_day_bounds,
    month_of,
    parse_period,
    period_bounds,
    quarter_of,
    utc_to_local_date,
    week_of,
    year_of,
)

TZ = "Asia/Shanghai"
OFFICIAL = WorkCalendar()


def test_week_is_iso_monday_to_sunday() -> None:
    week = week_of(date(2026, 10, 8))
    assert week == Period("week", "2026-W41", date(2026, 10, 5), date(2026, 10, 11))
    assert week_of(date(2026, 10, 11)) == week  # Sunday still belongs to it
    assert week_of(date(2026, 10, 12)).label == "2026-W42"


def test_week_53_spans_the_year_boundary() -> None:
    w53 = Period("week", "2026-W53", date(2026, 12, 28), date(2027, 1, 3))
    assert week_of(date(2027, 1, 1)) == w53
    assert week_of(date(2026, 12, 28)) == w53
    assert parse_period("2026-W53") == w53
    assert week_of(date(2027, 1, 4)).label == "2027-W01"
    assert w53.contains(date(2027, 1, 3)) and not w53.contains(date(2027, 1, 4))


def test_month_quarter_and_year() -> None:
    assert month_of(date(2026, 11, 30)) == Period("month", "2026-11", date(2026, 11, 1), date(2026, 11, 30))
    assert month_of(date(2026, 12, 1)) == Period("month", "2026-12", date(2026, 12, 1), date(2026, 12, 31))
    assert month_of(date(2028, 2, 10)).end == date(2028, 2, 29)
    assert quarter_of(date(2026, 11, 15)) == Period("quarter", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31))
    assert quarter_of(date(2026, 2, 1)) == Period("quarter", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31))
    assert year_of(date(2026, 6, 1)) == Period("year", "2026", date(2026, 1, 1), date(2026, 12, 31))


def test_contains_includes_both_ends() -> None:
    month = month_of(date(2026, 11, 5))
    assert month.contains(date(2026, 11, 1)) and month.contains(date(2026, 11, 30))
    assert not month.contains(date(2026, 10, 31)) and not month.contains(date(2026, 12, 1))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-W41", week_of(date(2026, 10, 5))),
        (" 2026-w01 ", week_of(date(2025, 12, 29))),
        ("2026-11", month_of(date(2026, 11, 1))),
        ("2026-q4", quarter_of(date(2026, 10, 1))),
        ("2026", year_of(date(2026, 1, 1))),
    ],
)
def test_parse_period_reads_every_label(text: str, expected: Period) -> None:
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    "text, message",
    [
        ("2026-13", "month must be 01..12"),
        ("2026-00", "month must be 01..12"),
        ("2026-Q5", "quarter must be Q1..Q4"),
        ("2025-W53", "ISO year 2025 has weeks W01..W52"),
        ("2026-W00", "ISO year 2026 has weeks W01..W53"),
        ("0000", "year 0 is out of range"),
        ("2026/11", "is not one of 2026-W48"),
        ("2026-W1", "is not one of 2026-W48"),
        ("26-11", "is not one of 2026-W48"),
        ("", "is not one of 2026-W48"),
    ],
)
def test_parse_period_rejects_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_period(text)


def test_official_holidays_and_make_up_days_2026() -> None:
    assert OFFICIAL.is_workday(date(2026, 10, 10))  # Saturday, make-up day for National Day
    assert OFFICIAL.is_workday(date(2026, 9, 20))  # Sunday, make-up day
    assert OFFICIAL.is_workday(date(2026, 2, 28))  # Saturday, make-up day for Spring Festival
    assert not OFFICIAL.is_workday(date(2026, 10, 5))  # Monday, National Day
    assert not OFFICIAL.is_workday(date(2026, 9, 25))  # Friday, Mid-Autumn
    assert not OFFICIAL.is_workday(date(2026, 10, 17))  # ordinary Saturday
    assert OFFICIAL.is_workday(date(2026, 10, 12))  # ordinary Monday


def test_workdays_of_the_national_day_weeks() -> None:
    assert OFFICIAL.workdays(week_of(date(2026, 9, 28))) == [date(2026, 9, 28), date(2026, 9, 29), date(2026, 9, 30)]
    assert OFFICIAL.workdays(week_of(date(2026, 10, 5))) == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]
    assert OFFICIAL.workdays(week_of(date(2026, 2, 16))) == []  # Spring Festival
    assert len(OFFICIAL.workdays(month_of(date(2026, 10, 1)))) == 18  # 22 weekdays - 5 off + Sat 10-10


def test_years_the_package_does_not_know_fall_back_to_monday_to_friday() -> None:
    new_year = date(2027, 1, 1)  # a Friday; 2027's schedule is not in chinese_calendar 1.11.0
    assert OFFICIAL.is_workday(new_year) and not OFFICIAL.knows(new_year)
    assert not OFFICIAL.is_workday(date(2027, 1, 2)) and not OFFICIAL.knows(date(2027, 1, 2))
    assert OFFICIAL.knows(date(2026, 12, 31)) and OFFICIAL.knows(date(2026, 10, 10))
    assert not OFFICIAL.knows(date(2003, 6, 2))


def test_overrides_come_first_and_are_known() -> None:
    cal = WorkCalendar(
        extra_holidays=frozenset({date(2027, 1, 1), date(2026, 10, 9)}),
        extra_workdays=frozenset({date(2027, 1, 9), date(2026, 10, 11)}),
    )
    assert not cal.is_workday(date(2027, 1, 1)) and cal.knows(date(2027, 1, 1))
    assert cal.is_workday(date(2027, 1, 9)) and cal.knows(date(2027, 1, 9))  # a Saturday
    assert not cal.is_workday(date(2026, 10, 9))  # beats the official working Friday
    assert cal.is_workday(date(2026, 10, 11))  # beats the official Sunday off
    assert not cal.knows(date(2027, 1, 4))
    w53 = week_of(date(2026, 12, 31))
    assert OFFICIAL.workdays(w53) == [date(2026, 12, 28) + timedelta(days=i) for i in range(5)]
    assert cal.workdays(w53) == [date(2026, 12, 28) + timedelta(days=i) for i in range(4)]


def test_overrides_accept_sets_and_refuse_contradictions() -> None:
    from_set = WorkCalendar(extra_holidays={date(2027, 1, 1)})  # type: ignore[arg-type]
    assert from_set == WorkCalendar(frozenset({date(2027, 1, 1)})) and isinstance(from_set.extra_holidays, frozenset)
    with pytest.raises(ValueError, match="2027-01-01"):
        WorkCalendar(frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 1)}))


def test_week_boundary_in_local_time() -> None:
    sunday_night = datetime(2026, 10, 4, 15, 59, tzinfo=UTC)  # Sunday 23:59 in Shanghai
    monday_midnight = datetime(2026, 10, 4, 16, 0, tzinfo=UTC)  # Monday 00:00 in Shanghai
    assert utc_to_local_date(sunday_night, TZ) == date(2026, 10, 4)
    assert utc_to_local_date(monday_midnight, TZ) == date(2026, 10, 5)
    assert week_of(utc_to_local_date(sunday_night, TZ)).label == "2026-W40"
    assert week_of(utc_to_local_date(monday_midnight, TZ)).label == "2026-W41"
    beijing = timezone(timedelta(hours=8))
    assert utc_to_local_date(datetime(2026, 10, 4, 23, 59, tzinfo=beijing), TZ) == date(2026, 10, 4)


def test_naive_datetimes_are_utc_whatever_the_server_zone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert utc_to_local_date(datetime(2026, 10, 4, 16, 0), TZ) == date(2026, 10, 5)
        assert utc_to_local_date(datetime(2026, 10, 4, 15, 59), TZ) == date(2026, 10, 4)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_month_boundary_in_local_time() -> None:
    last_minute = datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)
    assert month_of(utc_to_local_date(last_minute, TZ)).label == "2026-11"
    assert month_of(utc_to_local_date(last_minute + timedelta(seconds=1), TZ)).label == "2026-12"
    start, end = period_bounds(parse_period("2026-11"), TZ)
    assert (start, end) == (datetime(2026, 10, 31, 16, tzinfo=UTC), datetime(2026, 11, 30, 16, tzinfo=UTC))
    assert start <= last_minute < end and not last_minute + timedelta(seconds=1) < end


def test_local_day_and_week_bounds_are_half_open_utc() -> None:
    assert local_day_bounds(date(2026, 10, 5), TZ) == (
        datetime(2026, 10, 4, 16, tzinfo=UTC),
        datetime(2026, 10, 5, 16, tzinfo=UTC),
    )
    assert period_bounds(parse_period("2026-W53"), TZ) == (
        datetime(2026, 12, 27, 16, tzinfo=UTC),
        datetime(2027, 1, 3, 16, tzinfo=UTC),
    )
    start, _ = local_day_bounds(date(2026, 10, 5), TZ)
    assert start.utcoffset() == timedelta(0)
