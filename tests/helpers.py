"""Helpers shared by the integration and reliability tests."""

from __future__ import annotations

from mailbot.domain.triage import Outcome
from mailbot.ingest import Desk
from mailbot.ports import MailRef


def ingest(desk: Desk, ref: MailRef, raw: bytes) -> Outcome:
    """The first two steps of a pass for one message (store raw, record), without filing it: a run
    that died after recording."""
    return desk.record(desk.store_raw(ref, raw), ref, raw)
