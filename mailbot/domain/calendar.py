"""Reporting periods and China's working days, so quotas and reminders follow the official calendar.

Quotas are counted per ISO week (Monday..Sunday) and per calendar month in the bureau's local time;
reminders must land on working days, which in China include make-up days (调休) on weekends and exclude
the long holidays. `chinese_calendar` knows the State Council's schedule for 2004-2026; for later years
the office adds the new holidays to the configuration until the package is upgraded.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar


@dataclass(frozen=True)
class Period:
    kind: str  # week | month | quarter | year
    label: str  # 2026-W48 (ISO week) | 2026-11 | 2026-Q4 | 2026
    start: date  # first day
    end: date  # last day, inclusive

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def week_of(day: date) -> Period:
    """ISO weeks, so the week of 2027-01-01 is 2026-W53, not a stub week of 2027."""
    year, week, weekday = day.isocalendar()
    start = day - timedelta(days=weekday - 1)
    return Period("week", f"{year}-W{week:02d}", start, start + timedelta(days=6))


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    return Period("month", f"{day.year}-{day.month:02d}", start, _next_month(start) - timedelta(days=1))


def quarter_of(day: date) -> Period:
    quarter = (day.month - 1) // 3 + 1
    start = date(day.year, 3 * quarter - 2, 1)
    end = _next_month(date(day.year, 3 * quarter, 1)) - timedelta(days=1)
    return Period("quarter", f"{day.year}-Q{quarter}", start, end)


def year_of(day: date) -> Period:
    return Period("year", str(day.year), date(day.year, 1, 1), date(day.year, 12, 31))


def _next_month(first: date) -> date:
    return date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)


_PATTERNS = (
    (re.compile(r"(\d{4})-W(\d{2})", re.IGNORECASE), "week"),
    (re.compile(r"(\d{4})-(\d{2})"), "month"),
    (re.compile(r"(\d{4})-Q(\d)", re.IGNORECASE), "quarter"),
    (re.compile(r"(\d{4})"), "year"),
)


def parse_period(text: str) -> Period:
    """Labels as the office types them (in commands and settings) back into periods; lower-case w/q is fine."""
    cleaned = text.strip()
    for pattern, kind in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if match:
            return _build(kind, *(int(g) for g in match.groups()), text=text)
    raise ValueError(
        f"period {text!r} is not one of 2026-W48 (ISO week), 2026-11 (month), 2026-Q4 (quarter) or 2026 (year)"
    )


def _build(kind: str, year: int, number: int = 0, *, text: str) -> Period:
    if year < 1:
        raise ValueError(f"period {text!r}: year {year} is out of range")
    if kind == "week":
        try:
            return week_of(date.fromisocalendar(year, number, 1))
        except ValueError:
            last = date(year, 12, 28).isocalendar()[1]
            raise ValueError(f"period {text!r}: ISO year {year} has weeks W01..W{last}") from None
    if kind == "month":
        if not 1 <= number <= 12:
            raise ValueError(f"period {text!r}: month must be 01..12")
        return month_of(date(year, number, 1))
    if kind == "quarter":
        if not 1 <= number <= 4:
            raise ValueError(f"period {text!r}: quarter must be Q1..Q4")
        return quarter_of(date(year, 3 * number - 2, 1))
    return year_of(date(year, 1, 1))


@dataclass(frozen=True)
class WorkCalendar:
    """China's official working days: holidays and make-up working days (调休) from chinese_calendar,
    plus the bureau's own overrides for years the package does not know yet (or a local day off)."""

    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        both = sorted(self.extra_holidays & self.extra_workdays)
        if both:
            raise ValueError(f"days listed both as holiday and as working day: {', '.join(map(str, both))}")

    def is_workday(self, day: date) -> bool:
        """Overrides first, then the official schedule; Monday-Friday where the package has no data."""
        if day in self.extra_holidays:
            return False
        if day in self.extra_workdays:
            return True
        return _official_workday(day)

    def knows(self, day: date) -> bool:
        """False when is_workday() is only guessing Monday-Friday, so callers can warn the office once."""
        if day in self.extra_holidays or day in self.extra_workdays:
            return True
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            return False
        return True

    def workdays(self, period: Period) -> list[date]:
        days = (period.start + timedelta(days=i) for i in range((period.end - period.start).days + 1))
        return [day for day in days if self.is_workday(day)]


@lru_cache(maxsize=4096)
def _official_workday(day: date) -> bool:
    """The official schedule for one day, looked up once: a year's bulletin asks for the same days of
    every column's cycles tens of thousands of times. Monday-Friday where the package has no data."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def utc_to_local_date(moment: datetime, tz: str) -> date:
    """The bureau's calendar date of a stored moment; naive datetimes are UTC, as the database keeps them."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz)).date()


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local day in UTC: an item sent at 23:59 Sunday in Shanghai belongs to that week."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone).astimezone(UTC)
    return start, end


def period_bounds(period: Period, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a period in UTC, for `received_at >= start AND received_at < end` queries."""
    return local_day_bounds(period.start, tz)[0], local_day_bounds(period.end, tz)[1]


class LocalDays:
    """Local dates of many stored moments between two days: a bisect over the days' UTC bounds instead of
    a time-zone conversion per moment (a year's bulletin converts 100,000 of them), exact across DST.
    Moments are naive UTC (as SQLite returns them) or aware."""

    def __init__(self, start: date, end: date, tz: str) -> None:
        self.tz = tz
        self.days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        aware = [local_day_bounds(day, tz)[0] for day in self.days]
        self.starts = {True: aware, False: [moment.replace(tzinfo=None) for moment in aware]}
        self.stop = local_day_bounds(end, tz)[1] if self.days else datetime.min.replace(tzinfo=UTC)
        self.stops = {True: self.stop, False: self.stop.replace(tzinfo=None)}

    def ascending(self, moments: Iterable[datetime]) -> list[date]:
        """`self(moment)` of moments in ascending order, in one sweep instead of a bisect each (a year's
        items are read in order of arrival)."""
        days, starts, stop = self.days, self.starts[False], self.stops[False]
        out: list[date] = []
        index, last = -1, len(days) - 1
        for moment in moments:
            if moment.tzinfo is not None or not days or moment < starts[0] or moment >= stop:
                out.append(self(moment))
                continue
            while index < last and moment >= starts[index + 1]:
                index += 1
            out.append(days[index])
        return out

    def __call__(self, moment: datetime) -> date:
        if moment.tzinfo is not None and moment.tzinfo is not UTC:
            moment = moment.astimezone(UTC)
        aware = moment.tzinfo is not None
        index = bisect_right(self.starts[aware], moment) - 1
        if index < 0 or moment >= self.stops[aware]:
            return utc_to_local_date(moment, self.tz)
        return self.days[index]


@dataclass(frozen=True)
class OffsetRun:
    """Local days first..last, [lo, hi) in UTC. Where `minutes` is set, the zone's offset holds all day
    on each of them, so a moment's local date is the date of the moment plus that offset: a database
    can group a year of moments by local day itself. `minutes` is None on a day the offset changes."""

    first: date
    last: date
    lo: datetime
    hi: datetime
    minutes: int | None


def offset_runs(start: date, end: date, tz: str) -> list[OffsetRun]:
    """start..end cut into runs of days of one UTC offset, and the days of a DST change alone."""
    runs: list[OffsetRun] = []
    day = start
    while day <= end:
        lo, hi = local_day_bounds(day, tz)
        whole = hi - lo == timedelta(days=1)  # a day of 23 or 25 hours holds a change of offset
        minutes = round((datetime.combine(day, time()) - lo.replace(tzinfo=None)).total_seconds()) // 60
        key = minutes if whole else None
        if runs and key is not None and runs[-1].minutes == key:
            runs[-1] = OffsetRun(runs[-1].first, day, runs[-1].lo, hi, key)
        else:
            runs.append(OffsetRun(day, day, lo, hi, key))
        day += timedelta(days=1)
    return runs
