"""Shared by the incident desk and its watch: the time limits as configured, the duty office, and
queueing an urgent mail (Importance/X-Priority) whose Message-ID is kept so replies link back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlmodel import Session

from mailbot.adapters.db import Outbox
from mailbot.adapters.render import Renderer
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.domain import incidents as rules
from mailbot.outbox import over_limit

log = logging.getLogger("mailbot")


def utc(moment: datetime) -> datetime:
    """The database gives naive UTC back (SQLite): aware UTC, so times compare."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def limits_of(config: Config) -> rules.Deadlines:
    c = config.incidents
    return rules.Deadlines(
        c.verify_phone_minutes,
        c.verify_written_minutes,
        c.instruction_hours,
        c.instruction_same_day,
        c.final_report_hours,
        c.final_reminder_hours,
    )


def duty_of(config: Config) -> tuple[str, ...]:
    """The duty office (值班室), or the office's recipients when none is configured."""
    return config.incidents.duty or config.office.recipients


def queue(
    config: Config,
    renderer: Renderer,
    s: Session,
    message_pk: int | None,
    kind: str,
    template: str,
    to: tuple[str, ...],
    subject: str,
    context: dict[str, object],
    *,
    urgent: bool = False,
    in_reply_to: str = "",
    references: tuple[str, ...] = (),
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> str:
    """One outbox row in the caller's transaction; returns its Message-ID, so replies link back.
    Urgent mail carries Importance/X-Priority, which 163, QQ mail and Outlook show as 紧急."""
    smtp = config.smtp
    busy = [r for r in to if over_limit(s, config, r)]
    if busy:  # the one per-recipient limit covers urgent mail too: a loop must not exhaust the account
        log.error(
            "not sending urgent %s %r: the hourly or daily limit for %s is reached", kind, subject, ",".join(busy)
        )
        return ""
    text, html = renderer.pair(template, context)
    msgid = new_message_id(smtp.from_address)
    auto = "auto-replied" if in_reply_to else "auto-generated"
    env = Envelope(smtp.from_address, smtp.from_name, to, subject, in_reply_to, references, auto)
    msg = compose(env, text, html, msgid, datetime.now(UTC), attachments=attachments)
    if urgent:
        msg["Importance"] = "high"
        msg["X-Priority"] = "1 (Highest)"
        msg["X-MSMail-Priority"] = "High"
    s.add(
        Outbox(
            message_pk=message_pk,
            kind=kind,
            sender=smtp.from_address,
            recipients=",".join(to),
            subject=subject,
            message_id=msgid,
            raw=msg.as_bytes(),
        )
    )
    return msgid
