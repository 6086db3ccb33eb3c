"""calendar.LocalDays gives every moment the local date utc_to_local_date gives it, across DST and out of range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mailbot.domain.calendar import LocalDays, utc_to_local_date


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
