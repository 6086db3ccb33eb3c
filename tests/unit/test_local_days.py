"""calendar.LocalDays gives every moment the local date utc_to_local_date gives it, across DST and out of range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mailbot.domain.calendar import LocalDays, offset_runs, utc_to_local_date


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu"])
def test_local_days_agree_with_the_zone_conversion(tz: str) -> None:
    days = LocalDays(date(2026, 1, 1), date(2026, 12, 31), tz)
    moment = datetime(2025, 12, 30, 0, 7)  # before the window too, and after it at the end
    while moment < datetime(2027, 1, 3):
        expected = utc_to_local_date(moment, tz)
        assert days(moment) == expected, moment
        assert days(moment.replace(tzinfo=UTC)) == expected, moment
        assert days(moment.replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=-3)))) == expected, moment
        moment += timedelta(minutes=47)


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_offset_runs_give_every_moment_its_local_date(tz: str) -> None:
    runs = offset_runs(date(2026, 1, 1), date(2026, 12, 31), tz)
    assert runs[0].first == date(2026, 1, 1) and runs[-1].last == date(2026, 12, 31)
    assert all(a.hi == b.lo and a.last + timedelta(days=1) == b.first for a, b in zip(runs, runs[1:], strict=False))
    changes = [r for r in runs if r.minutes is None]
    assert len(changes) == (0 if tz in ("Asia/Shanghai", "Asia/Kathmandu") else 2)
    assert all(c.first == c.last for c in changes)
    for run in runs:
        moment = run.lo.replace(tzinfo=None)
        while moment < run.hi.replace(tzinfo=None):
            if run.minutes is not None:
                assert (moment + timedelta(minutes=run.minutes)).date() == utc_to_local_date(moment, tz), moment
            assert run.first <= utc_to_local_date(moment, tz) <= run.last
            moment += timedelta(minutes=37)
