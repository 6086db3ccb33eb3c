"""The points roll-up kept in step with the records, and the sums a bulletin reads from it.

A year of a province is 100,000 items: scoring them all for every bulletin took seconds. Each item's
lines are scored once, by the same rules as the ledger (mailbot.ledger builds the items the same
way), and kept in `ItemPoints`; an item is scored again only when something it is scored from changes
(mailbot.adapters.db marks it) or the point table in the configuration changes (all are). A bulletin's
totals are then SQL sums, plus the deductions, which the ledger computes as before. A test checks the
sums against the ledger's own totals after every kind of change.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import TypeVar

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from mailbot.adapters import db
from mailbot.adapters.db import Item
from mailbot.adapters.points_tables import SCALE, ItemPoints, PointsStale, PointsState
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import Period, utc_to_local_date
from mailbot.ledger import item_drafters, item_rows, scoring_inputs

K = TypeVar("K", int, tuple[str, int])
BATCH = 5000  # items scored per round: bounded memory, and well under any database's parameter limit


def rules_key(config: Config) -> str:
    """What the stored lines were computed with: the point table and each column's points."""
    rules = {"table": asdict(config.scoring), "columns": sorted((c.name, c.points) for c in config.columns)}
    return hashlib.sha256(json.dumps(rules, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def refresh(engine: Engine, config: Config) -> int:
    """Score the items marked stale again, or every item when the point table changed, in a transaction
    of its own. Returns how many items were scored. Nothing is written when nothing is stale."""
    try:
        with Session(engine) as s:
            return _refresh(s, config)
    except IntegrityError:  # two readers made the first state row at once: the other's lines stand
        with Session(engine) as s:
            return _refresh(s, config)


def _refresh(s: Session, config: Config) -> int:
    key = rules_key(config)
    conn = s.connection()
    state = conn.execute(select(col(PointsState.rules)).where(col(PointsState.id) == 1)).scalar_one_or_none()
    if state == key and conn.execute(select(col(PointsStale.id)).limit(1)).first() is None:
        return 0
    # The write comes first: it takes SQLite's lock and PostgreSQL's row lock, so two readers refreshing
    # at once take turns instead of both inserting the same lines.
    if not conn.execute(update(PointsState).where(col(PointsState.id) == 1).values(rules=PointsState.rules)).rowcount:
        conn.execute(insert(PointsState).values(id=1, rules=""))
    state = conn.execute(select(col(PointsState.rules)).where(col(PointsState.id) == 1)).scalar_one()
    if state != key:
        conn.execute(delete(PointsStale))
        conn.execute(delete(ItemPoints))
        ids = [int(i) for i in conn.execute(select(col(Item.id)).order_by(col(Item.id))).scalars() if i is not None]
        scored = _score(conn, config, ids, fresh=True)
        conn.execute(update(PointsState).where(col(PointsState.id) == 1).values(rules=key))
    else:
        marks = conn.execute(select(col(PointsStale.id), col(PointsStale.item_id))).all()
        ids = sorted({int(item_id) for _id, item_id in marks})
        scored = _score(conn, config, ids, fresh=False)
        # Marks made after they were read stay for the next reader: their changes may not be seen here.
        conn.execute(
            delete(PointsStale).where(
                col(PointsStale.id) <= max((int(m) for m, _i in marks if m is not None), default=0)
            )
        )
    s.commit()
    return scored


def _score(conn: Connection, config: Config, ids: Sequence[int], *, fresh: bool) -> int:
    for start in range(0, len(ids), BATCH):
        batch = ids[start : start + BATCH]
        if not fresh:
            conn.execute(delete(ItemPoints).where(col(ItemPoints.item_id).in_(batch)))
        lines = [
            {
                "item_id": e.item_id,
                "unit_id": e.unit_id,
                "person": e.person,
                "on": e.on,
                "points": round(e.points * SCALE),
                "source": e.source,
            }
            for e in _entries(conn, config, batch)
        ]
        if lines:
            conn.execute(insert(ItemPoints), lines)
    return len(ids)


def _entries(conn: Connection, config: Config, ids: Sequence[int]) -> list[scoring.Entry]:
    """The items' whole ledger lines, read and scored as `ledger.read_ledger` does, whatever their dates."""
    chosen = col(Item.id).in_(ids)
    rows = item_rows(conn, chosen, lambda moments: [utc_to_local_date(m, config.timezone) for m in moments])
    items, grades = scoring_inputs(conn, config, rows, item_drafters(conn, chosen))
    adoptions = [
        scoring.Adoption(i, level, on)
        for i, level, on in conn.execute(
            select(col(db.Adoption.item_id), col(db.Adoption.level), col(db.Adoption.on)).where(
                col(db.Adoption.item_id).in_(ids)
            )
        )
    ]
    return scoring.ledger(items, adoptions, grades, [], config.scoring)


def unit_sums(s: Session, start: date, end: date) -> dict[int, int]:
    """Each unit's item points dated start..end, in 1/SCALE of a point."""
    return {
        unit_id: int(total)
        for unit_id, total in s.connection().execute(
            select(col(ItemPoints.unit_id), func.sum(col(ItemPoints.points)))
            .where(col(ItemPoints.on) >= start, col(ItemPoints.on) <= end)
            .group_by(col(ItemPoints.unit_id))
        )
    }


def sums_by_source(s: Session, start: date, end: date) -> dict[int, dict[str, int]]:
    """Each unit's points dated start..end per kind of line, in 1/SCALE of a point."""
    out: dict[int, dict[str, int]] = {}
    for unit_id, source, total in s.connection().execute(
        select(col(ItemPoints.unit_id), col(ItemPoints.source), func.sum(col(ItemPoints.points)))
        .where(col(ItemPoints.on) >= start, col(ItemPoints.on) <= end)
        .group_by(col(ItemPoints.unit_id), col(ItemPoints.source))
    ):
        out.setdefault(unit_id, {})[source] = int(total)
    return out


class DaySums:
    """Each unit's points per day and kind of line, start..end, read in one pass: a bulletin sums its period,
    the year to date and each month of a yearly 月度明细 from the same rows instead of a query each."""

    def __init__(self, s: Session, start: date, end: date) -> None:
        self.start, self.end = start, end
        keys = col(ItemPoints.on), col(ItemPoints.unit_id), col(ItemPoints.source)
        query = (
            select(*keys, func.sum(col(ItemPoints.points)))
            .where(col(ItemPoints.on) >= start, col(ItemPoints.on) <= end)
            .group_by(*keys)
        )
        self.rows = [
            (on, int(unit_id), str(source), int(total)) for on, unit_id, source, total in s.connection().execute(query)
        ]

    def by_source(self, start: date, end: date) -> dict[int, dict[str, int]]:
        """`sums_by_source(start, end)` for a window inside the one read."""
        if start < self.start or end > self.end:
            raise ValueError(f"{start}..{end} is outside the days read, {self.start}..{self.end}")
        out: dict[int, dict[str, int]] = {}
        for on, unit_id, source, total in self.rows:
            if start <= on <= end:
                sources = out.setdefault(unit_id, {})
                sources[source] = sources.get(source, 0) + total
        return out

    def units(self, start: date, end: date) -> dict[int, int]:
        """`unit_sums(start, end)` for a window inside the one read."""
        return {unit_id: sum(sources.values()) for unit_id, sources in self.by_source(start, end).items()}


def person_sums(s: Session, start: date, end: date) -> dict[tuple[str, int], int]:
    """Each drafter's points dated start..end, per (name, unit), in 1/SCALE of a point."""
    return {
        (str(person), unit_id): int(total)
        for person, unit_id, total in s.connection().execute(
            select(col(ItemPoints.person), col(ItemPoints.unit_id), func.sum(col(ItemPoints.points)))
            .where(col(ItemPoints.on) >= start, col(ItemPoints.on) <= end, col(ItemPoints.person).is_not(None))
            .group_by(col(ItemPoints.person), col(ItemPoints.unit_id))
        )
    }


def unit_totals(s: Session, period: Period, cut: list[scoring.Entry]) -> dict[int, float]:
    """Each unit's points for the period, as `scoring.totals` over the whole ledger gives them; `cut`
    is the ledger's deduction lines (`ledger.deduction_entries`), which the roll-up does not keep."""
    return combined(unit_sums(s, period.start, period.end), scoring.totals(cut, period, "unit"))


def person_totals(s: Session, period: Period, cut: list[scoring.Entry]) -> dict[tuple[str, int], float]:
    """`unit_totals` per drafter (name, unit)."""
    return combined(person_sums(s, period.start, period.end), scoring.totals(cut, period, "person"))


def combined(sums: Mapping[K, int], deductions: Mapping[K, float]) -> dict[K, float]:
    """Totals as `scoring.totals` gives them for the same lines: the stored sums with the deductions
    (`scoring.totals` over the deduction entries alone)."""
    return {
        k: scoring.round_points(math.fsum([sums.get(k, 0) / SCALE, deductions.get(k, 0.0)]))
        for k in sums.keys() | deductions.keys()
    }
