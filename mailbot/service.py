"""Use cases: ingest one message, drain the outbox, one poll pass over a mailbox.

The flow is one-way and every step is recorded before the next starts:
fetch -> store raw (ledger row `stored`) -> unpack/parse/check -> record item + reply in one
transaction (`recorded`) -> file the message in its folder (`filed`). A crash at any point is
resumed from the ledger on the next pass, so each message gets exactly one verdict and one reply.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import logging
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.parser import BytesHeaderParser
from multiprocessing import get_context
from threading import Event
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, select

from mailbot import office
from mailbot.adapters.db import (
    Adoption,
    Author,
    Item,
    Liaison,
    Message,
    Outbox,
    Review,
    Solicitation,
    StoredFile,
    Unit,
    utcnow,
)
from mailbot.adapters.render import Renderer
from mailbot.adapters.storage import Storage
from mailbot.compose import Envelope, compose, new_message_id, reply_subject
from mailbot.config import Config
from mailbot.domain.archive import Limits
from mailbot.domain.arrival import Fetched, arrival_time, date_header
from mailbot.domain.auth import authenticated
from mailbot.domain.checks import Facts, Reason, Rules, Verdict, evaluate, reason
from mailbot.domain.columns import Column, ColumnMatch, column_from
from mailbot.domain.commands import LEVEL_NAMES, CommandError, command_line, looks_like_command, parse_command
from mailbot.domain.loops import loop_reason
from mailbot.domain.mime import ParsedMail, message_ids, parse_message
from mailbot.domain.scoring import split_evenly, submission_points
from mailbot.domain.solicitations import match_solicitation, names_solicitation
from mailbot.domain.submission import Submission, content_hash, kind_marker, unpack
from mailbot.domain.units import match_unit
from mailbot.faults import crash_point, failure_point

log = logging.getLogger("mailbot")

KIND_LABELS = {"routine": "常规信息", "research": "调研类信息", "experience": "经验类信息"}
HELD_WHY = {
    "unknown_sender": "发件人不是已登记的信息宣传员",
    "rate_limited": "该发件人一小时内来信过多，暂停自动回复",
    "reply_to_notice": "发件人回复了系统发出的邮件（没有附件），可能有问题需要人工答复",
    "command_refused": "发件人不在 [office] admins 名单中，却发送了办公室指令，已拒绝执行",
    "unauthenticated": "收件服务器未能验证发件人身份（SPF/DKIM/DMARC 均未通过），可能是冒用他人邮箱",
    "internal_error": "系统处理这封邮件时出错（详见日志），请人工查看原始邮件并答复发件人",
}


@dataclass(frozen=True)
class MailRef:
    mailbox: str
    folder: str
    uidvalidity: int
    uid: str


@dataclass(frozen=True)
class Outcome:
    verdict: str
    reasons: tuple[str, ...] = ()
    item_number: str = ""
    unit: str = ""


class Source(Protocol):
    """A mailbox: IMAP or Maildir. Listing and fetching never change it; only `file` does."""

    key: str
    folder: str

    def open(self) -> None: ...
    def close(self) -> None: ...
    def listing(self) -> tuple[int, list[str]]: ...
    def fetch(self, uid: str) -> Fetched: ...  # the bytes and the mailbox's arrival time
    def file(self, uid: str, folder: str) -> None: ...
    def wait(self, seconds: float, stop: Event) -> None: ...


class Transport(Protocol):
    def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...
    def close(self) -> None: ...


class TemporaryFailure(Exception):
    """The server deferred this message (4xx): try it again later."""


class ConnectionFailure(Exception):
    """The server cannot be reached or refused the login: nothing is wrong with the messages."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx); retrying would not help."""


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
        self.points = config.scoring

    def folder_for(self, verdict: str) -> str:
        mb = self.config.mailbox
        return {"rejection": mb.rejected_folder, "held": mb.held_folder}.get(verdict, mb.processed_folder)

    def state(self, ref: MailRef) -> Message | None:
        with Session(self.engine) as s:
            return s.exec(
                select(Message).where(
                    Message.mailbox == ref.mailbox,
                    Message.folder == ref.folder,
                    Message.uidvalidity == ref.uidvalidity,
                    Message.uid == ref.uid,
                )
            ).first()

    def mark_filed(self, ref: MailRef) -> None:
        with Session(self.engine) as s:
            row = s.exec(
                select(Message).where(
                    Message.mailbox == ref.mailbox,
                    Message.folder == ref.folder,
                    Message.uidvalidity == ref.uidvalidity,
                    Message.uid == ref.uid,
                )
            ).one()
            row.state = "filed"
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
                    Message.state == "recorded",
                )
            ).all()
            gone = [r for r in rows if r.uid not in set(present)]
            for row in gone:
                row.state = "filed"
                s.add(row)
            if gone:
                s.commit()

    # -- ingest ---------------------------------------------------------------------------------

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

    def ingest(self, ref: MailRef, raw: bytes, arrived: datetime | None = None) -> Outcome:
        pk = self.store_raw(ref, raw, arrived)
        crash_point("raw_stored")
        return self.record(pk, ref, raw)

    def record(self, pk: int, ref: MailRef, raw: bytes, analysis: Analysis | None = None) -> Outcome:
        """Decide on a stored message and commit its verdict, item and reply in one transaction."""
        with Session(self.engine) as s:
            # Row-locked: should two processes ever hold the same message, the second waits here and
            # then finds it recorded.
            row = s.exec(select(Message).where(Message.id == pk).with_for_update()).one()
            if row.state != "stored":
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
                self._hold(s, row, mail, "internal_error")
                outcome = Outcome("held", ("internal_error",))
            row.state, row.verdict, row.reasons = "recorded", outcome.verdict, " ".join(outcome.reasons)
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
        earlier = s.exec(
            select(Message).where(
                Message.sha256 == row.sha256,
                Message.id != row.id,
                Message.state != "stored",
                Message.verdict.in_(
                    (
                        "receipt",
                        "rejection",
                        "duplicate",  # type: ignore[attr-defined]
                        "ignored",
                        "seen_before",
                    )
                ),
            )
        ).first()
        if earlier is not None:  # the same bytes again (UIDVALIDITY reset, copied back): never answer twice
            row.item_id, row.unit_id = earlier.item_id, earlier.unit_id
            return Outcome("seen_before", (f"message_{earlier.id}",))
        loop = loop_reason(mail, own_addresses={self.config.smtp.from_address, self.config.mailbox.username})
        if loop:
            return Outcome("ignored", (loop,))
        security = self.config.security
        if security.require_authentication and not authenticated(
            BytesHeaderParser().parsebytes(raw).get_all("Authentication-Results") or [],
            mail.sender,
            security.trusted_authserv_ids,
        ):
            log.warning("held mail from %s: sender not authenticated by the receiving server", mail.sender)
            self._hold(s, row, mail, "unauthenticated")
            return Outcome("held", ("unauthenticated",))
        replied = self._replied_item(s, mail)
        if mail.sender in {a.lower() for a in self.config.office.admins} and (
            looks_like_command(mail.text) or (replied is not None and not mail.attachments)
        ):
            return self._command(s, row, mail, replied[0] if replied else None)
        if replied is not None and not mail.attachments:
            why = "command_refused" if looks_like_command(mail.text) else "reply_to_notice"
            if why == "command_refused":
                log.warning("refused an office command from %s (not in [office] admins)", mail.sender)
            self._hold(s, row, mail, why)
            return Outcome("held", (why,))
        liaison = s.exec(
            select(Liaison).where(Liaison.email == mail.sender, Liaison.active == True)  # noqa: E712
        ).first()
        if liaison is None:
            self._hold(s, row, mail, "unknown_sender")
            return Outcome("held", ("unknown_sender",))
        unit = s.get(Unit, liaison.unit_id)
        assert unit is not None
        row.unit_id, row.liaison_id = unit.id, liaison.id
        if self._replies_last_hour(s, mail.sender) >= self.config.limits.replies_per_sender_per_hour:
            self._hold(s, row, mail, "rate_limited")
            return Outcome("held", ("rate_limited",), unit=unit.name)
        sub = sub if sub is not None else unpack(mail.attachments, self.limits)
        crash_point("unpacked")
        self._record_files(s, row, sub)
        ms = sub.manuscript
        title = ms.title if ms else ""
        body = tuple(ms.body) if ms else ()
        kind, where = kind_marker(mail.subject, title, body, from_title=self.config.checks.kind_from_title)
        match = column_from(mail.subject, (title, *body), self.config.columns)
        column = match.column if match else None
        facts = Facts(sub, kind, len(raw), mail.text, column.photos if column else None, where)
        verdict = evaluate(facts, self.rules)
        context = self._context(mail, liaison, unit, verdict, row.received_at)
        if not verdict.accepted:
            row.problems = "\n".join(p.message for p in verdict.problems)
            self._reply(s, row, mail, "rejection", context)
            return Outcome("rejection", tuple(p.code for p in verdict.problems), unit=unit.name)
        assert ms is not None
        digest = content_hash(ms)
        original = s.exec(select(Item).where(Item.content_hash == digest)).first()
        if original is not None:
            row.item_id = original.id
            self._reply(
                s,
                row,
                mail,
                "duplicate",
                context
                | {
                    "title": ms.title,
                    "original_number": original.number,
                    "original_received_at": self._local(original.received_at),
                },
            )
            return Outcome("duplicate", (f"item_{original.number}",), original.number, unit.name)
        solicitation_id, warnings = self._solicitation(s, mail, ms.title, verdict)
        warnings += self._column_warnings(match)
        item = self._record_item(s, row, unit, liaison, sub, kind, digest, solicitation_id, column)
        context["warnings"] = warnings
        authors = s.exec(select(Author).where(Author.item_id == item.id)).all()
        unit_names = {u.id: u.name for u in s.exec(select(Unit))}
        self._reply(
            s,
            row,
            mail,
            "receipt",
            context
            | {
                "number": item.number,
                "title": item.title,
                "kind_label": KIND_LABELS[kind],
                "drafters": [
                    {"name": a.name, "unit": a.unit_text or unit_names[a.unit_id], "share": _fmt(a.share)}
                    for a in authors
                ],
                "first_reviewer": item.first_reviewer,
                "second_reviewer": item.second_reviewer,
                "photo_count": item.photo_count,
                "body_chars": item.body_chars,
                "points": _fmt(item.points),
                "column": item.column_name or "",
            },
        )
        return Outcome("receipt", tuple(w.code for w in warnings), item.number, unit.name)

    def _column_warnings(self, match: ColumnMatch | None) -> list[Reason]:
        """An unknown column is registered as routine information; a near miss under the closest one."""
        if match is None or (match.column is not None and match.exact):
            return []
        if match.column is None:
            names = "、".join(c.name for c in self.config.columns)
            return [reason("column_unknown", match.written, self.rules, columns=names)]
        return [reason("column_near_miss", match.written, self.rules, column=match.column.name)]

    def _solicitation(
        self, s: Session, mail: ParsedMail, title: str, verdict: Verdict
    ) -> tuple[int | None, list[Reason]]:
        """A subject naming 约稿 answers the matching open request; an unknown one gets a warning."""
        warnings = list(verdict.warnings)
        if not names_solicitation(mail.subject):
            return None, warnings
        topics = [(r.id, r.topic) for r in s.exec(select(Solicitation).order_by(Solicitation.id)) if r.id]
        found = match_solicitation(mail.subject, title, topics)
        if found is None:
            listed = "、".join(f"《{t}》" for _i, t in topics[-5:]) or "目前没有约稿"
            warnings.append(reason("solicitation_unknown", listed, self.rules))
        return found, warnings

    def _replied_item(self, s: Session, mail: ParsedMail) -> tuple[str | None] | None:
        """When the mail answers something we sent: (the item number it was about, or None)."""
        ids = (*mail.references, *message_ids(mail.headers.get("in-reply-to", "")))
        if not ids:
            return None
        sent = s.exec(select(Outbox).where(Outbox.message_id.in_(ids))).first()  # type: ignore[attr-defined]
        if sent is None:
            return None
        origin = s.get(Message, sent.message_pk) if sent.message_pk else None
        item = s.get(Item, origin.item_id) if origin is not None and origin.item_id else None
        return (item.number if item else None,)

    def _command(self, s: Session, row: Message, mail: ParsedMail, replied_number: str | None) -> Outcome:
        context: dict[str, object] = {"office_name": self.config.office.name, "command_line": command_line(mail.text)}
        try:
            done = office.apply(
                s, parse_command(mail.text), replied_number, mail.sender, utcnow().astimezone(self.tz).date()
            )
        except (CommandError, office.OfficeError) as exc:
            self._enqueue(
                s,
                row.id,
                "command",
                "office/command",
                (mail.sender,),
                reply_subject(mail.subject),
                context | {"ok": False, "error": str(exc)},
                in_reply_to=mail.message_id,
                references=mail.references,
            )
            log.info("office command from %s not carried out: %s", mail.sender, str(exc).splitlines()[0])
            return Outcome("command_failed", ("command_failed",))
        self._enqueue(
            s,
            row.id,
            "command",
            "office/command",
            (mail.sender,),
            reply_subject(mail.subject),
            context | {"ok": True, "summary": done.summary},
            in_reply_to=mail.message_id,
            references=mail.references,
        )
        if done.notify and done.item_id is not None:
            self._notify(s, row.id, done.item_id, done.notify)
        log.info("office command from %s: %s", mail.sender, done.summary)
        return Outcome("command", (parse_command(mail.text).verb,))

    def notify_unit(self, item_id: int, event: str) -> None:
        """For actions taken on the command line: the same notice the email commands send."""
        with Session(self.engine) as s:
            self._notify(s, None, item_id, event)
            s.commit()

    def _notify(self, s: Session, message_pk: int | None, item_id: int, event: str) -> None:
        """Tell the submitting unit that its item was adopted or returned in final review."""
        item = s.get(Item, item_id)
        assert item is not None
        unit = s.get(Unit, item.unit_id)
        people = s.exec(select(Liaison).where(Liaison.unit_id == item.unit_id, Liaison.active == True)).all()  # noqa: E712
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
        if event == "adopted":
            adoption = s.exec(
                select(Adoption).where(Adoption.item_id == item_id).order_by(Adoption.id.desc())  # type: ignore[union-attr]
            ).first()
            assert adoption is not None
            context |= {
                "level_name": LEVEL_NAMES[adoption.level],
                "publication": adoption.publication,
                "points": _fmt(self.points.adoption(adoption.level)),
            }
            subject = f"【采用】信息 {item.number} 已被{LEVEL_NAMES[adoption.level]}采用"
        else:
            review = s.exec(
                select(Review).where(Review.item_id == item_id).order_by(Review.id.desc())  # type: ignore[union-attr]
            ).first()
            assert review is not None
            context |= {"reason": review.reason}
            subject = f"【终审退回】信息 {item.number}《{item.title}》"
        self._enqueue(
            s,
            message_pk,
            f"notice_{event}",
            "reply/notice",
            tuple(p.email for p in people),
            subject,
            context,
            auto="auto-generated",
        )

    def _record_files(self, s: Session, row: Message, sub: Submission) -> None:
        assert row.id is not None
        for f in sub.files:
            if f.kind == "archive":  # its bytes are in the raw message already: recorded, not copied
                digest = hashlib.sha256(f.data).hexdigest()
            else:
                digest, _rel = self.storage.put(f.data, "files", durable=False)
            s.add(StoredFile(message_pk=row.id, path=f.path[:1000], kind=f.kind, sha256=digest, size=len(f.data)))

    def _record_item(
        self,
        s: Session,
        row: Message,
        unit: Unit,
        liaison: Liaison,
        sub: Submission,
        kind: str,
        digest: str,
        solicitation_id: int | None,
        column: Column | None,
    ) -> Item:
        ms = sub.manuscript
        assert ms is not None and unit.id is not None
        now = row.received_at  # the arrival time, not the processing time: weeks and deadlines follow it
        year = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(self.tz).year
        seq = (s.exec(select(func.max(Item.seq)).where(Item.year == year)).one() or 0) + 1
        # A column item earns its column's figure (0.3, or 0.5 for policy documents) instead of 0.3.
        points = column.points if column and kind == "routine" else submission_points(kind, self.points)
        item = Item(
            number=f"{year}-{seq:04d}",
            year=year,
            seq=seq,
            unit_id=unit.id,
            liaison_id=liaison.id,
            title=ms.title,
            kind=kind,
            body_chars=ms.body_chars,
            photo_count=len([p for p in sub.photos if not p.problem]),
            first_reviewer=ms.footer.first_reviewer or "",
            second_reviewer=ms.footer.second_reviewer or "",
            points=points,
            content_hash=digest,
            received_at=now,
            solicitation_id=solicitation_id,
            column_name=column.name if column else None,
        )
        s.add(item)
        s.flush()
        assert item.id is not None
        known = [(u.id, [u.name, *u.aliases.split("\n")]) for u in s.exec(select(Unit)) if u.id is not None]
        for drafter, share in zip(ms.footer.drafters, split_evenly(points, len(ms.footer.drafters)), strict=True):
            s.add(
                Author(
                    item_id=item.id,
                    name=drafter.name,
                    unit_text=drafter.unit or "",
                    unit_id=match_unit(drafter.unit, known) or unit.id,
                    share=share,
                )
            )
        row.item_id = item.id
        return item

    def _replies_last_hour(self, s: Session, sender: str) -> int:
        since = utcnow() - timedelta(hours=1)
        return s.exec(
            select(func.count()).select_from(Outbox).where(Outbox.recipients == sender, Outbox.created_at >= since)
        ).one()

    def _local(self, moment: datetime) -> str:
        local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(self.tz)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

    def _context(
        self, mail: ParsedMail, liaison: Liaison, unit: Unit, verdict: Verdict, arrived: datetime
    ) -> dict[str, object]:
        return {
            "office_name": self.config.office.name,
            "liaison_name": liaison.name,
            "unit_name": unit.name,
            "subject": mail.subject or "(无主题)",
            "received_at": self._local(arrived),
            "problems": list(verdict.problems),
            "warnings": list(verdict.warnings),
        }

    def _reply(self, s: Session, row: Message, mail: ParsedMail, kind: str, context: dict[str, object]) -> None:
        self._enqueue(
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

    def _hold(self, s: Session, row: Message, mail: ParsedMail, why: str) -> None:
        office = self.config.office
        if not office.recipients:
            return
        context = {
            "office_name": office.name,
            "sender": mail.sender,
            "sender_name": mail.sender_name,
            "subject": mail.subject or "(无主题)",
            "received_at": self._local(row.received_at),
            "why": HELD_WHY[why],
            "message_ref": f"{row.folder}/{row.uid} sha256:{row.sha256[:12]}",
        }
        self._enqueue(
            s,
            row.id,
            "held_notice",
            "office/held",
            office.recipients,
            f"【来信暂存】{mail.sender}：{mail.subject or '(无主题)'}",
            context,
            auto="auto-generated",
        )

    def _enqueue(
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
    ) -> None:
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

    # -- outbox ---------------------------------------------------------------------------------

    def drain_outbox(self, transport: Transport) -> int:
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
        if not office.recipients or row.kind.startswith(("digest", "delivery_failed", "held_notice")):
            return
        context = {
            "office_name": office.name,
            "recipients": row.recipients,
            "subject": row.subject,
            "error": row.last_error,
            "attempts": row.attempts,
            "kind": row.kind,
        }
        self._enqueue(
            s,
            row.message_pk,
            "delivery_failed",
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
                .where(Outbox.state == "pending", Outbox.next_attempt_at <= utcnow(), Outbox.id > after)  # type: ignore[operator]
                .order_by(Outbox.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()  # type: ignore[arg-type]
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
                    row.state = "failed"
                    log.error(
                        "reply %s to %s failed for good after %d attempts: %s",
                        row.id,
                        row.recipients,
                        row.attempts,
                        row.last_error,
                    )
                    self._report_failure(s, row)
                else:
                    delay = min(3600, self.config.smtp.retry_seconds * 2 ** (row.attempts - 1))
                    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
                    log.warning(
                        "reply %s to %s deferred (attempt %d): %s", row.id, row.recipients, row.attempts, row.last_error
                    )
            except PermanentFailure as exc:
                row.state, row.last_error, row.attempts = "failed", str(exc)[:500], row.attempts + 1
                log.error("reply %s to %s refused: %s", row.id, row.recipients, row.last_error)
                self._report_failure(s, row)
            else:
                row.state, row.sent_at, row.attempts = "sent", utcnow(), row.attempts + 1
                sent = 1
                log.info("reply %s sent kind=%s to=%s", row.id, row.kind, row.recipients)
            s.add(row)
            s.commit()
            return sent, row.id


def _fmt(points: float) -> str:
    return f"{points:.4f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class PassReport:
    outcomes: tuple[tuple[str, Outcome], ...]
    sent: int


@dataclass(frozen=True)
class Analysis:
    mail: ParsedMail
    submission: Submission


def analyse(raw: bytes, limits: Limits) -> Analysis:
    """Parsing and unpacking: pure CPU work on bytes, so it can run in a worker process."""
    mail = parse_message(raw)
    return Analysis(mail, unpack(mail.attachments, limits))


class Analyser:
    """One worker process parses and unpacks message N while this process fetches N+1 and records
    N-1: the machine's second core does the MIME, archive, docx and photo work. A worker that dies
    (a hostile file crashing a C library) is replaced, and that message is analysed here instead."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, raw: bytes) -> Future[Analysis]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=get_context("spawn"), initializer=_die_with_parent
            )
        return self._pool.submit(analyse, raw, self.limits)

    def result(self, future: Future[Analysis], raw: bytes) -> Analysis:
        try:
            return future.result()
        except BrokenProcessPool:
            log.error("the analysis worker died; analysing this message in the main process")
            self.close()
            return analyse(raw, self.limits)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _die_with_parent() -> None:
    """A worker must not outlive a main process that was killed (Linux: PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() == 1:  # the parent died before the call above took effect
        os._exit(1)


@dataclass
class _InFlight:
    uid: str
    ref: MailRef
    pk: int
    raw: bytes
    future: Future[Analysis] | None


def ingest_pass(
    source: Source, desk: Desk, stop: Event | None = None, analyser: Analyser | None = None
) -> list[tuple[str, Outcome]]:
    """Every message in the open folder gets a verdict and is filed, in order; `stop` is checked
    between messages. With an analyser, one message is analysed in the worker while the next is
    fetched; the raw bytes are stored before any analysis starts, as always."""
    results: list[tuple[str, Outcome]] = []
    uidvalidity, uids = source.listing()
    desk.reconcile(source.key, source.folder, uidvalidity, uids)
    pending: list[_InFlight] = []

    def file(uid: str, ref: MailRef, outcome: Outcome) -> None:
        source.file(uid, desk.folder_for(outcome.verdict))
        crash_point("mailbox_updated")
        desk.mark_filed(ref)
        results.append((uid, outcome))

    def finish() -> None:
        job = pending.pop()
        analysis = analyser.result(job.future, job.raw) if analyser and job.future else None
        file(job.uid, job.ref, desk.record(job.pk, job.ref, job.raw, analysis))

    for uid in uids:
        if stop is not None and stop.is_set():
            break
        ref = MailRef(source.key, source.folder, uidvalidity, uid)
        known = desk.state(ref)
        if known is not None and known.state == "filed":
            continue  # filed earlier but the move was not seen yet: nothing more to do
        if known is not None and known.state != "stored":
            if pending:
                finish()
            file(uid, ref, Outcome(known.verdict, tuple(known.reasons.split())))
            continue
        fetched = source.fetch(uid)
        raw = fetched.raw
        crash_point("fetched")
        pk = desk.store_raw(ref, raw, fetched.arrived)
        crash_point("raw_stored")
        job = _InFlight(uid, ref, pk, raw, analyser.submit(raw) if analyser else None)
        if pending:
            finish()
        pending.append(job)
    while pending:
        finish()
    return results


def poll_once(source: Source, desk: Desk, transport: Transport, analyser: Analyser | None = None) -> PassReport:
    """One full pass for `mailbot poll --once`: ingest everything, then send what is due."""
    source.open()
    try:
        results = ingest_pass(source, desk, analyser=analyser)
    finally:
        source.close()
    try:
        sent = desk.drain_outbox(transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable, replies stay queued for the next run: %s", exc)
        sent = 0
    return PassReport(tuple(results), sent)
