"""Held mail is told to the office in one summary per interval, never one notice per message.

A stranger who sends forty mails must not make forty notices: each pass ends by listing what was
held since the last summary, at most once per `[limits] held_notice_minutes`. The summary's outbox
row keeps the id of the last message it covered, so nothing is told twice or left out, across
restarts too.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters.db import Message, Outbox, utcnow
from mailbot.config import Config
from mailbot.domain.formats import local_time
from mailbot.domain.vocabulary import HELD_WHY, MessageState, OutboxKind, Verdict
from mailbot.outbox import Mailer

log = logging.getLogger("mailbot")
LISTED = 100  # a summary names this many messages; the rest are counted


def held_note(detail: str, proposal: Mapping[str, str]) -> str:
    """What the summary will say of one held message beyond its reason: the particulars (which item a
    correction concerns) and the one-line reply that settles it (登记 ...). Kept on the message."""
    return json.dumps({"detail": detail, **proposal}, ensure_ascii=False) if detail or proposal else ""


def _entry(r: Message, tz: ZoneInfo) -> dict[str, object]:
    note: dict[str, str] = json.loads(r.held_note) if r.held_note else {}
    why = "；".join(HELD_WHY.get(code, code) for code in r.reasons.split())
    return {
        "sender": r.sender,
        "sender_name": note.get("sender_name", ""),
        "subject": r.subject or "(无主题)",
        "received_at": local_time(r.received_at, tz),
        "why": f"{why}：{note['detail']}" if note.get("detail") else why,
        **{k: v for k, v in note.items() if k != "detail"},
    }


class HeldSummary:
    def __init__(self, config: Config, engine: Engine, mailer: Mailer) -> None:
        self.config = config
        self.engine = engine
        self.mailer = mailer
        self.tz = ZoneInfo(config.timezone)
        self.clock: Callable[[], datetime] = utcnow  # tests move time by replacing it

    def send(self) -> int:
        """Queue one summary of the mail held since the last one, when the interval has passed;
        returns how many messages it covers."""
        office = self.config.office
        if not office.recipients:
            return 0
        with Session(self.engine) as s:
            last = s.exec(
                select(Outbox).where(Outbox.kind == OutboxKind.HELD_NOTICE).order_by(col(Outbox.id).desc())
            ).first()
            interval = timedelta(minutes=self.config.limits.held_notice_minutes)
            if last is not None and last.created_at > self.clock() - interval:
                return 0
            after = last.message_pk or 0 if last is not None else 0
            rows = s.exec(
                select(Message)
                .where(Message.verdict == Verdict.HELD, col(Message.id) > after, Message.state != MessageState.STORED)
                .order_by(col(Message.id))
            ).all()
            if not rows:
                return 0
            held = [_entry(r, self.tz) for r in rows[:LISTED]]
            first = rows[0]
            subject = (
                f"【来信暂存】{first.sender}：{first.subject or '(无主题)'}"
                if len(rows) == 1
                else f"【来信暂存】{len(rows)} 封来信待人工处理"
            )
            context: dict[str, object] = {
                "office_name": office.name,
                "held": held,
                "more": len(rows) - len(held),
                "held_folder": self.config.mailbox.held_folder,
            }
            queued = self.mailer.enqueue(
                s,
                rows[-1].id,
                OutboxKind.HELD_NOTICE,
                "office/held",
                office.recipients,
                subject,
                context,
                auto="auto-generated",
            )
            s.commit()
            log.info("held-mail summary for %d message(s) %s", len(rows), "queued" if queued else "over the limit")
            return len(rows)
