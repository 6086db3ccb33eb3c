"""Notices to the office about the desk itself (a report that failed, a full disk): queued in the
outbox like every other mail, so they share its retries and its per-recipient limits."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session

from mailbot.adapters.db import Outbox
from mailbot.adapters.render import Renderer
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.outbox import over_limit


def local_stamp(config: Config) -> str:
    now = datetime.now(ZoneInfo(config.timezone))
    return f"{now.year}年{now.month}月{now.day}日 {now:%H:%M}"


def notify_office(
    config: Config,
    engine: Engine,
    renderer: Renderer,
    kind: str,
    subject: str,
    template: str,
    context: Mapping[str, object],
) -> bool:
    """Queue one notice to [office] recipients; False when there is nobody to tell, or the office has had
    its share of our mail this hour (the one per-recipient limit)."""
    office, smtp = config.office, config.smtp
    with Session(engine) as s:
        if not office.recipients or any(over_limit(s, config, r) for r in office.recipients):
            return False
    text, html = renderer.pair(template, {"office_name": office.name, **context})
    msgid = new_message_id(smtp.from_address)
    envelope = Envelope(smtp.from_address, smtp.from_name, office.recipients, subject, auto_submitted="auto-generated")
    raw = compose(envelope, text, html, msgid, datetime.now(UTC)).as_bytes()
    with Session(engine) as s:
        s.add(
            Outbox(
                kind=kind,
                sender=smtp.from_address,
                recipients=",".join(office.recipients),
                subject=subject,
                message_id=msgid,
                raw=raw,
            )
        )
        s.commit()
    return True
