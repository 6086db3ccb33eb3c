"""Ingest: store a fetched message raw, decide its verdict, and record verdict, item and reply at once.

The flow is one-way and every step is recorded before the next starts:
fetch -> store raw (ledger row `stored`) -> unpack/parse/check -> record item + reply in one
transaction (`recorded`) -> file the message in its folder (`filed`). A crash at any point is
resumed from the ledger on the next pass, so each message gets exactly one verdict and one reply.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from mailbot.adapters.db import Author, Item, Liaison, Message, Outbox, Unit, utcnow
from mailbot.adapters.render import Renderer
from mailbot.adapters.storage import Storage
from mailbot.compose import reply_subject
from mailbot.config import Config
from mailbot.domain.archive import Limits
from mailbot.domain.arrival import arrival_time, date_header
from mailbot.domain.auth import authenticated
from mailbot.domain.checks import CheckResult, Facts, Rules, evaluate
from mailbot.domain.column_match import column_from
from mailbot.domain.commands import looks_like_command
from mailbot.domain.formats import fmt_points, local_time
from mailbot.domain.loops import loop_reason
from mailbot.domain.mime import ParsedMail, message_ids, parse_message
from mailbot.domain.submission import Submission, content_hash, kind_marker, unpack
from mailbot.domain.triage import Arrival, Outcome, Route, triage
from mailbot.domain.vocabulary import (
    FINAL_VERDICTS,
    HELD_WHY,
    KIND_LABELS,
    Held,
    MessageState,
    OutboxKind,
    Verdict,
)
from mailbot.faults import crash_point, failure_point
from mailbot.incidents import IncidentDesk
from mailbot.items import column_warnings, record_files, record_item, solicitation_for
from mailbot.office_commands import OfficeMail
from mailbot.outbox import Mailer
from mailbot.ports import MailRef, Transport
from mailbot.worker import Analysis

log = logging.getLogger("mailbot")


class Desk:
    """The submission desk: turns one raw message into a verdict, an item and a reply."""

    def __init__(self, config: Config, engine: Engine, storage: Storage, renderer: Renderer) -> None:
        self.config = config
        self.engine = engine
        self.storage = storage
        self.renderer = renderer
        self.tz = ZoneInfo(config.timezone)
        lim = config.limits
        self.limits = Limits(
            max_total_bytes=lim.max_archive_bytes,
            max_members=lim.max_archive_members,
            max_ratio=lim.max_compression_ratio,
        )
        self.rules = Rules(
            require_photos=config.checks.require_photos,
            min_photo_side=lim.min_photo_side,
            min_research_chars=lim.min_research_chars,
            max_message_bytes=lim.max_message_bytes,
            distinct_reviewers=config.checks.distinct_reviewers,
            photo_kinds=config.checks.photo_kinds,
        )
        self.mailer = Mailer(config, engine, renderer)
        self.office = OfficeMail(config, self.mailer)
        self.incidents = IncidentDesk(config, renderer)

    def drain_outbox(self, transport: Transport) -> int:
        """Send what is due (see `Mailer.drain`)."""
        return self.mailer.drain(transport)

    def notify_unit(self, item_id: int, event: str) -> None:
        """For actions taken on the command line: the same notice the email commands send."""
        with Session(self.engine) as s:
            self.office.notify(s, None, item_id, event)
            s.commit()

    # -- the ledger -----------------------------------------------------------------------------

    def folder_for(self, verdict: str) -> str:
        mb = self.config.mailbox
        folders: dict[str, str] = {Verdict.REJECTION: mb.rejected_folder, Verdict.HELD: mb.held_folder}
        return folders.get(verdict, mb.processed_folder)

    def state(self, ref: MailRef) -> Message | None:
        with Session(self.engine) as s:
            return s.exec(_at(ref)).first()

    def mark_filed(self, ref: MailRef) -> None:
        with Session(self.engine) as s:
            row = s.exec(_at(ref)).one()
            row.state = MessageState.FILED
            s.add(row)
            s.commit()

    def reconcile(self, mailbox: str, folder: str, uidvalidity: int, present: list[str]) -> None:
        """A message recorded but no longer in the folder was moved by a run that died before saying
        so: it is filed."""
        with Session(self.engine) as s:
            rows = s.exec(
                select(Message).where(
                    Message.mailbox == mailbox,
                    Message.folder == folder,
                    Message.uidvalidity == uidvalidity,
                    Message.state == MessageState.RECORDED,
                )
            ).all()
            gone = [r for r in rows if r.uid not in set(present)]
            for row in gone:
                row.state = MessageState.FILED
                s.add(row)
            if gone:
                s.commit()

    def store_raw(self, ref: MailRef, raw: bytes, arrived: datetime | None = None) -> int:
        """First thing after fetching: the raw bytes on disk and a ledger row, before any parsing.
        The row keeps when the mail reached the mailbox: every date rule counts from that moment."""
        digest, rel = self.storage.put(raw, "raw", ".eml")
        with Session(self.engine) as s:
            row = Message(
                mailbox=ref.mailbox,
                folder=ref.folder,
                uidvalidity=ref.uidvalidity,
                uid=ref.uid,
                sha256=digest,
                size=len(raw),
                raw_path=rel,
                received_at=arrival_time(arrived, date_header(raw), utcnow()),
            )
            s.add(row)
            try:
                s.commit()
            except IntegrityError:  # a previous run stored it and died: carry on from its row
                s.rollback()
                existing = self.state(ref)
                assert existing is not None and existing.id is not None
                return existing.id
            assert row.id is not None
            return row.id

    # -- the decision ---------------------------------------------------------------------------

    def record(self, pk: int, ref: MailRef, raw: bytes, analysis: Analysis | None = None) -> Outcome:
        """Decide on a stored message and commit its verdict, item and reply in one transaction."""
        with Session(self.engine) as s:
            # Row-locked: should two processes ever hold the same message, the second waits here and
            # then finds it recorded.
            row = s.exec(select(Message).where(Message.id == pk).with_for_update()).one()
            if row.state != MessageState.STORED:
                return Outcome(row.verdict, tuple(row.reasons.split()))
            mail = analysis.mail if analysis else parse_message(raw)
            row.message_id, row.sender, row.subject = mail.message_id[:250], mail.sender[:250], mail.subject[:500]
            try:
                outcome = self._decide(s, row, mail, raw, analysis.submission if analysis else None)
            except (OSError, SQLAlchemyError):
                raise  # the disk or the database: leave the message for the next pass
            except Exception:  # a bug met by this message: hold it, so it cannot block the mailbox
                log.exception("message uid=%s could not be processed; held for the office", ref.uid)
                s.rollback()
                row = s.exec(select(Message).where(Message.id == pk)).one()
                outcome = self._hold(s, row, mail, Held.INTERNAL_ERROR)
            row.state, row.verdict, row.reasons = MessageState.RECORDED, outcome.verdict, " ".join(outcome.reasons)
            s.add(row)
            failure_point("database_write")
            s.commit()
        crash_point("recorded")  # the item and its reply (queued) committed together
        log.info(
            "message uid=%s folder=%s from=%s unit=%s verdict=%s item=%s reasons=%s",
            ref.uid,
            ref.folder,
            mail.sender or "-",
            outcome.unit or "-",
            outcome.verdict,
            outcome.item_number or "-",
            ",".join(outcome.reasons) or "-",
        )
        return outcome

    def _decide(self, s: Session, row: Message, mail: ParsedMail, raw: bytes, sub: Submission | None) -> Outcome:
        """Look up the facts, let `triage` pick the way, and act on it."""
        earlier = s.exec(
            select(Message).where(
                Message.sha256 == row.sha256,
                Message.id != row.id,
                Message.state != MessageState.STORED,
                col(Message.verdict).in_(FINAL_VERDICTS),
            )
        ).first()
        replied = self._replied_item(s, mail)
        liaison = s.exec(select(Liaison).where(Liaison.email == mail.sender, col(Liaison.active))).first()
        security = self.config.security
        way = triage(
            Arrival(
                seen_before=earlier is not None,
                loop=loop_reason(mail, own_addresses={self.config.smtp.from_address, self.config.mailbox.username}),
                authenticated=not security.require_authentication
                or authenticated(
                    BytesHeaderParser().parsebytes(raw).get_all("Authentication-Results") or [],
                    mail.sender,
                    security.trusted_authserv_ids,
                ),
                from_admin=mail.sender in {a.lower() for a in self.config.office.admins},
                looks_like_command=looks_like_command(mail.text),
                answers_our_mail=replied is not None,
                has_attachments=bool(mail.attachments),
                liaison_known=liaison is not None,
                replies_last_hour=self._replies_last_hour(s, mail.sender) if liaison is not None else 0,
                replies_per_hour=self.config.limits.replies_per_sender_per_hour,
                incident=(urgent := self.incidents.concerns(s, mail)) is not None,  # 突发事件 on the fast lane
            )
        )
        if way.route == Route.SEEN_BEFORE:  # the same bytes again (UIDVALIDITY reset, copied back)
            assert earlier is not None
            row.item_id, row.unit_id = earlier.item_id, earlier.unit_id
            return Outcome(Verdict.SEEN_BEFORE, (f"message_{earlier.id}",))
        if way.route == Route.IGNORE:
            return Outcome(Verdict.IGNORED, (way.reason,))
        if way.route == Route.COMMAND:
            return self.office.command(s, row, mail, replied[0] if replied else None)
        if way.route == Route.HOLD and way.reason == Held.UNAUTHENTICATED:
            log.warning("held mail from %s: sender not authenticated by the receiving server", mail.sender)
        if way.route == Route.HOLD and way.reason == Held.COMMAND_REFUSED:
            log.warning("refused an office command from %s (not in [office] admins)", mail.sender)
        if way.route == Route.HOLD and way.reason != Held.RATE_LIMITED:
            return self._hold(s, row, mail, Held(way.reason))
        assert liaison is not None
        unit = s.get(Unit, liaison.unit_id)
        assert unit is not None
        row.unit_id, row.liaison_id = unit.id, liaison.id
        if way.route == Route.HOLD:
            return self._hold(s, row, mail, Held.RATE_LIMITED, unit=unit.name)
        sub = sub if sub is not None else unpack(mail.attachments, self.limits)
        if urgent or (urgent := self.incidents.concerns(s, mail, sub)):  # a marker inside the manuscript
            return self.incidents.receive(s, row, mail, sub, liaison, unit, urgent)
        return self._check(s, row, mail, raw, sub, liaison, unit)

    def _check(
        self,
        s: Session,
        row: Message,
        mail: ParsedMail,
        raw: bytes,
        sub: Submission | None,
        liaison: Liaison,
        unit: Unit,
    ) -> Outcome:
        """A liaison's submission: rejected with its problems, a duplicate of an item, or a new item."""
        sub = sub if sub is not None else unpack(mail.attachments, self.limits)
        crash_point("unpacked")
        record_files(s, self.storage, row, sub)
        ms = sub.manuscript
        title = ms.title if ms else ""
        body = tuple(ms.body) if ms else ()
        kind, where = kind_marker(mail.subject, title, body, from_title=self.config.checks.kind_from_title)
        match = column_from(mail.subject, (title, *body), self.config.columns)
        column = match.column if match else None
        facts = Facts(sub, kind, len(raw), mail.text, column.photos if column else None, where)
        found = evaluate(facts, self.rules)
        context = self._context(mail, liaison, unit, found, row.received_at)
        if not found.accepted:
            row.problems = "\n".join(p.message for p in found.problems)
            self._reply(s, row, mail, OutboxKind.REJECTION, context)
            return Outcome(Verdict.REJECTION, tuple(p.code for p in found.problems), unit=unit.name)
        assert ms is not None
        digest = content_hash(ms)
        original = s.exec(select(Item).where(Item.content_hash == digest)).first()
        if original is not None:
            row.item_id = original.id
            context |= {
                "title": ms.title,
                "original_number": original.number,
                "original_received_at": local_time(original.received_at, self.tz),
            }
            self._reply(s, row, mail, OutboxKind.DUPLICATE, context)
            return Outcome(Verdict.DUPLICATE, (f"item_{original.number}",), original.number, unit.name)
        solicitation_id, warnings = solicitation_for(s, mail.subject, ms.title, self.rules)
        warnings = [*found.warnings, *warnings, *column_warnings(match, self.config.columns, self.rules)]
        item = record_item(
            s, self.tz, self.config.scoring, row, unit, liaison, sub, kind, digest, solicitation_id, column
        )
        authors = s.exec(select(Author).where(Author.item_id == item.id)).all()
        unit_names = {u.id: u.name for u in s.exec(select(Unit))}
        context |= {
            "warnings": warnings,
            "number": item.number,
            "title": item.title,
            "kind_label": KIND_LABELS[kind],
            "drafters": [
                {"name": a.name, "unit": a.unit_text or unit_names[a.unit_id], "share": fmt_points(a.share)}
                for a in authors
            ],
            "first_reviewer": item.first_reviewer,
            "second_reviewer": item.second_reviewer,
            "photo_count": item.photo_count,
            "body_chars": item.body_chars,
            "points": fmt_points(item.points),
            "column": item.column_name or "",
        }
        self._reply(s, row, mail, OutboxKind.RECEIPT, context)
        return Outcome(Verdict.RECEIPT, tuple(w.code for w in warnings), item.number, unit.name)

    # -- lookups --------------------------------------------------------------------------------

    def _replied_item(self, s: Session, mail: ParsedMail) -> tuple[str | None] | None:
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

    def _replies_last_hour(self, s: Session, sender: str) -> int:
        since = utcnow() - timedelta(hours=1)
        return s.exec(
            select(func.count()).select_from(Outbox).where(Outbox.recipients == sender, Outbox.created_at >= since)
        ).one()

    # -- replies --------------------------------------------------------------------------------

    def _context(
        self, mail: ParsedMail, liaison: Liaison, unit: Unit, found: CheckResult, arrived: datetime
    ) -> dict[str, object]:
        return {
            "office_name": self.config.office.name,
            "liaison_name": liaison.name,
            "unit_name": unit.name,
            "subject": mail.subject or "(无主题)",
            "received_at": local_time(arrived, self.tz),
            "problems": list(found.problems),
            "warnings": list(found.warnings),
        }

    def _reply(self, s: Session, row: Message, mail: ParsedMail, kind: str, context: dict[str, object]) -> None:
        self.mailer.enqueue(
            s,
            row.id,
            kind,
            f"reply/{kind}",
            (mail.sender,),
            reply_subject(mail.subject),
            context,
            in_reply_to=mail.message_id,
            references=mail.references,
        )

    def _hold(self, s: Session, row: Message, mail: ParsedMail, why: Held, unit: str = "") -> Outcome:
        """No reply to the sender; the office is told (when it has recipients) why a person must look."""
        office = self.config.office
        if office.recipients:
            context: dict[str, object] = {
                "office_name": office.name,
                "sender": mail.sender,
                "sender_name": mail.sender_name,
                "subject": mail.subject or "(无主题)",
                "received_at": local_time(row.received_at, self.tz),
                "why": HELD_WHY[why],
                "message_ref": f"{row.folder}/{row.uid} sha256:{row.sha256[:12]}",
            }
            self.mailer.enqueue(
                s,
                row.id,
                OutboxKind.HELD_NOTICE,
                "office/held",
                office.recipients,
                f"【来信暂存】{mail.sender}：{mail.subject or '(无主题)'}",
                context,
                auto="auto-generated",
            )
        return Outcome(Verdict.HELD, (why,), unit=unit)


def _at(ref: MailRef) -> SelectOfScalar[Message]:
    """The ledger row of the message at `ref`."""
    return select(Message).where(
        Message.mailbox == ref.mailbox,
        Message.folder == ref.folder,
        Message.uidvalidity == ref.uidvalidity,
        Message.uid == ref.uid,
    )
