"""What the desk looks up about a message before deciding: earlier copies, our mail it answers, its sender's load.

Plain queries on the caller's session, kept apart from the decision itself (`ingest.Desk`).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailbot.adapters.db import Item, Message, Outbox, utcnow
from mailbot.domain.mime import ParsedMail, message_ids
from mailbot.domain.vocabulary import FINAL_VERDICTS, MessageState


def earlier_copy(s: Session, row: Message) -> Message | None:
    """A message with the same bytes that already has a final verdict."""
    return s.exec(
        select(Message).where(
            Message.sha256 == row.sha256,
            Message.id != row.id,
            Message.state != MessageState.STORED,
            col(Message.verdict).in_(FINAL_VERDICTS),
        )
    ).first()


def replied_item(s: Session, mail: ParsedMail) -> tuple[str | None] | None:
    """When the mail answers something we sent: (the item number it was about, or None)."""
    ids = (*mail.references, *message_ids(mail.headers.get("in-reply-to", "")))
    if not ids:
        return None
    sent = s.exec(select(Outbox).where(col(Outbox.message_id).in_(ids))).first()
    if sent is None:
        return None
    origin = s.get(Message, sent.message_pk) if sent.message_pk else None
    item = s.get(Item, origin.item_id) if origin is not None and origin.item_id else None
    return (item.number if item else None,)


def replies_last_hour(s: Session, sender: str) -> int:
    since = utcnow() - timedelta(hours=1)
    return s.exec(
        select(func.count()).select_from(Outbox).where(Outbox.recipients == sender, Outbox.created_at >= since)
    ).one()
