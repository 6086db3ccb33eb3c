"""When a message reached the mailbox: the time every date rule of the notice is counted from.

三(一)1 counts items per week and month, 三(二)1 judges a 约稿 by its deadline and 三(二)2 closes column
cycles: all of them are about when the liaison's mail arrived, not when mailbot got round to reading it
(a daemon down over a weekend must not move Friday's items into next week). The mailbox's own record
comes first (IMAP INTERNALDATE, a Maildir file's delivery time), the sender's Date header only when the
mailbox says nothing, and a time in the future (a wrong clock) is never believed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from mailbot.domain.mime import header_end


@dataclass(frozen=True)
class Fetched:
    """A message as a Source hands it over: its bytes and the time the mailbox says it arrived."""

    raw: bytes
    arrived: datetime | None = None


@dataclass(frozen=True)
class Streamed:
    """A whole message as a Source hands it over: its bytes in pieces, each fetched as the one
    before is written away (so no process holds a whole large message while storing it), and the
    time the mailbox says it arrived."""

    parts: Iterator[bytes]
    arrived: datetime | None = None


def date_header(raw: bytes) -> datetime | None:
    """The Date header of the raw message, or None when absent or unreadable."""
    head = raw[: header_end(raw)]  # not raw.split(): that copies the whole body to drop it
    value = None
    for line in head.splitlines():
        if line[:5].lower() == b"date:":
            value = line[5:].decode("ascii", "replace").strip()
            break
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):  # a hostile Date header is no date
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def arrival_time(mailbox_time: datetime | None, header_time: datetime | None, now: datetime) -> datetime:
    """The mailbox's time, else the Date header's, else now; never later than now. Aware, in UTC."""
    for moment in (mailbox_time, header_time):
        if moment is not None:
            aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return min(aware.astimezone(UTC), now.astimezone(UTC))
    return now.astimezone(UTC)
