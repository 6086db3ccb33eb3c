"""Emailed office commands are confirmed before they run: the admin's own mailbox must quote a code.

A command from an admin address is stored with a one-time code, and the code is mailed to that
registered address. The command is carried out (by `OfficeMail.command`, as if it had just arrived)
when a mail from the same address quotes the code in time; a code works once. A forger who wrote the
admin's address in From never sees the code. Mail from an admin that is neither a command nor a
code is answered at most once an hour, so an auto-responder cannot keep a loop going.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from mailbot.adapters.db import CommandConfirmation, Message, utcnow
from mailbot.compose import reply_subject
from mailbot.config import Config
from mailbot.domain.commands import CommandError, command_line, looks_like_command, parse_command
from mailbot.domain.confirm import ANSWERS, WRONG_CODE, CodeState, codes_in, new_code, state_of
from mailbot.domain.formats import local_time
from mailbot.domain.mime import ParsedMail
from mailbot.domain.triage import Outcome
from mailbot.domain.vocabulary import OutboxKind, Verdict
from mailbot.office_commands import OfficeMail
from mailbot.outbox import Mailer

log = logging.getLogger("mailbot")
UNCLEAR = "unclear"  # the reason of a command_failed that was neither a command nor a known code


class Confirmations:
    """Decides whether an admin's mail asks for a command, confirms one, or neither."""

    def __init__(self, config: Config, mailer: Mailer, office: OfficeMail) -> None:
        self.config = config
        self.mailer = mailer
        self.office = office
        self.tz = ZoneInfo(config.timezone)
        self.clock: Callable[[], datetime] = utcnow  # tests move time by replacing it

    def pending_code(self, s: Session, sender: str, text: str) -> bool:
        """Whether `text` quotes a code that was sent to `sender` (used or not: either is answered)."""
        codes = codes_in(text)
        return bool(codes) and s.exec(_for(sender, codes)).first() is not None

    def handle(self, s: Session, row: Message, mail: ParsedMail, replied_number: str | None, verified: bool) -> Outcome:
        if looks_like_command(mail.text):
            if verified and self.config.security.skip_confirmation_when_authenticated:
                return self.office.command(s, row, mail, replied_number)
            try:
                parse_command(mail.text)
            except CommandError:  # nothing to confirm: say at once what is wrong with it
                return self.office.command(s, row, mail, replied_number)
            return self._ask(s, row, mail, replied_number)
        codes = codes_in(mail.text)
        found = s.exec(_for(mail.sender, codes)).all() if codes else []
        now = self.clock()
        states = [(state_of(c.used_at, c.expires_at, now), c) for c in found]
        valid = [c for state, c in states if state == CodeState.VALID]
        if valid:
            return self._run(s, row, mail, valid[0], now)
        if states:
            state = CodeState.USED if any(st == CodeState.USED for st, _c in states) else CodeState.EXPIRED
            log.warning("office command code from %s refused: %s", mail.sender, state)
            self._answer(s, row, mail, ANSWERS[state])
            return Outcome(Verdict.COMMAND_FAILED, (f"code_{state}",))
        if self._answered_lately(s, mail.sender, now):
            return Outcome(Verdict.IGNORED, (f"{UNCLEAR}_again",))
        if codes:
            self._answer(s, row, mail, WRONG_CODE)
            return Outcome(Verdict.COMMAND_FAILED, (UNCLEAR,))
        outcome = self.office.command(s, row, mail, replied_number)  # explains the commands there are
        return Outcome(outcome.verdict, (UNCLEAR,))

    def _ask(self, s: Session, row: Message, mail: ParsedMail, replied_number: str | None) -> Outcome:
        assert row.id is not None
        now = self.clock()
        minutes = self.config.security.confirm_minutes
        taken = set(s.exec(select(CommandConfirmation.code).where(CommandConfirmation.admin == mail.sender)).all())
        pending = CommandConfirmation(
            code=new_code(taken),
            admin=mail.sender,
            command=command_line(mail.text),
            item_number=replied_number,
            message_pk=row.id,
            created_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        s.add(pending)
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "command_line": pending.command,
            "item_number": replied_number or "",
            "code": pending.code,
            "admin": mail.sender,
            "minutes": minutes,
            "expires": local_time(pending.expires_at, self.tz),
        }
        self.mailer.enqueue(
            s,
            row.id,
            OutboxKind.CONFIRMATION,
            "office/confirm",
            (mail.sender,),
            f"【请确认】办公室指令：{pending.command[:60]}",
            context,
            in_reply_to=mail.message_id,
            references=mail.references,
        )
        log.info("office command from %s waits for its code: %s", mail.sender, pending.command)
        verb = parse_command(mail.text).verb
        return Outcome(Verdict.AWAITING_CONFIRMATION, (verb,))

    def _run(self, s: Session, row: Message, mail: ParsedMail, pending: CommandConfirmation, now: datetime) -> Outcome:
        pending.used_at, pending.used_by_pk = now, row.id
        s.add(pending)
        s.flush()  # the code is spent in this transaction, whatever the command does
        log.info("office command from %s confirmed by its code", mail.sender)
        return self.office.command(s, row, replace(mail, text=pending.command), pending.item_number)

    def _answer(self, s: Session, row: Message, mail: ParsedMail, error: str) -> None:
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "command_line": command_line(mail.text),
            "ok": False,
            "error": error,
        }
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

    def _answered_lately(self, s: Session, sender: str, now: datetime) -> bool:
        """An unclear mail from this admin was answered within the hour: an auto-responder, or a person
        who has had the explanation already."""
        earlier = s.exec(
            select(Message).where(
                Message.sender == sender,
                Message.verdict == Verdict.COMMAND_FAILED,
                Message.reasons == UNCLEAR,
                col(Message.received_at) >= now - timedelta(hours=1),
            )
        ).first()
        return earlier is not None


def _for(sender: str, codes: set[str]) -> SelectOfScalar[CommandConfirmation]:
    """The confirmations sent to `sender` whose code is among `codes`, newest first."""
    return (
        select(CommandConfirmation)
        .where(CommandConfirmation.admin == sender, col(CommandConfirmation.code).in_(codes))
        .order_by(col(CommandConfirmation.id).desc())
    )
