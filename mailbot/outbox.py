"""The outbox: composing outgoing mail into rows, and sending due rows with retries.

A row is written in the same transaction as whatever it reports (transactional outbox), and is
marked sent only after the server accepted it, so each reply goes out exactly once or is reported
to the office as undeliverable.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters.db import Outbox, utcnow
from mailbot.adapters.render import Renderer
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.domain.vocabulary import OFFICE_KINDS, OutboxKind, OutboxState
from mailbot.faults import crash_point
from mailbot.ports import PermanentFailure, TemporaryFailure, Transport

log = logging.getLogger("mailbot")
MAX_RETRY_SECONDS = 3600


class Mailer:
    """Renders templates into outbox rows, and drains the outbox through a transport."""

    def __init__(self, config: Config, engine: Engine, renderer: Renderer) -> None:
        self.config = config
        self.engine = engine
        self.renderer = renderer

    def enqueue(
        self,
        s: Session,
        message_pk: int | None,
        kind: str,
        template: str,
        to: tuple[str, ...],
        subject: str,
        context: dict[str, object],
        *,
        in_reply_to: str = "",
        references: tuple[str, ...] = (),
        auto: str = "auto-replied",
    ) -> bool:
        """Add one composed message to the caller's transaction; it is sent once that commits.

        Every kind of mail counts against one limit per recipient, per hour and per day: a loop with
        an auto-responder, a flood from a stranger or a full account quota cannot make us send more.
        Over the limit nothing is queued (it is logged) and False is returned.
        """
        busy = [r for r in to if self.over_limit(s, r)]
        if busy:
            log.warning("not sending %s %r: the hourly or daily limit for %s is reached", kind, subject, ",".join(busy))
            return False
        smtp = self.config.smtp
        text, html = self.renderer.pair(template, context)
        msgid = new_message_id(smtp.from_address)
        env = Envelope(smtp.from_address, smtp.from_name, to, subject, in_reply_to, references, auto)
        raw = compose(env, text, html, msgid, datetime.now(UTC)).as_bytes()
        s.add(
            Outbox(
                message_pk=message_pk,
                kind=kind,
                sender=smtp.from_address,
                recipients=",".join(to),
                subject=subject,
                message_id=msgid,
                raw=raw,
            )
        )
        return True

    def over_limit(self, s: Session, recipient: str) -> bool:
        """Whether `recipient` has had its hourly or daily share of our mail (counting queued rows)."""
        return over_limit(s, self.config, recipient)

    def drain(self, transport: Transport) -> int:
        """Send what is due, oldest first; mark each sent only after the server accepted it.

        ConnectionFailure propagates with every row untouched: an SMTP outage does not use up
        any message's attempts, and the queue keeps its order for when the server is back.
        """
        sent, last_id = 0, 0
        try:
            while True:
                sent_now, last_id = self._send_next(transport, last_id)
                if last_id == 0:
                    return sent
                sent += sent_now
        finally:
            transport.close()

    def _report_failure(self, s: Session, row: Outbox) -> None:
        """Tell the office a reply could not be delivered, so a person can reach the liaison; never
        about the office's own mail, which would only fail again."""
        office = self.config.office
        if not office.recipients or row.kind.startswith(OFFICE_KINDS):
            return
        context: dict[str, object] = {
            "office_name": office.name,
            "recipients": row.recipients,
            "subject": row.subject,
            "error": row.last_error,
            "attempts": row.attempts,
            "kind": row.kind,
        }
        self.enqueue(
            s,
            row.message_pk,
            OutboxKind.DELIVERY_FAILED,
            "office/delivery_failed",
            office.recipients,
            f"【投递失败】发往 {row.recipients} 的邮件未能送达",
            context,
            auto="auto-generated",
        )

    def _send_next(self, transport: Transport, after: int) -> tuple[int, int]:
        """Send the next due row after id `after`; returns (1 if sent else 0, its id or 0 if none)."""
        with Session(self.engine) as s:
            # SKIP LOCKED: several instances drain one outbox, each row is sent by one of them.
            row = s.exec(
                select(Outbox)
                .where(
                    Outbox.state == OutboxState.PENDING,
                    col(Outbox.next_attempt_at) <= utcnow(),
                    col(Outbox.id) > after,
                )
                .order_by(col(Outbox.id))
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return 0, 0
            assert row.id is not None
            sent = 0
            try:
                transport.send(row.sender, row.recipients.split(","), row.raw)
                crash_point("reply_sent")
            except TemporaryFailure as exc:
                row.attempts += 1
                row.last_error = str(exc)[:500]
                if row.attempts >= self.config.smtp.max_attempts:
                    row.state = OutboxState.FAILED
                    log.error(
                        "reply %s to %s failed for good after %d attempts: %s",
                        row.id,
                        row.recipients,
                        row.attempts,
                        row.last_error,
                    )
                    self._report_failure(s, row)
                else:
                    delay = min(MAX_RETRY_SECONDS, self.config.smtp.retry_seconds * 2 ** (row.attempts - 1))
                    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
                    log.warning(
                        "reply %s to %s deferred (attempt %d): %s", row.id, row.recipients, row.attempts, row.last_error
                    )
            except PermanentFailure as exc:
                row.state, row.last_error, row.attempts = OutboxState.FAILED, str(exc)[:500], row.attempts + 1
                log.error("reply %s to %s refused: %s", row.id, row.recipients, row.last_error)
                self._report_failure(s, row)
            else:
                row.state, row.sent_at, row.attempts = OutboxState.SENT, utcnow(), row.attempts + 1
                sent = 1
                log.info("reply %s sent kind=%s to=%s", row.id, row.kind, row.recipients)
            s.add(row)
            s.commit()
            return sent, row.id


def over_limit(s: Session, config: Config, recipient: str) -> bool:
    """Whether `recipient` has had its hourly or daily share of our mail, of every kind (queued rows
    count): the one limit, also for mail queued outside `Mailer.enqueue` (urgent and office notices)."""
    lim, now = config.limits, utcnow()
    rows = s.exec(
        select(Outbox.recipients, Outbox.created_at).where(
            col(Outbox.created_at) >= now - timedelta(days=1),
            col(Outbox.recipients).contains(recipient),
        )
    ).all()
    mine = [at for recipients, at in rows if recipient in recipients.split(",")]
    hour = sum(1 for at in mine if at >= now - timedelta(hours=1))
    return hour >= lim.mails_per_recipient_per_hour or len(mine) >= lim.mails_per_recipient_per_day
