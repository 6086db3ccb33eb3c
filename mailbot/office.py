"""Office actions (终审, 采用, 约稿, 扣分), each recorded with who and when, from the CLI or by email.

Every action changes only rows of its own table (and the item's status or grade); scores are
computed from those rows, so a bulletin always reflects the actions taken, and each figure can be
traced back to them. Actions run in the caller's session: an emailed command commits together with
the verdict of the message that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from mailbot.adapters.db import (
    Adoption,
    Deduction,
    Item,
    Liaison,
    Message,
    PendingLiaison,
    Review,
    Solicitation,
    Unit,
    utcnow,
)
from mailbot.adapters.registry_store import OFFICE_SOURCE
from mailbot.domain.commands import LEVEL_NAMES, Command
from mailbot.domain.units import match_unit
from mailbot.domain.vocabulary import Held, ItemStatus, Verdict


class OfficeError(Exception):
    """The action cannot be taken as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class Done:
    """What an action did, in words for the confirmation, and whom to tell about it."""

    summary: str
    item_id: int | None = None
    notify: str = ""  # adopted | returned | ""
    release: tuple[int, ...] = ()  # held messages (Message ids) to process now that their sender is registered


def _item(s: Session, number: str | None) -> Item:
    if not number:
        raise OfficeError("没有指明信息编号：请写明编号（如 2026-0137），或直接回复该信息的回执。")
    item = s.exec(select(Item).where(Item.number == number)).first()
    if item is None:
        raise OfficeError(f"没有编号为 {number} 的信息。")
    return item


def review(s: Session, number: str | None, decision: str, reason: str, by: str) -> Done:
    if decision not in (ItemStatus.APPROVED, ItemStatus.RETURNED):
        raise OfficeError("终审结论只能是通过或退回。")
    if decision == ItemStatus.RETURNED and not reason.strip():
        raise OfficeError("退回需要写明原因。")
    item = _item(s, number)
    assert item.id is not None
    s.add(Review(item_id=item.id, decision=decision, reason=reason.strip(), by=by))
    item.status = decision
    s.add(item)
    s.flush()
    if decision == ItemStatus.APPROVED:
        return Done(f"信息 {item.number}《{item.title}》终审通过。", item.id)
    return Done(
        f"信息 {item.number}《{item.title}》已退回，原因：{reason.strip()}。本稿不再计分。",
        item.id,
        ItemStatus.RETURNED,
    )


def adopt(s: Session, number: str | None, level: str, publication: str, on: date, by: str) -> Done:
    if level not in LEVEL_NAMES:
        raise OfficeError("采用级别只能是市级、省级或国家级。")
    item = _item(s, number)
    assert item.id is not None
    if item.status == ItemStatus.RETURNED:
        raise OfficeError(f"信息 {item.number} 已在终审中退回，不能登记采用。")
    if s.exec(select(Adoption).where(Adoption.item_id == item.id, Adoption.level == level)).first():
        raise OfficeError(f"信息 {item.number} 的{LEVEL_NAMES[level]}采用已经登记过。")
    s.add(Adoption(item_id=item.id, level=level, publication=publication.strip(), on=on, by=by))
    s.flush()
    where = f"（{publication.strip()}）" if publication.strip() else ""
    return Done(f"信息 {item.number}《{item.title}》已登记为{LEVEL_NAMES[level]}采用{where}。", item.id, "adopted")


def solicit(s: Session, topic: str, deadline: date, units: list[str], by: str) -> Solicitation:
    if not topic.strip():
        raise OfficeError("约稿需要主题。")
    known = {u.name for u in s.exec(select(Unit))}
    unknown = [u for u in units if u not in known]
    if unknown:
        raise OfficeError(f"没有这些单位：{'、'.join(unknown)}")
    row = Solicitation(topic=topic.strip(), units="\n".join(units), deadline=deadline, by=by)
    s.add(row)
    s.flush()
    s.refresh(row)
    return row


def grade(s: Session, number: str | None, value: int, by: str) -> Done:
    if value not in (0, 1, 2, 3):
        raise OfficeError("约稿评分只能是 0、1、2、3。")
    item = _item(s, number)
    if item.solicitation_id is None:
        raise OfficeError(f"信息 {item.number} 不是约稿，不能评分。")
    item.grade = value
    s.add(item)
    s.flush()
    return Done(f"约稿 {item.number}《{item.title}》评为 {value} 分（逾期报送的约稿按 0 分计）。", item.id)


def deduct(s: Session, unit: str, points: float, reason: str, on: date, by: str, person: str = "") -> Done:
    if points <= 0 or not reason.strip():
        raise OfficeError("扣分需要大于 0 的分值和原因。")
    units = [(u.id, [u.name, *u.aliases.split("\n")]) for u in s.exec(select(Unit)) if u.id is not None]
    unit_id = match_unit(unit, units)
    if unit_id is None:
        raise OfficeError(f"没有找到单位“{unit}”。")
    row = s.get(Unit, unit_id)
    assert row is not None
    s.add(Deduction(unit_id=unit_id, person=person, points=points, reason=reason.strip(), on=on, by=by))
    s.flush()
    return Done(f"{row.name}扣 {points:g} 分，原因：{reason.strip()}。")


def apply(s: Session, command: Command, replied_item: str | None, by: str, today: date) -> Done:
    """Carry out a parsed email command; the item defaults to the one whose receipt was answered."""
    number = command.item_number or replied_item
    if command.verb == "adopt":
        assert command.level is not None
        return adopt(s, number, command.level, command.publication, today, by)
    if command.verb == "approve":
        return review(s, number, ItemStatus.APPROVED, "", by)
    if command.verb == "return":
        return review(s, number, ItemStatus.RETURNED, command.reason, by)
    if command.verb == "grade":
        assert command.grade is not None
        return grade(s, number, command.grade, by)
    if command.verb == "enrol":
        return enrol(s, command.name, command.unit, command.email, by)
    if command.verb == "move":
        return move(s, command.name, command.unit, by)
    if command.verb == "retire":
        return retire(s, command.name, command.unit, by)
    assert command.points is not None
    return deduct(s, command.unit, command.points, command.reason, today, by)


# -- the registry by one-line commands (登记 / 调整 / 停用) -----------------------------------------------


def _unit(s: Session, written: str) -> Unit:
    """The unit by its name, an alias, or the start of its name when only one unit fits ("兴隆台区")."""
    units = [u for u in s.exec(select(Unit)) if u.id is not None]
    unit_id = match_unit(written, [(u.id, [u.name, *u.aliases.split("\n")]) for u in units if u.id is not None])
    if unit_id is None:
        fits = [u.id for u in units if u.name.startswith(written)]
        unit_id = fits[0] if len(fits) == 1 else None
    if unit_id is None:
        raise OfficeError(f"没有找到单位“{written}”。")
    unit = s.get(Unit, unit_id)
    assert unit is not None
    return unit


def enrol(s: Session, name: str, written_unit: str, email: str, by: str) -> Done:
    """登记: the liaison (new, or registered from annex 4 without an address) gets the address; without an
    address in the command, the one of the held first mail naming this liaison. Held mail from it is released."""
    unit = _unit(s, written_unit)
    pending = s.exec(
        select(PendingLiaison)
        .join(Liaison, col(Liaison.id) == col(PendingLiaison.liaison_id))
        .where(col(PendingLiaison.resolved_at).is_(None), Liaison.name == name)
        .order_by(col(PendingLiaison.id).desc())
    ).all()
    email = email or (pending[0].email if pending else "")
    if not email:
        raise OfficeError(f"没有{name}待确认的来信，请写明邮箱，例如：登记 {name} {unit.name} 邮箱地址。")
    taken = s.exec(select(Liaison).where(Liaison.email == email, col(Liaison.active))).first()
    if taken is not None and (taken.name != name or taken.unit_id != unit.id):
        owner = s.get(Unit, taken.unit_id)
        raise OfficeError(f"邮箱 {email} 已登记为{owner.name if owner else ''}{taken.name}的邮箱，请先停用。")
    row = (
        taken
        or s.exec(
            select(Liaison)
            .where(Liaison.unit_id == unit.id, Liaison.name == name, col(Liaison.email).is_(None))
            .order_by(col(Liaison.active).desc())
        ).first()
    )
    assert unit.id is not None
    row = row or Liaison(unit_id=unit.id, name=name)
    row.email, row.active, row.source = email, True, OFFICE_SOURCE
    s.add(row)
    s.flush()
    release = []
    for p in s.exec(
        select(PendingLiaison).where(PendingLiaison.email == email, col(PendingLiaison.resolved_at).is_(None))
    ):
        p.resolved_at = utcnow()
        s.add(p)
        release.append(p.message_pk)
    # Mail held from this address as an unknown sender is the new liaison's too: processed now.
    held_mail = select(Message.id).where(
        Message.sender == email, Message.verdict == Verdict.HELD, Message.reasons == Held.UNKNOWN_SENDER
    )
    release += [pk for pk in s.exec(held_mail) if pk is not None and pk not in release]
    s.flush()
    held = f"暂存的 {len(release)} 封来信已按正常稿件处理，回执已发给宣传员。" if release else ""
    return Done(f"已登记宣传员：{unit.name} {name} <{email}>（{by}）。{held}", release=tuple(release))


def _liaison(s: Session, name: str, written_unit: str) -> Liaison:
    query = select(Liaison).where(Liaison.name == name, col(Liaison.active))
    if written_unit:
        query = query.where(Liaison.unit_id == _unit(s, written_unit).id)
    rows = s.exec(query).all()
    if not rows:
        raise OfficeError(f"没有在用的宣传员“{name}”{'（' + written_unit + '）' if written_unit else ''}。")
    if len({r.unit_id for r in rows}) > 1:
        raise OfficeError(f"有多名宣传员叫“{name}”，请写明单位，例如：停用 {name} 单位名称。")
    return rows[0]


def move(s: Session, name: str, written_unit: str, by: str) -> Done:
    """调整: a liaison now writes for another unit; items already recorded stay with the unit they were for."""
    unit = _unit(s, written_unit)
    rows = s.exec(select(Liaison).where(Liaison.name == name, col(Liaison.active))).all()
    if not rows:
        raise OfficeError(f"没有在用的宣传员“{name}”。")
    if len({r.unit_id for r in rows}) > 1:
        raise OfficeError(f"有多名宣传员叫“{name}”，请先停用其中一人，再调整。")
    assert unit.id is not None
    for row in rows:
        row.unit_id, row.source = unit.id, OFFICE_SOURCE
        s.add(row)
    s.flush()
    return Done(f"宣传员{name}已调整到{unit.name}（{by}），此后的来稿计入{unit.name}。")


def retire(s: Session, name: str, written_unit: str, by: str) -> Done:
    """停用: the liaison's mail is no longer accepted; the row is kept for the history of what they sent."""
    row = _liaison(s, name, written_unit)
    rows = s.exec(
        select(Liaison).where(Liaison.name == name, Liaison.unit_id == row.unit_id, col(Liaison.active))
    ).all()
    for r in rows:
        r.active, r.source = False, OFFICE_SOURCE
        s.add(r)
    s.flush()
    unit = s.get(Unit, row.unit_id)
    return Done(f"宣传员{unit.name if unit else ''}{name}已停用（{by}），此后其来信将暂存待办公室处理。")
