"""Rows counted per local day by the database: a year's bulletin asks how many items each unit filed on
each day, and reading 100,000 moments into Python to date them cost most of its second.

SQLite and PostgreSQL group a run of days of one UTC offset by the date of the moment plus that offset
(`calendar.offset_runs`); a day the offset changes on, and any other database, is dated row by row
exactly as `calendar.utc_to_local_date` dates it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, cast, func, literal_column, select
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import ColumnElement

from mailbot.domain.calendar import offset_runs, utc_to_local_date

Key = tuple[Any, ...]
Column = Any  # a column as SQLModel's `col()` gives it (typed as the mapped attribute)


def local_day(dialect: str, moment: Column, minutes: int) -> ColumnElement[Any] | None:
    """The local date of a stored UTC moment under a fixed offset, in SQL; None where it is not known how.
    The offset is written into the statement (an int), so the select and its GROUP BY are the same text."""
    if dialect == "sqlite":  # moments are 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
        return func.date(moment, literal_column(f"'{minutes:+d} minutes'"))
    if dialect == "postgresql":  # timestamptz: read in UTC, whatever the session's TimeZone
        return cast(func.timezone("UTC", moment) + literal_column(f"INTERVAL '{minutes} minutes'"), Date)
    return None


def count_by_local_day(
    conn: Connection,
    moment: Column,
    keys: Sequence[Column],
    where: Sequence[ColumnElement[bool]],
    start: date,
    end: date,
    tz: str,
) -> list[tuple[date, Key, int]]:
    """(local day, keys, rows) for the rows matching `where` whose moment falls on start..end, in order of
    day (then keys, as the database sorts them)."""
    counts: list[tuple[date, Key, int]] = []
    for run in offset_runs(start, end, tz):
        window = [*where, moment >= run.lo, moment < run.hi]
        day = local_day(conn.dialect.name, moment, run.minutes) if run.minutes is not None else None
        if day is None:
            by_row: Counter[tuple[date, Key]] = Counter()
            for at, *values in conn.execute(select(moment, *keys).where(*window)):
                by_row[(utc_to_local_date(at, tz), tuple(values))] += 1
            counts += [(d, k, n) for (d, k), n in sorted(by_row.items(), key=lambda e: e[0][0])]
            continue
        labelled = day.label("local_day")
        query = select(labelled, *keys, func.count()).where(*window).group_by(labelled, *keys).order_by(labelled)
        for on, *values, n in conn.execute(query):
            counts.append((on if isinstance(on, date) else date.fromisoformat(on), tuple(values), int(n)))
    return counts
