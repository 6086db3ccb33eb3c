"""What the register's pages read: a filtered page of items, one item in full, a unit's points, held mail.

Points are never computed here: they are ledger entries from `ledger.read_ledger` (for a page about
one unit, that unit's entries alone, scored by the same rules), totalled by `scoring.totals`; the
standings sum the bulletin's own roll-up (mailbot.rollup), which the tests hold to the same ledger, so a
figure on a page and in the bulletin agree.
Nothing returned carries a server path: files and messages are named by their row id.
"""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.message import EmailMessage
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from mailbot import ledger
from mailbot.adapters.db import (
    Adoption,
    Author,
    Deduction,
    Item,
    Liaison,
    Message,
    Outbox,
    Review,
    Solicitation,
    StoredFile,
    Unit,
)
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import Period, period_bounds
from mailbot.domain.commands import LEVEL_NAMES
from mailbot.domain.vocabulary import KIND_LABELS
from mailbot.queries import STATUS_NAMES

PAGE_SIZE = 100
FILE_KINDS = {"manuscript": "稿件", "legacy": "稿件（旧格式）", "photo": "照片", "archive": "压缩包", "other": "其他"}
REPLY_KINDS = {
    "receipt": "回执",
    "rejection": "退稿通知",
    "duplicate": "重复来稿通知",
    "held_notice": "暂存通知（发给办公室）",
    "command": "指令执行结果",
}
OUTBOX_STATES = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}


def local(moment: datetime, tz: str) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(ZoneInfo(tz)):%Y-%m-%d %H:%M}"


def local_date(moment: datetime, tz: str) -> date:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz)).date()


@dataclass(frozen=True)
class Filters:
    period: Period
    unit_id: int | None = None
    kind: str = ""
    column: str = ""
    status: str = ""
    solicited: str = ""  # "" | yes | no
    text: str = ""
    page: int = 1


@dataclass(frozen=True)
class Row:
    number: str
    received: str
    unit: str
    title: str
    kind: str
    column: str
    status: str
    points: str
    adopted: str
    solicited: bool


@dataclass(frozen=True)
class Found:
    rows: list[Row]
    total: int
    pages: int


def search(s: Session, config: Config, f: Filters) -> Found:
    """One page of the period's items, newest first, with the count of all that match."""
    lo, hi = period_bounds(f.period, config.timezone)
    where: list[Any] = [col(Item.received_at) >= lo, col(Item.received_at) < hi]
    if f.unit_id:
        where.append(Item.unit_id == f.unit_id)
    if f.kind:
        where.append(Item.kind == f.kind)
    if f.column:
        where.append(Item.column_name == f.column)
    if f.status:
        where.append(Item.status == f.status)
    if f.solicited == "yes":
        where.append(col(Item.solicitation_id).is_not(None))
    elif f.solicited == "no":
        where.append(col(Item.solicitation_id).is_(None))
    if f.text.strip():
        words = f.text.strip()
        where.append(or_(col(Item.title).contains(words), col(Item.number).contains(words)))
    total = s.exec(select(func.count()).select_from(Item).where(*where)).one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, f.page), pages)
    query = (
        select(Item, Unit.name)
        .join(Unit, col(Unit.id) == col(Item.unit_id))
        .where(*where)
        .order_by(col(Item.received_at).desc(), col(Item.id).desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    found = list(s.exec(query))
    ids = [item.id for item, _ in found]
    adopted: dict[int, list[str]] = {}
    for a in s.exec(select(Adoption).where(col(Adoption.item_id).in_(ids))):
        adopted.setdefault(a.item_id, []).append(LEVEL_NAMES[a.level])
    rows = [
        Row(
            item.number,
            local(item.received_at, config.timezone),
            unit,
            item.title,
            KIND_LABELS.get(item.kind, item.kind),
            item.column_name or "",
            STATUS_NAMES.get(item.status, item.status),
            f"{item.points:g}",
            "、".join(adopted.get(item.id or 0, [])),
            item.solicitation_id is not None,
        )
        for item, unit in found
    ]
    return Found(rows, total, pages)


def bulletin_ledger(
    s: Session, config: Config, period: Period, today: date, units: frozenset[int] | None = None
) -> list[scoring.Entry]:
    """The ledger behind the bulletin of this period (from the 1st of January of its end; the bulletin
    sums the same lines from the roll-up);
    with `units`, only those units' entries, read from their own items: a page about one unit reads
    a few hundred rows, not the year's."""
    start = date(period.end.year, 1, 1)
    return memo(
        s,
        config,
        ("ledger", period.label, today, units),
        lambda: ledger.read_ledger(s, config, start, period.end, today, units=units).entries,
    )


T = TypeVar("T")
_LOCK = threading.Lock()
_MEMO: dict[tuple[object, ...], tuple[tuple[object, ...], Any]] = {}
_SEEN = "mailbot.memo.fingerprint"


def memo(s: Session, config: Config, key: tuple[object, ...], build: Callable[[], T]) -> T:
    """Kept while the rows it is built from are unchanged: a year's ledger takes the bulletin's own
    computation about a second, and pages ask for the same one again and again. The fingerprint is
    read on every request, since the daemon and the CLI write from other processes."""
    full = (str(s.get_bind().engine.url), config.database.schema, *key)
    outer = _SEEN not in s.info
    seen = fingerprint(s) if outer else s.info[_SEEN]
    with _LOCK:
        hit = _MEMO.get(full)
        if hit is not None and hit[0] == seen:
            return hit[1]
    s.info[_SEEN] = seen  # a memo built inside this one reads the same rows: no second fingerprint
    try:
        value = build()
    finally:
        if outer:
            del s.info[_SEEN]
    with _LOCK:
        _MEMO[full] = (seen, value)
        while len(_MEMO) > 128:
            _MEMO.pop(next(iter(_MEMO)))
    return value


def _flag(column: Any, value: str) -> Any:
    return func.sum(case((column == value, 1), else_=0))


def fingerprint(s: Session) -> tuple[object, ...]:
    """Changes whenever a row the ledger reads is added, removed or changed in a column it reads:
    new rows move counts and ids; the office's changes in place (终审, 评分, re-filing) move the sums."""
    parts: tuple[Any, ...] = (
        select(  # type: ignore[call-overload]
            func.count(),
            func.max(Item.id),
            func.sum(func.coalesce(Item.grade, -1)),
            _flag(Item.status, "returned"),
            _flag(Item.status, "approved"),
            func.count(col(Item.column_name)),
            func.count(col(Item.solicitation_id)),
            func.sum(func.length(Item.kind)),
            func.sum(Item.unit_id),
        ),
        select(func.count(), func.max(Author.id), func.sum(Author.unit_id)),
        select(func.count(), func.max(Adoption.id)),
        select(func.count(), func.max(Deduction.id)),
        select(func.count(), func.max(Solicitation.id), func.max(Solicitation.deadline)),
        select(func.count(), func.max(Unit.id), func.sum(func.length(Unit.aliases))),
        select(func.min(Message.received_at)),
    )
    connection = s.connection()
    return tuple(tuple(connection.execute(q).one()) for q in parts)


def unit_totals(entries: list[scoring.Entry], period: Period) -> dict[int, float]:
    return scoring.totals(entries, period, "unit")


@dataclass
class ItemPage:
    item: Item
    unit: str
    liaison: str
    kind: str
    status: str
    drafters: list[tuple[str, str, str, str]] = field(default_factory=list)  # name, as written, credited unit, share
    ledger: list[scoring.Entry] = field(default_factory=list)
    units: dict[int, str] = field(default_factory=dict)
    reviews: list[tuple[str, str, str, str]] = field(default_factory=list)  # decision, reason, by, at
    adoptions: list[tuple[str, str, str, str]] = field(default_factory=list)  # level, publication, on, by
    solicitation: str = ""
    message_id: int | None = None
    sender: str = ""
    subject: str = ""
    files: list[tuple[int, str, str, int]] = field(default_factory=list)  # id, kind, name, size
    replies: list[tuple[str, str, str, str, str]] = field(default_factory=list)  # kind, subject, state, sent, text


def item_page(s: Session, config: Config, number: str, today: date) -> ItemPage | None:
    tz = config.timezone
    item = s.exec(select(Item).where(Item.number == number)).first()
    if item is None or item.id is None:
        return None
    units = {u.id: u.name for u in s.exec(select(Unit)) if u.id is not None}
    liaison = s.get(Liaison, item.liaison_id) if item.liaison_id else None
    page = ItemPage(
        item,
        units.get(item.unit_id, "?"),
        f"{liaison.name} <{liaison.email}>" if liaison else "-",
        KIND_LABELS.get(item.kind, item.kind),
        STATUS_NAMES.get(item.status, item.status),
        units=units,
    )
    for a in s.exec(select(Author).where(Author.item_id == item.id).order_by(col(Author.id))):
        page.drafters.append((a.name, a.unit_text or "-", units.get(a.unit_id, "?"), f"{a.share:g}"))
    for r in s.exec(select(Review).where(Review.item_id == item.id).order_by(col(Review.id))):
        page.reviews.append((STATUS_NAMES.get(r.decision, r.decision), r.reason, r.by, local(r.at, tz)))
    adoptions = list(s.exec(select(Adoption).where(Adoption.item_id == item.id).order_by(col(Adoption.id))))
    for ad in adoptions:
        page.adoptions.append(
            (LEVEL_NAMES[ad.level], ad.publication, ad.on.isoformat(), f"{ad.by}，{local(ad.at, tz)}")
        )
    if item.solicitation_id:
        sol = s.get(Solicitation, item.solicitation_id)
        grade = "未评分" if item.grade is None else f"{item.grade} 分"
        page.solicitation = f"《{sol.topic if sol else '?'}》截止 {sol.deadline if sol else '?'}，{grade}"
    received = local_date(item.received_at, tz)
    last = max([received, *(a.on for a in adoptions)])
    page.ledger = memo(
        s,
        config,
        ("item", item.id, today),
        lambda: [e for e in ledger.load_ledger(s, config, received, last, today) if e.item_id == item.id],
    )
    message = s.exec(select(Message).where(Message.item_id == item.id).order_by(col(Message.id))).first()
    if message is not None and message.id is not None:
        page.message_id, page.sender, page.subject = message.id, message.sender, message.subject
        for f in s.exec(select(StoredFile).where(StoredFile.message_pk == message.id).order_by(col(StoredFile.id))):
            assert f.id is not None
            page.files.append((f.id, FILE_KINDS.get(f.kind, f.kind), display_name(f.path), f.size))
        for o in s.exec(select(Outbox).where(Outbox.message_pk == message.id).order_by(col(Outbox.id))):
            page.replies.append(
                (
                    REPLY_KINDS.get(o.kind, o.kind),
                    o.subject,
                    OUTBOX_STATES.get(o.state, o.state),
                    local(o.sent_at, tz) if o.sent_at else "",
                    plain_text(o.raw),
                )
            )
    return page


def display_name(member: str) -> str:
    """The sender's own file name, without the folders it had inside their archive."""
    return member.replace("\\", "/").rsplit("/", 1)[-1] or "file"


def parse(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def plain_text(raw: bytes) -> str:
    body = parse(raw).get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


@dataclass(frozen=True)
class Held:
    id: int
    received: str
    sender: str
    subject: str
    unit: str
    why: str
    reason: str


def held(s: Session, config: Config) -> list[Held]:
    from mailbot.domain.vocabulary import HELD_WHY

    units = {u.id: u.name for u in s.exec(select(Unit))}
    rows = s.exec(select(Message).where(Message.verdict == "held").order_by(col(Message.received_at).desc()))
    return [
        Held(
            m.id or 0,
            local(m.received_at, config.timezone),
            m.sender,
            m.subject,
            units.get(m.unit_id, "") if m.unit_id else "",
            HELD_WHY.get(m.reasons, m.reasons),
            m.reasons,
        )
        for m in rows
    ]
