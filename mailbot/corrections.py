"""Corrections on record: find the earlier item a re-send corrects, and replace it in place.

The item keeps its number, its first arrival (so digests count it once, in the period it first came)
and its adoptions; its text, people and points become the new version's, and `ItemVersion` keeps each
version as it arrived. The rules of which item and whether it may change are in `domain.corrections`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from mailbot.adapters.db import Adoption, Author, Item, ItemVersion, Message, Outbox, Unit
from mailbot.domain.corrections import Prior, Version, changes, corrected_item, numbers_in
from mailbot.domain.scoring import split_evenly
from mailbot.domain.submission import Submission
from mailbot.domain.units import match_unit
from mailbot.domain.vocabulary import ItemStatus, OutboxKind


def _prior(s: Session, item: Item, *, named: bool) -> Prior:
    assert item.id is not None
    adopted = s.exec(select(Adoption.id).where(Adoption.item_id == item.id)).first() is not None
    return Prior(item.id, item.number, item.unit_id, item.title, item.received_at, item.status, adopted, named)


def find_corrected(
    s: Session, reply_to: tuple[str, ...], subject: str, unit_id: int, title: str, arrived: datetime, window: timedelta
) -> Prior | None:
    """The item this submission corrects, by evidence: the receipt it answers, a number in the
    subject, then the unit's items of the same title within `window` before it arrived."""
    candidates: list[Prior] = []
    if reply_to:
        sent = s.exec(
            select(Outbox).where(col(Outbox.message_id).in_(reply_to), Outbox.kind == OutboxKind.RECEIPT)
        ).first()
        origin = s.get(Message, sent.message_pk) if sent is not None and sent.message_pk else None
        item = s.get(Item, origin.item_id) if origin is not None and origin.item_id else None
        if item is not None:
            candidates.append(_prior(s, item, named=True))
    for number in numbers_in(subject):
        item = s.exec(select(Item).where(Item.number == number)).first()
        if item is not None:
            candidates.append(_prior(s, item, named=True))
    recent = s.exec(
        select(Item)
        .where(Item.unit_id == unit_id, col(Item.received_at) >= arrived - window)
        .order_by(col(Item.received_at).desc())
    ).all()
    candidates += [_prior(s, item, named=False) for item in recent]
    return corrected_item(candidates, unit_id, title, arrived, window)


def version_of(s: Session, item: Item) -> Version:
    drafters = tuple(a.name for a in s.exec(select(Author).where(Author.item_id == item.id).order_by(col(Author.id))))
    return Version(
        item.title,
        drafters,
        item.first_reviewer,
        item.second_reviewer,
        item.photo_count,
        item.body_chars,
        item.content_hash,
    )


def record_first_version(s: Session, item: Item, message_pk: int | None) -> None:
    """Version 1, as the item was first recorded."""
    assert item.id is not None
    s.add(_snapshot(s, item, message_pk, item.received_at))


def supersede(
    s: Session,
    item_id: int,
    row: Message,
    sub: Submission,
    kind: str,
    points: float,
    column_name: str | None,
    digest: str,
) -> tuple[Item, tuple[str, ...]]:
    """Replace the item's content with the new version; its number, first arrival and adoptions stay.
    A piece returned in final review and corrected goes back to the office for review. Returns the
    item and what changed, in words for the receipt."""
    item = s.get(Item, item_id)
    ms = sub.manuscript
    assert item is not None and item.id is not None and row.id is not None and ms is not None
    before = version_of(s, item)
    photo_count = len([p for p in sub.photos if not p.problem])
    item.version += 1
    item.title, item.kind, item.body_chars, item.photo_count = ms.title, kind, ms.body_chars, photo_count
    item.first_reviewer = ms.footer.first_reviewer or ""
    item.second_reviewer = ms.footer.second_reviewer or ""
    item.points, item.column_name, item.content_hash = points, column_name, digest
    if item.status == ItemStatus.RETURNED:
        item.status = ItemStatus.RECEIVED
    for author in s.exec(select(Author).where(Author.item_id == item.id)):
        s.delete(author)
    known = [(u.id, [u.name, *u.aliases.split("\n")]) for u in s.exec(select(Unit)) if u.id is not None]
    drafters = ms.footer.drafters
    for drafter, share in zip(drafters, split_evenly(points, len(drafters)), strict=True):
        unit_id = match_unit(drafter.unit, known) or item.unit_id
        s.add(Author(item_id=item.id, name=drafter.name, unit_text=drafter.unit or "", unit_id=unit_id, share=share))
    s.add(item)
    s.flush()
    s.add(_snapshot(s, item, row.id, row.received_at))
    row.item_id = item.id
    return item, changes(before, version_of(s, item))


def _snapshot(s: Session, item: Item, message_pk: int | None, arrived: datetime) -> ItemVersion:
    assert item.id is not None
    version = version_of(s, item)
    return ItemVersion(
        item_id=item.id,
        version=item.version,
        message_pk=message_pk,
        received_at=arrived,
        title=item.title,
        drafters="、".join(version.drafters),
        first_reviewer=item.first_reviewer,
        second_reviewer=item.second_reviewer,
        photo_count=item.photo_count,
        body_chars=item.body_chars,
        content_hash=item.content_hash,
    )


def item_with_content(s: Session, digest: str) -> Item | None:
    """The item whose current or any earlier version has exactly this content (a re-send of it)."""
    item = s.exec(select(Item).where(Item.content_hash == digest)).first()
    if item is not None:
        return item
    earlier = s.exec(select(ItemVersion).where(ItemVersion.content_hash == digest)).first()
    return s.get(Item, earlier.item_id) if earlier is not None else None
