"""Use cases: ingest one message, drain the outbox, one poll pass over a mailbox.

The flow is one-way and every step is recorded before the next starts:
fetch -> store raw (ledger row `stored`) -> unpack/parse/check -> record item + reply in one
transaction (`recorded`) -> file the message in its folder (`filed`). A crash at any point is
resumed from the ledger on the next pass, so each message gets exactly one verdict and one reply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from threading import Event
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot.adapters.db import Author, Item, Liaison, Message, Outbox, StoredFile, Unit, utcnow
from mailbot.adapters.render import Renderer
from mailbot.adapters.storage import Storage
from mailbot.compose import Envelope, compose, new_message_id, reply_subject
from mailbot.config import Config
from mailbot.domain.archive import Limits
from mailbot.domain.checks import Facts, Reason, Rules, Verdict, evaluate
from mailbot.domain.loops import loop_reason
from mailbot.domain.mime import ParsedMail, parse_message
from mailbot.domain.scoring import PointTable, split_evenly, submission_points
from mailbot.domain.submission import Submission, content_hash, item_kind, unpack
from mailbot.domain.units import match_unit

log = logging.getLogger("mailbot")

KIND_LABELS = {"routine": "常规信息", "research": "调研类信息", "experience": "经验类信息"}
HELD_WHY = {
    "unknown_sender": "发件人不是已登记的信息宣传员",
    "rate_limited": "该发件人一小时内来信过多，暂停自动回复",
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
    def fetch(self, uid: str) -> bytes: ...
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
        self.limits = Limits(max_total_bytes=lim.max_archive_bytes, max_members=lim.max_archive_members,
                             max_ratio=lim.max_compression_ratio)
        self.rules = Rules(require_photos=config.checks.require_photos, min_photo_side=lim.min_photo_side,
                           min_research_chars=lim.min_research_chars, max_message_bytes=lim.max_message_bytes)
        self.points = PointTable(routine=config.scoring.routine, research=config.scoring.research,
                                 experience=config.scoring.experience)

    def folder_for(self, verdict: str) -> str:
        mb = self.config.mailbox
        return {"rejection": mb.rejected_folder, "held": mb.held_folder}.get(verdict, mb.processed_folder)

    def state(self, ref: MailRef) -> Message | None:
        with Session(self.engine) as s:
            return s.exec(select(Message).where(Message.mailbox == ref.mailbox, Message.folder == ref.folder,
                                                Message.uidvalidity == ref.uidvalidity,
                                                Message.uid == ref.uid)).first()

    def mark_filed(self, ref: MailRef) -> None:
        with Session(self.engine) as s:
            row = s.exec(select(Message).where(Message.mailbox == ref.mailbox, Message.folder == ref.folder,
                                               Message.uidvalidity == ref.uidvalidity,
                                               Message.uid == ref.uid)).one()
            row.state = "filed"
            s.add(row)
            s.commit()

    # -- ingest ---------------------------------------------------------------------------------

    def store_raw(self, ref: MailRef, raw: bytes) -> int:
        """First thing after fetching: the raw bytes on disk and a ledger row, before any parsing."""
        digest, rel = self.storage.put(raw, "raw", ".eml")
        with Session(self.engine) as s:
            row = Message(mailbox=ref.mailbox, folder=ref.folder, uidvalidity=ref.uidvalidity, uid=ref.uid,
                          sha256=digest, size=len(raw), raw_path=rel)
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

    def ingest(self, ref: MailRef, raw: bytes) -> Outcome:
        pk = self.store_raw(ref, raw)
        with Session(self.engine) as s:
            row = s.get(Message, pk)
            assert row is not None
            if row.state != "stored":
                return Outcome(row.verdict, tuple(row.reasons.split()))
            mail = parse_message(raw)
            row.message_id, row.sender, row.subject = mail.message_id[:250], mail.sender[:250], mail.subject[:500]
            outcome = self._decide(s, row, mail, raw)
            row.state, row.verdict, row.reasons = "recorded", outcome.verdict, " ".join(outcome.reasons)
            s.add(row)
            s.commit()
        log.info("message uid=%s folder=%s from=%s unit=%s verdict=%s item=%s reasons=%s", ref.uid, ref.folder,
                 mail.sender or "-", outcome.unit or "-", outcome.verdict, outcome.item_number or "-",
                 ",".join(outcome.reasons) or "-")
        return outcome

    def _decide(self, s: Session, row: Message, mail: ParsedMail, raw: bytes) -> Outcome:
        earlier = s.exec(select(Message).where(Message.sha256 == row.sha256, Message.id != row.id,
                                               Message.state != "stored",
                                               Message.verdict.in_(("receipt", "rejection", "duplicate",  # type: ignore[attr-defined]
                                                                    "ignored", "seen_before")))).first()
        if earlier is not None:  # the same bytes again (UIDVALIDITY reset, copied back): never answer twice
            row.item_id, row.unit_id = earlier.item_id, earlier.unit_id
            return Outcome("seen_before", (f"message_{earlier.id}",))
        loop = loop_reason(mail, own_addresses={self.config.smtp.from_address, self.config.mailbox.username})
        if loop:
            return Outcome("ignored", (loop,))
        liaison = s.exec(select(Liaison).where(Liaison.email == mail.sender, Liaison.active == True)  # noqa: E712
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
        sub = unpack(mail.attachments, self.limits)
        self._record_files(s, row, sub)
        title = sub.manuscript.title if sub.manuscript else ""
        kind = item_kind(mail.subject, title)
        verdict = evaluate(Facts(sub, kind, len(raw), mail.text), self.rules)
        context = self._context(mail, liaison, unit, verdict)
        if not verdict.accepted:
            self._reply(s, row, mail, "rejection", context)
            return Outcome("rejection", tuple(p.code for p in verdict.problems), unit=unit.name)
        ms = sub.manuscript
        assert ms is not None
        digest = content_hash(ms)
        original = s.exec(select(Item).where(Item.content_hash == digest)).first()
        if original is not None:
            row.item_id = original.id
            self._reply(s, row, mail, "duplicate", context | {
                "title": ms.title, "original_number": original.number,
                "original_received_at": self._local(original.received_at)})
            return Outcome("duplicate", (f"item_{original.number}",), original.number, unit.name)
        item = self._record_item(s, row, unit, liaison, sub, kind, digest)
        authors = s.exec(select(Author).where(Author.item_id == item.id)).all()
        unit_names = {u.id: u.name for u in s.exec(select(Unit))}
        self._reply(s, row, mail, "receipt", context | {
            "number": item.number, "title": item.title, "kind_label": KIND_LABELS[kind],
            "drafters": [{"name": a.name, "unit": a.unit_text or unit_names[a.unit_id], "share": _fmt(a.share)}
                         for a in authors],
            "first_reviewer": item.first_reviewer, "second_reviewer": item.second_reviewer,
            "photo_count": item.photo_count, "body_chars": item.body_chars, "points": _fmt(item.points)})
        return Outcome("receipt", tuple(w.code for w in verdict.warnings), item.number, unit.name)

    def _record_files(self, s: Session, row: Message, sub: Submission) -> None:
        assert row.id is not None
        for f in sub.files:
            digest, _rel = self.storage.put(f.data, "files")
            s.add(StoredFile(message_pk=row.id, path=f.path[:1000], kind=f.kind, sha256=digest, size=len(f.data)))

    def _record_item(self, s: Session, row: Message, unit: Unit, liaison: Liaison, sub: Submission,
                     kind: str, digest: str) -> Item:
        ms = sub.manuscript
        assert ms is not None and unit.id is not None
        now = utcnow()
        year = now.astimezone(self.tz).year
        seq = (s.exec(select(func.max(Item.seq)).where(Item.year == year)).one() or 0) + 1
        points = submission_points(kind, self.points)
        item = Item(number=f"{year}-{seq:04d}", year=year, seq=seq, unit_id=unit.id, liaison_id=liaison.id,
                    title=ms.title, kind=kind, body_chars=ms.body_chars,
                    photo_count=len([p for p in sub.photos if not p.problem]),
                    first_reviewer=ms.footer.first_reviewer or "", second_reviewer=ms.footer.second_reviewer or "",
                    points=points, content_hash=digest, received_at=now)
        s.add(item)
        s.flush()
        assert item.id is not None
        known = [(u.id, [u.name, *u.aliases.split("\n")]) for u in s.exec(select(Unit)) if u.id is not None]
        for drafter, share in zip(ms.footer.drafters, split_evenly(points, len(ms.footer.drafters)), strict=True):
            s.add(Author(item_id=item.id, name=drafter.name, unit_text=drafter.unit or "",
                         unit_id=match_unit(drafter.unit, known) or unit.id, share=share))
        row.item_id = item.id
        return item

    def _replies_last_hour(self, s: Session, sender: str) -> int:
        since = utcnow() - timedelta(hours=1)
        return s.exec(select(func.count()).select_from(Outbox).where(
            Outbox.recipients == sender, Outbox.created_at >= since)).one()

    def _local(self, moment: datetime) -> str:
        local = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(self.tz)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"

    def _context(self, mail: ParsedMail, liaison: Liaison, unit: Unit, verdict: Verdict) -> dict[str, object]:
        return {"office_name": self.config.office.name, "liaison_name": liaison.name, "unit_name": unit.name,
                "subject": mail.subject or "(无主题)", "received_at": self._local(utcnow()),
                "problems": list(verdict.problems), "warnings": list(verdict.warnings)}

    def _reply(self, s: Session, row: Message, mail: ParsedMail, kind: str, context: dict[str, object]) -> None:
        self._enqueue(s, row, kind, f"reply/{kind}", (mail.sender,), reply_subject(mail.subject), context,
                      in_reply_to=mail.message_id, references=mail.references)

    def _hold(self, s: Session, row: Message, mail: ParsedMail, why: str) -> None:
        office = self.config.office
        if not office.recipients:
            return
        context = {"office_name": office.name, "sender": mail.sender, "sender_name": mail.sender_name,
                   "subject": mail.subject or "(无主题)", "received_at": self._local(utcnow()),
                   "why": HELD_WHY[why], "message_ref": f"{row.folder}/{row.uid} sha256:{row.sha256[:12]}"}
        self._enqueue(s, row, "held_notice", "office/held", office.recipients,
                      f"【来信暂存】{mail.sender}：{mail.subject or '(无主题)'}", context, auto="auto-generated")

    def _enqueue(self, s: Session, row: Message, kind: str, template: str, to: tuple[str, ...], subject: str,
                 context: dict[str, object], *, in_reply_to: str = "", references: tuple[str, ...] = (),
                 auto: str = "auto-replied") -> None:
        smtp = self.config.smtp
        text, html = self.renderer.pair(template, context)
        msgid = new_message_id(smtp.from_address)
        env = Envelope(smtp.from_address, smtp.from_name, to, subject, in_reply_to, references, auto)
        raw = compose(env, text, html, msgid, datetime.now(UTC)).as_bytes()
        s.add(Outbox(message_pk=row.id, kind=kind, sender=smtp.from_address, recipients=",".join(to),
                     subject=subject, message_id=msgid, raw=raw))

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

    def _send_next(self, transport: Transport, after: int) -> tuple[int, int]:
        """Send the next due row after id `after`; returns (1 if sent else 0, its id or 0 if none)."""
        with Session(self.engine) as s:
            row = s.exec(select(Outbox).where(Outbox.state == "pending", Outbox.next_attempt_at <= utcnow(),
                                              Outbox.id > after)  # type: ignore[operator]
                         .order_by(Outbox.id).limit(1)).first()  # type: ignore[arg-type]
            if row is None:
                return 0, 0
            assert row.id is not None
            sent = 0
            try:
                transport.send(row.sender, row.recipients.split(","), row.raw)
            except TemporaryFailure as exc:
                row.attempts += 1
                row.last_error = str(exc)[:500]
                if row.attempts >= self.config.smtp.max_attempts:
                    row.state = "failed"
                    log.error("reply %s to %s failed for good after %d attempts: %s", row.id,
                              row.recipients, row.attempts, row.last_error)
                else:
                    delay = min(3600, self.config.smtp.retry_seconds * 2 ** (row.attempts - 1))
                    row.next_attempt_at = utcnow() + timedelta(seconds=delay)
                    log.warning("reply %s to %s deferred (attempt %d): %s", row.id, row.recipients,
                                row.attempts, row.last_error)
            except PermanentFailure as exc:
                row.state, row.last_error, row.attempts = "failed", str(exc)[:500], row.attempts + 1
                log.error("reply %s to %s refused: %s", row.id, row.recipients, row.last_error)
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


def ingest_pass(source: Source, desk: Desk, stop: Event | None = None) -> list[tuple[str, Outcome]]:
    """Every message in the open folder gets a verdict and is filed; `stop` is checked between messages."""
    results: list[tuple[str, Outcome]] = []
    uidvalidity, uids = source.listing()
    for uid in uids:
        if stop is not None and stop.is_set():
            break
        ref = MailRef(source.key, source.folder, uidvalidity, uid)
        known = desk.state(ref)
        if known is not None and known.state == "filed":
            continue  # filed earlier but the move was not seen yet: nothing more to do
        if known is None or known.state == "stored":
            outcome = desk.ingest(ref, source.fetch(uid))
        else:
            outcome = Outcome(known.verdict, tuple(known.reasons.split()))
        source.file(uid, desk.folder_for(outcome.verdict))
        desk.mark_filed(ref)
        results.append((uid, outcome))
    return results


def poll_once(source: Source, desk: Desk, transport: Transport) -> PassReport:
    """One full pass for `mailbot poll --once`: ingest everything, then send what is due."""
    source.open()
    try:
        results = ingest_pass(source, desk)
    finally:
        source.close()
    try:
        sent = desk.drain_outbox(transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable, replies stay queued for the next run: %s", exc)
        sent = 0
    return PassReport(tuple(results), sent)
