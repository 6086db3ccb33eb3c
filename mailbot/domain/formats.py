"""How times and points are written for people: one rule each, used by replies, digests and the CLI.

Naive datetimes are UTC (SQLite gives them back without a zone); everything shown is local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def local(moment: datetime, tz: ZoneInfo | str) -> datetime:
    """`moment` in the office's time zone; a naive value is read as UTC, as the database stores it."""
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone)


def local_time(moment: datetime, tz: ZoneInfo | str, *, year: bool = True) -> str:
    """ "2026年3月1日 10:00", or "3月1日 10:00" where the year is plain from the context (a digest)."""
    t = local(moment, tz)
    day = f"{t.year}年{t.month}月{t.day}日" if year else f"{t.month}月{t.day}日"
    return f"{day} {t:%H:%M}"


def local_stamp(moment: datetime, tz: ZoneInfo | str) -> str:
    """ "2026-03-01 10:00": fixed width, for tables in a terminal."""
    return f"{local(moment, tz):%Y-%m-%d %H:%M}"


def fmt_points(points: float, *, fixed: bool = False) -> str:
    """Points as people read them: "0.3", "0.15", "1" in sentences; fixed (two decimals, "9.30") in a
    bulletin's columns, so they line up. Shares are kept to 4 decimals, so 4 are enough."""
    if fixed:
        return f"{points:.2f}"
    return f"{points:.4f}".rstrip("0").rstrip(".")


def day_range(start: date, end: date) -> str:
    """ "10月5日至10月11日", "10月5日" for a single day: a cycle as the office names it in a sheet."""
    first = f"{start.month}月{start.day}日"
    return first if start == end else f"{first}至{end.month}月{end.day}日"
