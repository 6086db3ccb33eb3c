"""Office actions (终审, 采用, 约稿, 扣分), each recorded with who and when, from the CLI or by email.

Every action changes only rows of its own table (and the item's status or grade); scores are
computed from those rows, so a bulletin always reflects the actions taken, and each figure can be
traced back to them. Actions run in the caller's session: an emailed command commits together with
the verdict of the message that carried it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from mailbot.adapters.db import Adoption, Deduction, Item, Review, Solicitation, Unit
from mailbot.domain.commands import LEVEL_NAMES, Command
from mailbot.domain.units import match_unit
from mailbot.domain.vocabulary import ItemStatus


class OfficeError(Exception):
    """The action cannot be taken as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class Done:
    """What an action did, in words for the confirmation, and whom to tell about it."""

    summary: str
    item_id: int | None = None
    notify: str = ""  # adopted | returned | ""


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
    assert command.points is not None
    return deduct(s, command.unit, command.points, command.reason, today, by)
