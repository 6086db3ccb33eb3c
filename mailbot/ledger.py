"""The points ledger read from the database: every item, adoption, grade and deduction as dated entries.

Bulletins, `mailbot explain` and the workbook's detail sheets all read this one ledger, so a total
printed anywhere is the sum of lines the office can list and check.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from mailbot.adapters import db
from mailbot.adapters.db import Author, Item
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import Period, local_day_bounds, period_bounds, utc_to_local_date
from mailbot.domain.commands import LEVEL_NAMES
from mailbot.domain.formats import day_range, fmt_points, local
from mailbot.domain.report import DeductionLine, DetailLine
from mailbot.domain.vocabulary import KIND_LABELS, ItemStatus
from mailbot.duties import Duties
from mailbot.reminders import work_calendar

OFFICE_RULE = "办公室扣分"  # 三(二)1 and the office's own findings (失实、抄袭): recorded by a person


def load_ledger(s: Session, config: Config, start: date, end: date, today: date) -> list[scoring.Entry]:
    """Ledger entries dated start..end: items received in the window plus those adopted in it, the
    office's deductions, and what missed column cycles and yearly pieces cost (as of `today`)."""
    tz = config.timezone
    lo, hi = local_day_bounds(start, tz)[0], local_day_bounds(end, tz)[1]
    adoptions = s.exec(select(db.Adoption).where(db.Adoption.on >= start, db.Adoption.on <= end)).all()
    deductions = s.exec(select(db.Deduction).where(db.Deduction.on >= start, db.Deduction.on <= end)).all()
    # Plain rows, not ORM objects: a year of a province is 100,000 items.
    in_window = (col(Item.received_at) >= lo) & (col(Item.received_at) < hi)
    adopted_ids = [a.item_id for a in adoptions]
    wanted = in_window | col(Item.id).in_(adopted_ids) if adopted_ids else in_window
    rows = s.execute(
        sa_select(
            col(Item.id),
            col(Item.unit_id),
            col(Item.kind),
            col(Item.received_at),
            col(Item.status),
            col(Item.column_name),
            col(Item.solicitation_id),
            col(Item.grade),
        ).where(wanted)
    ).all()
    drafters: dict[int, list[tuple[str, int]]] = {}
    for item_id, name, unit_id in s.exec(
        select(Author.item_id, Author.name, Author.unit_id)
        .join(Item, col(Item.id) == col(Author.item_id))
        .where(wanted)
        .order_by(col(Author.id))
    ):
        drafters.setdefault(item_id, []).append((name, unit_id))
    column_points = {c.name: c.points for c in config.columns}
    offset = ZoneInfo(tz)
    scored = [
        scoring.ScoredItem(
            i,
            unit_id,
            kind,
            local(received, offset).date(),
            tuple(drafters.get(i, ())),
            status,
            column or "",
            column_points.get(column or "", 0.0),
        )
        for i, unit_id, kind, received, status, column, _sol, _grade in rows
    ]
    duties = Duties(s, config, work_calendar(config))
    deadlines = {sol.id: sol.deadline for sol in s.exec(select(db.Solicitation))}
    grades = [
        scoring.SolicitationGrade(i, grade, deadlines[sol])
        for i, _u, _k, _r, _s, _c, sol, grade in rows
        if sol is not None and grade is not None
    ]
    return scoring.ledger(
        scored,
        [scoring.Adoption(a.item_id, a.level, a.on) for a in adoptions],
        grades,
        [
            scoring.Deduction(
                d.unit_id,
                d.points,
                d.on,
                d.reason,
                d.person or None,
                rule=OFFICE_RULE,
                cycle=day_range(d.on, d.on),
                by=d.by,
            )
            for d in deductions
        ]
        + duties.missed_cycles(start, end, today)
        + duties.missing_pieces(start, end, today),
        config.scoring,
    )


def period_entries(s: Session, config: Config, period: Period, today: date) -> list[scoring.Entry]:
    """The ledger a bulletin for `period` sums, from the start of its year: an adoption that tops an item
    up to a higher level needs the item's earlier adoptions, so every reader of a period uses this one."""
    return load_ledger(s, config, date(period.end.year, 1, 1), period.end, today)


STATUS_NAMES: dict[str, str] = {
    ItemStatus.RECEIVED: "已收录",
    ItemStatus.APPROVED: "已终审",
    ItemStatus.RETURNED: "已退回",
}
SYSTEM_UNIT = "?"  # an entry whose unit is no longer registered; never expected


def period_details(
    s: Session, config: Config, period: Period, entries: Sequence[scoring.Entry]
) -> tuple[tuple[DetailLine, ...], tuple[DeductionLine, ...]]:
    """The 信息明细 and 扣分明细 of a period: every item received in it or earning points in it (an
    adoption of an older item), and every deduction dated in it, from the same ledger as the totals."""
    names = {u.id: u.name for u in s.exec(select(db.Unit))}
    tz = config.timezone
    lo, hi = period_bounds(period, tz)
    in_period = [e for e in entries if period.contains(e.on)]
    earned: dict[int, list[scoring.Entry]] = {}
    for e in in_period:
        if e.item_id is not None:
            earned.setdefault(e.item_id, []).append(e)
    received = (col(Item.received_at) >= lo) & (col(Item.received_at) < hi)
    wanted = received | col(Item.id).in_(list(earned)) if earned else received
    items = s.exec(select(Item).where(wanted).order_by(col(Item.received_at), col(Item.seq))).all()
    ids = [i.id for i in items]
    authors: dict[int, list[str]] = {}
    for a in s.exec(select(Author).where(col(Author.item_id).in_(ids)).order_by(col(Author.id))):
        authors.setdefault(a.item_id, []).append(a.name)
    adopted: dict[int, list[str]] = {}
    for ad in s.exec(select(db.Adoption).where(col(db.Adoption.item_id).in_(ids)).order_by(col(db.Adoption.on))):
        adopted.setdefault(ad.item_id, []).append(f"{LEVEL_NAMES[ad.level]}（{ad.on.month}月{ad.on.day}日）")
    topics = {sol.id: sol for sol in s.exec(select(db.Solicitation))}
    details = []
    for item in items:
        assert item.id is not None
        lines = earned.get(item.id, [])
        shares: dict[str, float] = {}
        for e in lines:
            if e.person is not None:
                shares[e.person] = shares.get(e.person, 0.0) + e.points
        drafters = "、".join(
            f"{name} {fmt_points(round(shares[name], 4))}" if name in shares else name
            for name in dict.fromkeys(authors.get(item.id, []))
        )
        arrived = utc_to_local_date(item.received_at, tz)
        details.append(
            DetailLine(
                item.number,
                f"{arrived.month}月{arrived.day}日",
                names.get(item.unit_id, SYSTEM_UNIT),
                drafters,
                KIND_LABELS.get(item.kind, item.kind),
                item.column_name or "",
                _solicitation_text(topics.get(item.solicitation_id), arrived, item.grade),
                "、".join(adopted.get(item.id, [])),
                round(math.fsum(e.points for e in lines), 4) + 0.0,
                STATUS_NAMES.get(item.status, item.status),
            )
        )
    deductions = tuple(
        DeductionLine(
            names.get(e.unit_id, SYSTEM_UNIT),
            e.deduction.rule,
            e.deduction.duty or "—",
            e.deduction.cycle,
            e.points,
            e.deduction.reason,
            e.deduction.by,
            e.person or "",
        )
        for e in in_period
        if e.deduction is not None
    )
    return tuple(details), deductions


def _solicitation_text(sol: db.Solicitation | None, arrived: date, grade: int | None) -> str:
    """约稿 as the sheet says it: the topic, in time or late (三(二)1: late scores 0), and the grade if given."""
    if sol is None:
        return ""
    timing = "按时" if arrived <= sol.deadline else "逾期（计 0 分）"
    graded = f"，评 {grade} 分" if grade is not None and arrived <= sol.deadline else ""
    return f"《{sol.topic}》{timing}{graded}"
