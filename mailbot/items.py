"""Recording an accepted submission: its files, the numbered item, its drafters' shares of the points,
and the request (约稿) or column (栏目) it is filed under.

Runs inside the transaction that records the message's verdict, so an item exists exactly when
its receipt is queued.
"""

from __future__ import annotations

import hashlib
from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailbot.adapters.db import Author, Item, Liaison, Message, Solicitation, StoredFile, Unit
from mailbot.adapters.storage import Storage
from mailbot.domain.checks import Reason, Rules, reason
from mailbot.domain.column_match import ColumnMatch
from mailbot.domain.columns import Column
from mailbot.domain.formats import fmt_points
from mailbot.domain.scoring import PointTable, split_evenly, submission_points
from mailbot.domain.solicitations import match_solicitation, names_solicitation
from mailbot.domain.submission import Submission
from mailbot.domain.units import match_unit
from mailbot.domain.vocabulary import KIND_LABELS, ItemKind


def record_files(s: Session, storage: Storage, row: Message, sub: Submission) -> None:
    """Every file found in the message, with its hash; archives are recorded, not copied. A file the
    worker staged (it carries its digest) is moved into place instead of written."""
    assert row.id is not None
    for f in sub.files:
        if f.kind == "archive":  # its bytes are in the raw message already
            digest = f.sha256 or hashlib.sha256(f.data).hexdigest()
        elif f.sha256:
            digest, _rel = f.sha256, storage.adopt(row.id, f.sha256)
        else:
            digest, _rel = storage.put(f.data, "files", durable=False)
        s.add(StoredFile(message_pk=row.id, path=f.path[:1000], kind=f.kind, sha256=digest, size=f.size))


def record_item(
    s: Session,
    tz: ZoneInfo,
    table: PointTable,
    row: Message,
    unit: Unit,
    liaison: Liaison,
    sub: Submission,
    kind: str,
    digest: str,
    solicitation_id: int | None,
    column: Column | None,
) -> Item:
    """The next number of the local year, the points by kind (or column), split among the drafters."""
    ms = sub.manuscript
    assert ms is not None and unit.id is not None
    now = row.received_at  # the arrival time, not the processing time: weeks and deadlines follow it
    year = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz).year
    seq = (s.exec(select(func.max(Item.seq)).where(Item.year == year)).one() or 0) + 1
    points = item_points(kind, column, table)
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


def receipt_facts(s: Session, item: Item, tz: ZoneInfo, changed: tuple[str, ...] = ()) -> dict[str, object]:
    """What the receipt says about the item as recorded: people with their shares, figures, version,
    and where its points go."""
    authors = s.exec(select(Author).where(Author.item_id == item.id).order_by(col(Author.id))).all()
    unit_names = {u.id: u.name for u in s.exec(select(Unit))}
    return {
        "number": item.number,
        "title": item.title,
        "kind_label": KIND_LABELS[ItemKind(item.kind)],
        "drafters": [
            {"name": a.name, "unit": a.unit_text or unit_names[a.unit_id], "share": fmt_points(a.share)}
            for a in authors
        ],
        "first_reviewer": item.first_reviewer,
        "second_reviewer": item.second_reviewer,
        "photo_count": item.photo_count,
        "body_chars": item.body_chars,
        "points": fmt_points(item.points),
        "version": item.version,
        "changes": list(changed),
    } | _credit_facts(s, item, tz)


def item_points(kind: str, column: Column | None, table: PointTable) -> float:
    """A column item earns its column's figure (0.3, or 0.5 for policy documents) instead of 0.3."""
    return column.points if column and kind == ItemKind.ROUTINE else submission_points(kind, table)


def solicitation_for(s: Session, subject: str, title: str, rules: Rules) -> tuple[int | None, list[Reason]]:
    """A subject naming 约稿 answers the matching open request; an unknown one gets a warning."""
    if not names_solicitation(subject):
        return None, []
    topics = [(r.id, r.topic) for r in s.exec(select(Solicitation).order_by(col(Solicitation.id))) if r.id]
    matched = match_solicitation(subject, title, topics)
    if matched is None:
        listed = "、".join(f"《{t}》" for _i, t in topics[-5:]) or "目前没有约稿"
        return None, [reason("solicitation_unknown", listed, rules)]
    return matched, []


def column_warnings(match: ColumnMatch | None, columns: tuple[Column, ...], rules: Rules) -> list[Reason]:
    """An unknown column is registered as routine information; a near miss under the closest one."""
    if match is None or (match.column is not None and match.exact):
        return []
    if match.column is None:
        return [reason("column_unknown", match.written, rules, columns="、".join(c.name for c in columns))]
    return [reason("column_near_miss", match.written, rules, column=match.column.name)]


def _credit_facts(s: Session, item: Item, tz: ZoneInfo) -> dict[str, object]:
    """Where the points go: the column credited (栏目) and, for a 约稿, its topic,
    deadline and whether the piece came in time (三(二)1: a late one scores 0)."""
    facts: dict[str, object] = {"column": item.column_name or ""}
    sol = s.get(Solicitation, item.solicitation_id) if item.solicitation_id is not None else None
    if sol is not None:
        arrived = (item.received_at if item.received_at.tzinfo else item.received_at.replace(tzinfo=UTC)).astimezone(tz)
        facts |= {
            "solicitation": sol.topic,
            "solicitation_deadline": f"{sol.deadline.month}月{sol.deadline.day}日",
            "solicitation_in_time": arrived.date() <= sol.deadline,
        }
    return facts
