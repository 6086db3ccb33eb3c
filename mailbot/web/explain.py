"""A unit's points explained line by line, and the column duties it owes, as the bulletin counts them.

The lines are the bulletin's own ledger entries (`ledger.read_ledger`, read for the unit alone) dated
in the period, and the total is `scoring.totals` over the same entries: the page adds up to the figure in the
bulletin because it is the same computation, not a second one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from mailbot import rollup
from mailbot.adapters.db import Unit
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import Period
from mailbot.domain.report import competition_ranks
from mailbot.duties import CHANNEL_NAMES, CYCLE_NAMES, Duties
from mailbot.ledger import deduction_entries
from mailbot.reminders import work_calendar
from mailbot.web.records import bulletin_ledger, memo

MAX_LINES = 400


@dataclass(frozen=True)
class Standing:
    rank: int
    unit_id: int
    name: str
    kind: str
    points: float
    ytd: float


def standings(s: Session, config: Config, period: Period, today: date) -> list[Standing]:
    """Every unit's points for the period and the year so far, ranked as the bulletin ranks them."""
    rollup.refresh(s.get_bind().engine, config)  # its own transaction: this session's rows stay loaded
    year = Period("year", str(period.end.year), date(period.end.year, 1, 1), period.end)
    cut = memo(
        s,
        config,
        ("deductions", period.label, today),
        lambda: deduction_entries(s, config, year.start, year.end, today),
    )
    points = rollup.unit_totals(s, period, cut)
    ytd = rollup.unit_totals(s, year, cut)
    units = [u for u in s.exec(select(Unit).order_by(col(Unit.id))) if u.id is not None]
    ranked = sorted(units, key=lambda u: (-points.get(u.id or 0, 0.0), u.id))
    ranks = competition_ranks([points.get(u.id or 0, 0.0) for u in ranked])
    return [
        Standing(r, u.id or 0, u.name, u.kind, points.get(u.id or 0, 0.0), ytd.get(u.id or 0, 0.0))
        for u, r in zip(ranked, ranks, strict=True)
    ]


@dataclass(frozen=True)
class Line:
    entry: scoring.Entry
    running: float

    @property
    def item_id(self) -> int | None:
        return self.entry.item_id


@dataclass(frozen=True)
class Cycle:
    column: str
    channel: str
    cycle_name: str
    label: str
    start: date
    end: date
    due: int
    received: int
    missing: int
    closed: bool


@dataclass
class UnitAccount:
    unit: Unit
    total: float
    lines: list[Line] = field(default_factory=list)
    by_source: dict[str, float] = field(default_factory=dict)
    cycles: list[Cycle] = field(default_factory=list)
    months: list[tuple[str, float, int]] = field(default_factory=list)  # label, points, lines

    @property
    def too_long(self) -> bool:
        """A year is thousands of lines: the page then sums by month, each month linking to its lines."""
        return len(self.lines) > MAX_LINES

    @property
    def missed(self) -> list[Cycle]:
        return [c for c in self.cycles if c.closed and c.missing]


def _cycles(s: Session, config: Config, unit: Unit, period: Period, today: date) -> list[Cycle]:
    """The unit's column cycles that have begun in the period, as digests' column section counts them."""
    out = []
    duties = Duties(s, config, work_calendar(config), units=frozenset({unit.id or 0}))
    for column in duties.columns:
        if unit.name not in column.units:
            continue
        for st in duties.statuses(column, period.start, period.end, today):
            if st.unit != unit.name or st.cycle.start > today:  # cycles not begun owe nothing yet
                continue
            out.append(
                Cycle(
                    column.name,
                    CHANNEL_NAMES[column.channel],
                    CYCLE_NAMES[column.cycle],
                    st.cycle.label,
                    st.cycle.start,
                    st.cycle.end,
                    st.due,
                    st.received,
                    st.missing,
                    st.closed,
                )
            )
    return out


def unit_account(s: Session, config: Config, unit_id: int, period: Period, today: date) -> UnitAccount | None:
    unit = s.get(Unit, unit_id)
    if unit is None:
        return None
    return memo(s, config, ("unit", unit_id, period.label, today), lambda: _account(s, config, unit, period, today))


def _account(s: Session, config: Config, unit: Unit, period: Period, today: date) -> UnitAccount:
    unit_id = unit.id or 0
    entries = bulletin_ledger(s, config, period, today, frozenset({unit_id}))
    mine = [e for e in entries if e.unit_id == unit_id and period.contains(e.on)]
    account = UnitAccount(unit, scoring.totals(entries, period, "unit").get(unit_id, 0.0))
    running: list[float] = []
    for e in mine:
        running.append(e.points)
        account.lines.append(Line(e, round(math.fsum(running), 4) + 0.0))
        account.by_source[e.source] = round(account.by_source.get(e.source, 0.0) + e.points, 4)
    by_month: dict[str, list[float]] = {}
    for e in mine:
        by_month.setdefault(f"{e.on:%Y-%m}", []).append(e.points)
    account.months = [(m, round(math.fsum(p), 4) + 0.0, len(p)) for m, p in by_month.items()]
    account.cycles = memo(
        s, config, ("cycles", unit.name, period.label, today), lambda: _cycles(s, config, unit, period, today)
    )
    return account
