"""Office commands by email, and the notices that tell a unit its item was adopted or returned.

An admin's command is carried out in the same transaction as the verdict of the message that
carried it, and its confirmation (and any notice to the unit) is queued in that transaction too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from mailbot import office
from mailbot.adapters.db import Adoption, Item, Liaison, Message, Review, Unit, utcnow
from mailbot.compose import reply_subject
from mailbot.config import Config
from mailbot.domain.commands import INCIDENT_VERBS, LEVEL_NAMES, CommandError, command_line, parse_command
from mailbot.domain.formats import fmt_points
from mailbot.domain.mime import ParsedMail, message_ids
from mailbot.domain.triage import Outcome
from mailbot.domain.vocabulary import OutboxKind, Verdict
from mailbot.incidents import IncidentDesk
from mailbot.outbox import Mailer

log = logging.getLogger("mailbot")
ADOPTED = "adopted"  # the `event` of a notice; anything else is a return in final review


class OfficeMail:
    """Carries out emailed commands and notifies units; replies go through the mailer."""

    def __init__(self, config: Config, mailer: Mailer, release: Callable[[Session, int], None] | None = None) -> None:
        self.config = config
        self.mailer = mailer
        self.tz = ZoneInfo(config.timezone)
        self.release = release  # processes a held message once 登记 has registered its sender
        self.incidents = IncidentDesk(config, mailer.renderer)

    def command(self, s: Session, row: Message, mail: ParsedMail, replied_number: str | None) -> Outcome:
        """Carry out the command in `mail` and confirm it to the sender, or tell them why not."""
        context: dict[str, object] = {"office_name": self.config.office.name, "command_line": command_line(mail.text)}
        try:
            command = parse_command(mail.text)
            if command.verb in INCIDENT_VERBS:  # 核报/批示: deadlines counted from the command's arrival
                refs = (*mail.references, *message_ids(mail.headers.get("in-reply-to", "")))
                done = self.incidents.command(s, command, mail.sender, row.received_at, row.id, refs)
            else:
                done = office.apply(s, command, replied_number, mail.sender, utcnow().astimezone(self.tz).date())
        except (CommandError, office.OfficeError) as exc:
            self._confirm(s, row, mail, context | {"ok": False, "error": str(exc)})
            log.info("office command from %s not carried out: %s", mail.sender, str(exc).splitlines()[0])
            return Outcome(Verdict.COMMAND_FAILED, (Verdict.COMMAND_FAILED,))
        self._confirm(s, row, mail, context | {"ok": True, "summary": done.summary})
        if done.notify and done.item_id is not None:
            self.notify(s, row.id, done.item_id, done.notify)
        self.released(s, done)
        log.info("office command from %s: %s", mail.sender, done.summary)
        return Outcome(Verdict.COMMAND, (command.verb,))

    def released(self, s: Session, done: office.Done) -> None:
        """Held mail whose sender 登记 has just registered, checked and answered in the caller's transaction:
        one path for the emailed command and the browser's confirmation."""
        for held in done.release:
            if self.release is not None:
                self.release(s, held)

    def _confirm(self, s: Session, row: Message, mail: ParsedMail, context: dict[str, object]) -> None:
        self.mailer.enqueue(
            s,
            row.id,
            OutboxKind.COMMAND,
            "office/command",
            (mail.sender,),
            reply_subject(mail.subject),
            context,
            in_reply_to=mail.message_id,
            references=mail.references,
        )

    def notify(self, s: Session, message_pk: int | None, item_id: int, event: str) -> None:
        """Tell the submitting unit that its item was adopted or returned in final review."""
        item = s.get(Item, item_id)
        assert item is not None
        unit = s.get(Unit, item.unit_id)
        people = s.exec(
            select(Liaison).where(Liaison.unit_id == item.unit_id, col(Liaison.active), col(Liaison.email).is_not(None))
        ).all()
        if unit is None or not people:
            return
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "liaison_name": "、".join(p.name for p in people if p.name),
            "unit_name": unit.name,
            "number": item.number,
            "title": item.title,
            "event": event,
        }
        if event == ADOPTED:
            adoption = s.exec(
                select(Adoption).where(Adoption.item_id == item_id).order_by(col(Adoption.id).desc())
            ).first()
            assert adoption is not None
            context |= {
                "level_name": LEVEL_NAMES[adoption.level],
                "publication": adoption.publication,
                "points": fmt_points(self.config.scoring.adoption(adoption.level)),
            }
            subject = f"【采用】信息 {item.number} 已被{LEVEL_NAMES[adoption.level]}采用"
        else:
            review = s.exec(select(Review).where(Review.item_id == item_id).order_by(col(Review.id).desc())).first()
            assert review is not None
            context |= {"reason": review.reason}
            subject = f"【终审退回】信息 {item.number}《{item.title}》"
        self.mailer.enqueue(
            s,
            message_pk,
            f"notice_{event}",
            "reply/notice",
            tuple(p.email for p in people if p.email),
            subject,
            context,
            auto="auto-generated",
        )
