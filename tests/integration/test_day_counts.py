"""The database dates stored moments as the bureau's calendar does: a year of items counted per local day in
SQL (SQLite, and PostgreSQL in the suite's second pass) gives the counts of dating each item in Python, in
a zone without DST, one with it, one of a 45-minute offset and one whose DST moves the clock half an hour."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlmodel import col

from mailbot.adapters import db
from mailbot.adapters.day_counts import count_by_local_day
from mailbot.adapters.db import Item
from mailbot.domain.calendar import utc_to_local_date
from mailbot.domain.vocabulary import ItemKind, ItemStatus
from tests.servers import database_url

COLUMNS = (None, "工作动态", "通知公告")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """Items every 53 minutes through 2026, and every 7 minutes around the days the clocks change."""
    url = database_url(tmp_path_factory.mktemp("day-counts"))
    built = db.make_engine(url)  # the schema, made as the daemon makes it
    moments = [datetime(2025, 12, 30, tzinfo=UTC) + timedelta(minutes=53 * n) for n in range(10_000)]
    for change in (date(2026, 3, 8), date(2026, 4, 5), date(2026, 10, 4), date(2026, 11, 1)):
        noon = datetime(change.year, change.month, change.day, 12, tzinfo=UTC)
        moments += [noon - timedelta(hours=36) + timedelta(minutes=7 * n) for n in range(1000)]
    rows = [
        {
            "number": f"2026-{n:05d}",
            "year": 2026,
            "seq": n,
            "unit_id": 1 + n % 3,
            "title": f"信息{n}",
            "kind": ItemKind.ROUTINE,
            "body_chars": 500,
            "photo_count": 1,
            "first_reviewer": "甲",
            "second_reviewer": "乙",
            "points": 0.3,
            "content_hash": f"h{n}",
            "status": ItemStatus.RETURNED if n % 11 == 0 else ItemStatus.RECEIVED,
            "received_at": at,
            "column_name": COLUMNS[n % 3],
            "version": 1,
        }
        for n, at in enumerate(moments, start=1)
    ]
    with built.begin() as conn:
        conn.execute(insert(db.Unit), [{"id": i, "name": f"单位{i}", "kind": "区县", "aliases": ""} for i in (1, 2, 3)])
        conn.execute(insert(Item), rows)
    return built


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_counts_per_local_day_match_dating_each_item(engine: Engine, tz: str) -> None:
    start, end = date(2026, 1, 1), date(2026, 12, 31)
    expected: Counter[tuple[date, int, str | None]] = Counter()
    with engine.connect() as conn:
        for unit_id, at, column, status in conn.execute(
            select(col(Item.unit_id), col(Item.received_at), col(Item.column_name), col(Item.status))
        ):
            day = utc_to_local_date(at, tz)
            if start <= day <= end and status != ItemStatus.RETURNED:
                expected[(day, unit_id, column)] += 1
        counted = count_by_local_day(
            conn,
            col(Item.received_at),
            [col(Item.unit_id), col(Item.column_name)],
            [col(Item.status) != ItemStatus.RETURNED],
            start,
            end,
            tz,
        )
    days = [day for day, _keys, _n in counted]
    assert days == sorted(days)
    got = Counter({(day, unit_id, column): n for day, (unit_id, column), n in counted})
    assert len(got) == len(counted)  # each (day, keys) once
    assert got == expected
    assert sum(got.values()) > 9000
