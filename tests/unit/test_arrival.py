"""The time a message arrived: the mailbox's word first, the Date header as a fallback, never the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from mailbot.domain.arrival import arrival_time, date_header

NOW = datetime(2026, 10, 12, 3, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


def test_mailbox_time_wins_over_the_date_header() -> None:
    internal = datetime(2026, 10, 9, 17, 30, tzinfo=SHANGHAI)  # Friday afternoon, processed on Monday
    header = datetime(2026, 10, 1, tzinfo=UTC)
    assert arrival_time(internal, header, NOW) == datetime(2026, 10, 9, 9, 30, tzinfo=UTC)


def test_date_header_only_when_the_mailbox_says_nothing() -> None:
    raw = b"From: a@example.com\r\nDate: Fri, 09 Oct 2026 17:30:00 +0800\r\nSubject: x\r\n\r\nDate: not this\r\n"
    assert date_header(raw) == datetime(2026, 10, 9, 9, 30, tzinfo=UTC)
    assert arrival_time(None, date_header(raw), NOW) == datetime(2026, 10, 9, 9, 30, tzinfo=UTC)
    assert date_header(b"Subject: x\r\n\r\nbody") is None
    assert date_header(b"Date: yesterday\r\n\r\n") is None
    assert date_header(b"Date: Fri, 09 Oct 2026 17:30:00 +99999999999999999999\r\n\r\n") is None
    assert arrival_time(None, None, NOW) == NOW


def test_a_time_in_the_future_is_clamped_to_now() -> None:
    assert arrival_time(NOW + timedelta(days=3), None, NOW) == NOW
    assert arrival_time(None, NOW + timedelta(hours=1), NOW) == NOW
    assert arrival_time(datetime(2026, 10, 9, 9, 30), None, NOW) == datetime(
        2026, 10, 9, 9, 30, tzinfo=UTC
    )  # naive = UTC
