"""Tables and the engine: the ledger of messages, the items, their files and the reply outbox.

The unique keys carry the guarantees: (mailbox, folder, uidvalidity, uid) means a message is
processed once per mailbox identity; (year, seq) means item numbers never repeat; a reply row is
written in the same transaction as its message's verdict (transactional outbox).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import chain

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint, event, insert, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, UOWTransaction
from sqlmodel import Field, SQLModel, col, create_engine

from mailbot.adapters import incident_tables as _incident_tables  # noqa: F401 - registers their tables
from mailbot.adapters.points_tables import PointsStale
from mailbot.domain.vocabulary import ItemKind, ItemStatus, MessageState, OutboxState


def utcnow() -> datetime:
    return datetime.now(UTC)


class Unit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    kind: str = "科室"
    aliases: str = ""  # one per line, matched against the unit a drafter writes


class Liaison(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    name: str = ""
    email: str | None = Field(default=None, index=True)  # annex 4 has none: recorded when the office confirms
    phone: str = ""
    wechat: str = ""
    active: bool = True
    source: str = "config"  # config | import | office: each source retires only its own entries
    since: datetime = Field(default_factory=utcnow)


class PendingLiaison(SQLModel, table=True):
    """Mail from an unknown address naming a registered liaison (sender name or 撰稿人): held until the
    office confirms with a one-line 登记, which records the address and releases the held message."""

    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="message.id", index=True)
    email: str = Field(index=True)
    liaison_id: int = Field(foreign_key="liaison.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    resolved_at: datetime | None = None  # confirmed (or the address recorded some other way)


class Message(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),)
    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(index=True)
    folder: str
    uidvalidity: int
    uid: str
    message_id: str = Field(default="", index=True)
    sha256: str = Field(index=True)
    size: int = 0
    raw_path: str
    sender: str = Field(default="", index=True)
    subject: str = ""
    received_at: datetime = Field(default_factory=utcnow, index=True)
    state: str = MessageState.STORED  # stored -> recorded -> filed
    verdict: str = ""  # a vocabulary.Verdict
    reasons: str = ""  # space-separated check codes
    problems: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # as told, one a line
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    liaison_id: int | None = Field(default=None, foreign_key="liaison.id")
    item_id: int | None = Field(default=None, foreign_key="item.id")
    # Analyses that killed the worker or hit its limits: twice, and the message is held for the office.
    analysis_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # For held mail: the particulars and what the office can do (JSON), for the next held-mail summary.
    held_note: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class CommandConfirmation(SQLModel, table=True):
    """An office command waiting for its admin to quote the one-time code sent to the admin's address."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(index=True)
    admin: str = Field(index=True)  # the registered address the code was sent to
    command: str = Field(sa_column=Column(Text, nullable=False))  # the command line as written
    item_number: str | None = None  # the item of the receipt the command answered, if any
    message_pk: int = Field(foreign_key="message.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    used_by_pk: int | None = Field(default=None, foreign_key="message.id")


class Item(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    year: int
    seq: int
    unit_id: int = Field(foreign_key="unit.id", index=True)
    liaison_id: int | None = Field(default=None, foreign_key="liaison.id")
    title: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = ItemKind.ROUTINE
    body_chars: int = 0
    photo_count: int = 0
    first_reviewer: str = ""
    second_reviewer: str = ""
    points: float = 0.0
    content_hash: str = Field(unique=True, index=True)
    status: str = ItemStatus.RECEIVED  # 终审
    received_at: datetime = Field(default_factory=utcnow, index=True)
    solicitation_id: int | None = Field(default=None, foreign_key="solicitation.id", index=True)
    grade: int | None = None  # 约稿 0..3, set by the office
    column_name: str | None = Field(default=None, index=True)  # 栏目 the item was filed under, if any
    version: int = 1  # a corrected re-send replaces the piece and counts up; see ItemVersion


class ItemVersion(SQLModel, table=True):
    """Each version of a piece as it arrived: a correction replaces the item's text and people, and
    this keeps what was there before, so `show` can list them and an old version re-sent is a duplicate."""

    __table_args__ = (UniqueConstraint("item_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    version: int
    message_pk: int | None = Field(default=None, foreign_key="message.id")
    received_at: datetime
    title: str = Field(sa_column=Column(Text, nullable=False))
    drafters: str = ""  # "、"-joined names
    first_reviewer: str = ""
    second_reviewer: str = ""
    photo_count: int = 0
    body_chars: int = 0
    content_hash: str = Field(index=True)


class Review(SQLModel, table=True):
    """终审: the office approves an item or returns it with a reason."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    decision: str  # approved | returned
    reason: str = ""
    by: str
    at: datetime = Field(default_factory=utcnow)


class Adoption(SQLModel, table=True):
    """采用: an item published by the city, the province or the nation."""

    __table_args__ = (UniqueConstraint("item_id", "level"),)
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    level: str  # city | province | national
    publication: str = ""
    on: date
    by: str
    at: datetime = Field(default_factory=utcnow)


class Solicitation(SQLModel, table=True):
    """约稿: a topic the office asks units to write on by a deadline."""

    id: int | None = Field(default=None, primary_key=True)
    topic: str
    units: str = ""  # unit names, one per line; empty = every unit
    deadline: date
    by: str
    at: datetime = Field(default_factory=utcnow)


class Deduction(SQLModel, table=True):
    """扣分 with its reason, for a unit (and a person, when the office names one)."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    person: str = ""
    points: float
    reason: str
    on: date
    by: str
    at: datetime = Field(default_factory=utcnow)


class Author(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    name: str
    unit_text: str = ""
    unit_id: int = Field(foreign_key="unit.id", index=True)
    share: float = 0.0


class StoredFile(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_pk: int = Field(foreign_key="message.id", index=True)
    path: str = Field(sa_column=Column(Text, nullable=False))
    kind: str
    sha256: str = Field(index=True)
    size: int


class Outbox(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    message_pk: int | None = Field(default=None, foreign_key="message.id", index=True)
    kind: str = Field(index=True)  # a vocabulary.OutboxKind (digests: digest_<kind>); the last of a kind is looked up
    sender: str
    recipients: str  # comma-separated
    subject: str = Field(sa_column=Column(Text, nullable=False))
    message_id: str = Field(unique=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(default=OutboxState.PENDING, index=True)
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, index=True)
    last_error: str = ""
    # Indexed for the per-recipient limit, which reads the last day's rows: without it every reply
    # queued walked the whole outbox, stepping over each row's raw mail to reach this column.
    created_at: datetime = Field(default_factory=utcnow, index=True)
    sent_at: datetime | None = None


class Reminder(SQLModel, table=True):
    """One row per unit, kind and period: the key that makes every reminder go out once."""

    __table_args__ = (UniqueConstraint("unit_id", "kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    kind: str  # weekly | monthly
    period: str  # 2026-W48 | 2026-11
    submitted: int
    due: int
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    created_at: datetime = Field(default_factory=utcnow)


class DigestRun(SQLModel, table=True):
    """One row per digest kind and period: the key that makes each digest go out once."""

    __table_args__ = (UniqueConstraint("kind", "period"),)
    id: int | None = Field(default=None, primary_key=True)
    kind: str  # weekly | monthly | quarterly | yearly
    period: str
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    created_at: datetime = Field(default_factory=utcnow)


class WebAccount(SQLModel, table=True):
    """A person who signs in to the office's register; only an argon2 hash of the password is kept."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    role: str = "viewer"  # viewer | officer (may act)
    password_hash: str
    active: bool = True
    generation: int = 0  # raised by a new password or a disable: older sessions stop working
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who did what in the browser, when and from where: sign-ins (also the failed ones) and actions."""

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    account: str = Field(index=True)  # as typed at sign-in, or web:<name> for actions
    client: str = Field(default="", index=True)
    action: str = Field(index=True)  # login | login_failed | login_locked | logout | review | adopt | ...
    target: str = ""
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    ok: bool = True


@event.listens_for(Session, "after_flush")
def _points_stale(session: Session, _flush: UOWTransaction) -> None:
    """Marks, in the same transaction, every item whose points may have changed: the roll-up
    (mailbot.rollup) scores them again before its next sum. Marking too much costs a re-score, never a
    wrong figure; the listener sees every ORM write, and the code writes these tables only through it."""
    items: set[int] = set()
    solicitations: set[int] = set()
    for row in chain(session.new, session.dirty, session.deleted):
        if isinstance(row, Item) and row.id is not None:
            items.add(row.id)
        elif isinstance(row, Author | Adoption):
            items.add(row.item_id)
        elif isinstance(row, Solicitation) and row.id is not None:
            solicitations.add(row.id)
    marks = session.connection()
    if items:
        marks.execute(insert(PointsStale), [{"item_id": i} for i in sorted(items)])
    if solicitations:  # a new deadline makes its answers late or on time (三(二)1)
        answers = select(col(Item.id)).where(col(Item.solicitation_id).in_(sorted(solicitations)))
        marks.execute(insert(PointsStale).from_select(["item_id"], answers))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, *, schema: str = "", migrate: bool = True) -> Engine:
    """`schema` (PostgreSQL) gives each mailbox of a multi-bureau deployment its own set of tables."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    elif schema:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"options": f"-csearch_path={schema}"})
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    else:
        engine = create_engine(url, pool_pre_ping=True)
    if migrate:
        from mailbot.adapters.schema import upgrade  # the migrations import this module's tables

        upgrade(engine)
    return engine
