"""Ingest: store a fetched message raw, decide its verdict, and record verdict, item and reply at once.

The flow is one-way and every step is recorded before the next starts:
fetch -> store raw (ledger row `stored`) -> unpack/parse/check -> record item + reply in one
transaction (`recorded`) -> file the message in its folder (`filed`). A crash at any point is
resumed from the ledger on the next pass, so each message gets exactly one verdict and one reply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from mailbot.adapters.db import Liaison, Message, Unit, utcnow
from mailbot.adapters.render import Renderer
from mailbot.adapters.storage import Storage
from mailbot.compose import reply_subject
from mailbot.config import Config
from mailbot.confirmations import Confirmations
from mailbot.corrections import find_corrected, item_with_content, record_first_version, supersede
from mailbot.domain.archive import Limits
from mailbot.domain.arrival import arrival_time, date_header
from mailbot.domain.auth import authenticated
from mailbot.domain.checks import CheckResult, Facts, Rules, evaluate, reason
from mailbot.domain.column_match import column_from
from mailbot.domain.commands import looks_like_command
from mailbot.domain.corrections import locked_because
from mailbot.domain.formats import local_time
from mailbot.domain.loops import loop_reason
from mailbot.domain.mime import ParsedMail, message_ids, parse_headers, parse_message
from mailbot.domain.submission import Submission, content_hash, kind_marker, unpack
from mailbot.domain.triage import Arrival, Outcome, Route, triage
from mailbot.domain.vocabulary import Held, MessageState, OutboxKind, Verdict
from mailbot.enrolment import propose, release_held
from mailbot.faults import crash_point, failure_point
from mailbot.handover import Analysis, with_bytes
from mailbot.held import HeldSummary, held_note
from mailbot.incidents import IncidentDesk
from mailbot.items import column_warnings, item_points, receipt_facts, record_files, record_item, solicitation_for
from mailbot.lookups import earlier_copy, replied_item, replies_last_hour
from mailbot.office_commands import OfficeMail
from mailbot.outbox import Mailer
from mailbot.ports import MailRef, Transport

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
        self.office = OfficeMail(config, self.mailer, release=lambda s, pk: release_held(self, s, pk))
        self.confirmations = Confirmations(config, self.mailer, self.office)
        self.held = HeldSummary(config, engine, self.mailer)
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

    def wants_unpacking(self, head: bytes) -> bool:
        """Only a registered liaison's attachments are opened: anyone else's mail is held or answered
        from its headers and text, so a stranger's archive is never unpacked."""
        sender = parse_headers(head).sender
        with Session(self.engine) as s:
            return s.exec(select(Liaison).where(Liaison.email == sender, col(Liaison.active))).first() is not None

    def count_failure(self, pk: int) -> int:
        """The worker died or hit a limit on this message; committed at once, so a restart knows."""
        with Session(self.engine) as s:
            row = s.exec(select(Message).where(Message.id == pk)).one()
            row.analysis_failures += 1
            s.add(row)
            s.commit()
            return row.analysis_failures

    def failures(self, pk: int) -> int:
        with Session(self.engine) as s:
            return s.exec(select(Message).where(Message.id == pk)).one().analysis_failures

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

    def store_raw(
        self, ref: MailRef, raw: bytes | Iterable[bytes], arrived: datetime | None = None, size: int = 0
    ) -> int:
        """First thing after fetching: the raw bytes on disk and a ledger row, before any parsing.
        The row keeps when the mail reached the mailbox: every date rule counts from that moment.
        `raw` may come in pieces (a Source's fetch), written away as they come. `size` is the
        message's size on the server when only its header was fetched."""
        digest, rel, stored = self.storage.put_message(raw)
        with Session(self.engine) as s:
            row = Message(
                mailbox=ref.mailbox,
                folder=ref.folder,
                uidvalidity=ref.uidvalidity,
                uid=ref.uid,
                sha256=digest,
                size=max(size, stored),
                raw_path=rel,
                received_at=arrival_time(arrived, date_header(self.storage.head(rel)), utcnow()),
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

    def record(self, pk: int, ref: MailRef, analysis: Analysis | None = None, failed: bool = False) -> Outcome:
        """Decide on a stored message and commit its verdict, item and reply in one transaction.
        `failed`: the worker could not analyse it; it is held, read for its headers alone."""
        with Session(self.engine) as s:
            # Row-locked: should two processes ever hold the same message, the second waits here and
            # then finds it recorded.
            row = s.exec(select(Message).where(Message.id == pk).with_for_update()).one()
            if row.state != MessageState.STORED:
                return Outcome(row.verdict, tuple(row.reasons.split()))
            head = self.storage.head(row.raw_path)
            if failed or analysis is None:  # headers alone, or no worker: the stored message is parsed here
                mail = parse_headers(head) if failed else parse_message(self.storage.get(row.raw_path))
            else:
                mail = analysis.mail
            row.message_id, row.sender, row.subject = mail.message_id[:250], mail.sender[:250], mail.subject[:500]
            try:
                if failed:
                    raise _AnalysisFailed
                outcome = self._decide(s, row, mail, head, analysis.submission if analysis else None)
            except _AnalysisFailed:
                log.error("message uid=%s could not be analysed within the limits; held for the office", ref.uid)
                outcome = self._hold(s, row, mail, Held.ANALYSIS_FAILED)
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

    def _decide(self, s: Session, row: Message, mail: ParsedMail, head: bytes, sub: Submission | None) -> Outcome:
        """Look up the facts, let `triage` pick the way, and act on it."""
        earlier = earlier_copy(s, row)
        replied = replied_item(s, mail)
        liaison = s.exec(select(Liaison).where(Liaison.email == mail.sender, col(Liaison.active))).first()
        security = self.config.security
        verified = bool(security.trusted_authserv_ids) and authenticated(
            BytesHeaderParser().parsebytes(head).items(), mail.sender, security.trusted_authserv_ids
        )
        from_admin = mail.sender in {a.lower() for a in self.config.office.admins}
        way = triage(
            Arrival(
                seen_before=earlier is not None,
                loop=loop_reason(mail, own_addresses={self.config.smtp.from_address, self.config.mailbox.username}),
                authenticated=not security.require_authentication or verified,
                from_admin=from_admin,
                looks_like_command=looks_like_command(mail.text),
                answers_our_mail=replied is not None,
                has_attachments=bool(mail.attachments),
                liaison_known=liaison is not None,
                replies_last_hour=replies_last_hour(s, mail.sender) if liaison is not None else 0,
                replies_per_hour=self.config.limits.replies_per_sender_per_hour,
                quotes_code=from_admin and self.confirmations.pending_code(s, mail.sender, mail.text),
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
            return self.confirmations.handle(s, row, mail, replied[0] if replied else None, verified)
        if way.route == Route.HOLD and way.reason == Held.UNAUTHENTICATED:
            log.warning("held mail from %s: sender not authenticated by the receiving server", mail.sender)
        if way.route == Route.HOLD and way.reason == Held.COMMAND_REFUSED:
            log.warning("refused an office command from %s (not in [office] admins)", mail.sender)
        if way.route == Route.HOLD and way.reason == Held.UNKNOWN_SENDER:  # maybe a registered liaison's new address
            return self._hold(s, row, mail, Held.UNKNOWN_SENDER, **propose(s, row, mail, sub, self.limits))
        if way.route == Route.HOLD and way.reason != Held.RATE_LIMITED:
            return self._hold(s, row, mail, Held(way.reason))
        assert liaison is not None
        unit = s.get(Unit, liaison.unit_id)
        assert unit is not None
        row.unit_id, row.liaison_id = unit.id, liaison.id
        if way.route == Route.HOLD:
            return self._hold(s, row, mail, Held.RATE_LIMITED, unit=unit.name)
        sub = sub if sub is not None else unpack(with_bytes(self.storage, row.id, mail).attachments, self.limits)
        if urgent or (urgent := self.incidents.concerns(s, mail, sub)):  # a marker inside the manuscript
            carried = with_bytes(self.storage, row.id, mail, self.config.incidents.attach_max_bytes)
            return self.incidents.receive(s, row, carried, sub, liaison, unit, urgent)
        return self._check(s, row, mail, sub, liaison, unit)

    def _check(
        self,
        s: Session,
        row: Message,
        mail: ParsedMail,
        sub: Submission | None,
        liaison: Liaison,
        unit: Unit,
    ) -> Outcome:
        """A liaison's submission: rejected with its problems, a duplicate of an item, or a new item."""
        fetched = self.storage.size(row.raw_path)
        if row.size > fetched:  # too large to fetch: only its header is here, the mail stays on the server
            oversized = reason("oversized_message", f"{row.size / 1048576:.1f} MB", self.rules)
            context = self._context(mail, liaison, unit, CheckResult((oversized,), ()), row.received_at)
            row.problems = oversized.message
            self._reply(s, row, mail, OutboxKind.REJECTION, context)
            return Outcome(Verdict.REJECTION, (oversized.code,), unit=unit.name)
        sub = sub if sub is not None else unpack(with_bytes(self.storage, row.id, mail).attachments, self.limits)
        crash_point("unpacked")
        ms = sub.manuscript
        title = ms.title if ms else ""
        body = tuple(ms.body) if ms else ()
        kind, where = kind_marker(mail.subject, title, body, from_title=self.config.checks.kind_from_title)
        match = column_from(mail.subject, (title, *body), self.config.columns)
        column = match.column if match else None
        facts = Facts(sub, kind, fetched, mail.text, column.photos if column else None, where)
        found = evaluate(facts, self.rules)
        context = self._context(mail, liaison, unit, found, row.received_at)
        if not found.accepted:
            row.problems = "\n".join(p.message for p in found.problems)
            self._reply(s, row, mail, OutboxKind.REJECTION, context)
            return Outcome(Verdict.REJECTION, tuple(p.code for p in found.problems), unit=unit.name)
        assert ms is not None
        digest = content_hash(ms)
        original = item_with_content(s, digest)
        if original is not None:
            row.item_id = original.id
            context |= {
                "title": ms.title,
                "original_number": original.number,
                "original_received_at": local_time(original.received_at, self.tz),
            }
            self._reply(s, row, mail, OutboxKind.DUPLICATE, context)
            return Outcome(Verdict.DUPLICATE, (f"item_{original.number}",), original.number, unit.name)
        replied_to = (*mail.references, *message_ids(mail.headers.get("in-reply-to", "")))
        window = timedelta(days=self.config.checks.correction_window_days)
        assert unit.id is not None
        prior = find_corrected(s, replied_to, mail.subject, unit.id, ms.title, row.received_at, window)
        if prior is not None and locked_because(prior):
            detail = f"原稿 {prior.number}《{prior.title}》{locked_because(prior)}，修改稿为《{ms.title}》"
            return self._hold(s, row, mail, Held.CORRECTION_OF_JUDGED, unit=unit.name, detail=detail)
        solicitation_id, warnings = solicitation_for(s, mail.subject, ms.title, self.rules)
        warnings = [*found.warnings, *warnings, *column_warnings(match, self.config.columns, self.rules)]
        record_files(s, self.storage, row, sub)  # only a recorded item keeps its unpacked files
        changed: tuple[str, ...] = ()
        if prior is not None:  # a corrected re-send: the same item, its next version
            points = item_points(kind, column, self.config.scoring)
            item, changed = supersede(s, prior.item_id, row, sub, kind, points, column.name if column else None, digest)
        else:
            item = record_item(
                s, self.tz, self.config.scoring, row, unit, liaison, sub, kind, digest, solicitation_id, column
            )
            record_first_version(s, item, row.id)
        context |= receipt_facts(s, item, self.tz, changed) | {"warnings": warnings}
        self._reply(s, row, mail, OutboxKind.RECEIPT, context)
        verdict = Verdict.CORRECTION if prior is not None else Verdict.RECEIPT
        return Outcome(verdict, tuple(w.code for w in warnings), item.number, unit.name)

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

    def _hold(
        self, s: Session, row: Message, mail: ParsedMail, why: Held, unit: str = "", detail: str = "", **proposal: str
    ) -> Outcome:
        """No reply to the sender; the office hears of it in the next summary (`held.HeldSummary`), with
        the particulars (`detail`) and what it can do (`proposal`) kept on the message for that summary."""
        row.held_note = held_note(detail, proposal)
        return Outcome(Verdict.HELD, (why,), unit=unit)


class _AnalysisFailed(Exception):
    """The worker died or hit a limit on this message, twice."""


def _at(ref: MailRef) -> SelectOfScalar[Message]:
    """The ledger row of the message at `ref`."""
    return select(Message).where(
        Message.mailbox == ref.mailbox,
        Message.folder == ref.folder,
        Message.uidvalidity == ref.uidvalidity,
        Message.uid == ref.uid,
    )
