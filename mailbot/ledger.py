"""The points ledger read from the database: every item, adoption, grade and deduction as dated entries.

Bulletins, `mailbot explain` and the workbook's detail sheets all read this one ledger, so a total
printed anywhere is the sum of lines the office can list and check.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlmodel import Session, col, select

from mailbot.adapters import db
from mailbot.adapters.db import Author, Item
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import local_day_bounds
from mailbot.domain.formats import local
from mailbot.duties import Duties
from mailbot.reminders import work_calendar


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
        [scoring.Deduction(d.unit_id, d.points, d.on, d.reason, d.person or None) for d in deductions]
        + duties.missed_cycles(start, end, today)
        + duties.missing_pieces(start, end, today),
        config.scoring,
    )
