"""Read-only views of the records for the office's commands (`items`, `show`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters.db import (
    Adoption,
    Author,
    Item,
    ItemVersion,
    Liaison,
    Message,
    Review,
    Solicitation,
    StoredFile,
    Unit,
)
from mailbot.domain.calendar import Period, period_bounds
from mailbot.domain.commands import LEVEL_NAMES
from mailbot.domain.formats import fmt_points, local_stamp
from mailbot.domain.vocabulary import FILE_LABELS, KIND_LABELS, ItemStatus

STATUS_NAMES: dict[str, str] = {
    ItemStatus.RECEIVED: "已收录",
    ItemStatus.APPROVED: "终审通过",
    ItemStatus.RETURNED: "终审退回",
}


@dataclass(frozen=True)
class ItemRow:
    number: str
    received: str
    unit: str
    title: str
    status: str
    points: str
    adopted: str


def list_items(
    engine: Engine,
    tz: str,
    *,
    unit: str | None = None,
    period: Period | None = None,
    status: str | None = None,
    search: str | None = None,
) -> list[ItemRow]:
    with Session(engine) as s:
        query = select(Item, Unit).join(Unit, col(Item.unit_id) == col(Unit.id)).order_by(col(Item.year), col(Item.seq))
        if unit:
            query = query.where(col(Unit.name).contains(unit))
        if period:
            start, end = period_bounds(period, tz)
            query = query.where(col(Item.received_at) >= start, col(Item.received_at) < end)
        if status:
            query = query.where(Item.status == status)
        if search:
            query = query.where(col(Item.title).contains(search))
        adoptions: dict[int, list[str]] = {}
        for a in s.exec(select(Adoption)):
            adoptions.setdefault(a.item_id, []).append(LEVEL_NAMES[a.level])
        return [
            ItemRow(
                item.number,
                local_stamp(item.received_at, tz),
                u.name,
                item.title,
                STATUS_NAMES.get(item.status, item.status),
                fmt_points(item.points),
                "、".join(adoptions.get(item.id or 0, [])),
            )
            for item, u in s.exec(query)
        ]


def item_detail(engine: Engine, number: str, tz: str) -> list[tuple[str, str]]:
    """Everything recorded about one item, as label/value lines."""
    with Session(engine) as s:
        item = s.exec(select(Item).where(Item.number == number)).first()
        if item is None:
            return []
        unit = s.get(Unit, item.unit_id)
        liaison = s.get(Liaison, item.liaison_id) if item.liaison_id else None
        message = s.exec(select(Message).where(Message.item_id == item.id).order_by(col(Message.id))).first()
        lines = [
            ("信息编号", item.number),
            ("标题", item.title),
            ("报送单位", unit.name if unit else "?"),
            ("报送人", f"{liaison.name} <{liaison.email or '邮箱待登记'}>" if liaison else "-"),
            ("收到时间", local_stamp(item.received_at, tz)),
            (
                "类别",
                KIND_LABELS.get(item.kind, item.kind) + (f"（栏目：{item.column_name}）" if item.column_name else ""),
            ),
            ("状态", STATUS_NAMES.get(item.status, item.status)),
            ("报送分", fmt_points(item.points)),
            ("正文字数", str(item.body_chars)),
            ("照片", f"{item.photo_count} 张"),
            ("初审人", item.first_reviewer),
            ("复审人", item.second_reviewer),
        ]
        versions = s.exec(select(ItemVersion).where(ItemVersion.item_id == item.id).order_by(col(ItemVersion.version)))
        for v in versions:
            people = f"撰稿人 {v.drafters or '-'}，初审 {v.first_reviewer or '-'}，复审 {v.second_reviewer or '-'}"
            lines.append(
                (
                    "版本",
                    f"第{v.version}版 {local_stamp(v.received_at, tz)}《{v.title}》{people}，"
                    f"照片 {v.photo_count} 张，{v.body_chars} 字" + ("（当前）" if v.version == item.version else ""),
                )
            )
        for a in s.exec(select(Author).where(Author.item_id == item.id)):
            written = s.get(Unit, a.unit_id)
            counted = written.name if written else "?"
            lines.append(("撰稿人", f"{a.name}（{a.unit_text or '-'}，计入{counted}，{fmt_points(a.share)} 分）"))
        if item.solicitation_id:
            sol = s.get(Solicitation, item.solicitation_id)
            grade = "未评分" if item.grade is None else f"{item.grade} 分"
            lines.append(("约稿", f"《{sol.topic if sol else '?'}》截止 {sol.deadline if sol else '?'}，{grade}"))
        for r in s.exec(select(Review).where(Review.item_id == item.id)):
            lines.append(("终审", f"{STATUS_NAMES[r.decision]} {r.reason} —— {r.by}，{local_stamp(r.at, tz)}"))
        for ad in s.exec(select(Adoption).where(Adoption.item_id == item.id)):
            lines.append(("采用", f"{LEVEL_NAMES[ad.level]} {ad.publication} {ad.on} —— {ad.by}"))
        if message is not None:
            lines.append(("原始邮件", f"{message.raw_path}（{message.sender}，主题：{message.subject}）"))
            for f in s.exec(select(StoredFile).where(StoredFile.message_pk == message.id)):
                lines.append(("附件", f"{f.path}（{FILE_LABELS.get(f.kind, f.kind)}，{f.size} 字节）"))
        return lines


@dataclass(frozen=True)
class SolicitationRow:
    topic: str
    deadline: str
    answered: tuple[str, ...]  # "unit 2026-0137（3 分）" on time
    late: tuple[str, ...]
    missing: tuple[str, ...]  # units asked that sent nothing


def solicitations(engine: Engine, tz: str) -> list[SolicitationRow]:
    """Each 约稿: who answered in time, who late, who owes it (the office's rules 一(二)1 and 4)."""
    out = []
    with Session(engine) as s:
        units = {u.id: u.name for u in s.exec(select(Unit))}
        for sol in s.exec(select(Solicitation).order_by(col(Solicitation.id))):
            asked = [n for n in sol.units.split("\n") if n] or list(units.values())
            answered: list[str] = []
            late: list[str] = []
            seen: set[str] = set()
            for item in s.exec(select(Item).where(Item.solicitation_id == sol.id).order_by(col(Item.seq))):
                unit = units.get(item.unit_id, "?")
                seen.add(unit)
                grade = "未评分" if item.grade is None else f"{item.grade} 分"
                received = local_stamp(item.received_at, tz)
                entry = f"{unit} {item.number}（{received}，{grade}）"
                (late if received[:10] > sol.deadline.isoformat() else answered).append(entry)
            out.append(
                SolicitationRow(
                    sol.topic,
                    sol.deadline.isoformat(),
                    tuple(answered),
                    tuple(late),
                    tuple(u for u in asked if u not in seen),
                )
            )
    return out
