"""Who owes what: column cycles (栏目更新周期) and the yearly research / experience pieces.

The figures are computed from the items on record each time they are needed, never stored, so a
missed cycle is deducted exactly once in every bulletin that covers it, and a late correction (an
item re-filed under its column) changes every later bulletin consistently.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailbot.adapters.day_counts import count_by_local_day
from mailbot.adapters.db import Item, Liaison, Message, Unit
from mailbot.config import Config
from mailbot.domain import columns, scoring
from mailbot.domain.calendar import WorkCalendar, local_day_bounds, utc_to_local_date
from mailbot.domain.columns import (
    Column,
    CycleStatus,
    annual_deductions,
    annual_pieces,
    collective,
    cycle_accounting,
    cycle_of,
    cycles_between,
    deductions,
    responsible,
)
from mailbot.domain.formats import day_range
from mailbot.domain.units import resolve_units
from mailbot.domain.vocabulary import ItemKind, ItemStatus

CYCLE_NAMES = {
    "daily": "每天",
    "weekly": "每周",
    "fortnightly": "每两周",
    "monthly": "每月",
    "quarterly": "每季度",
    "half_yearly": "每半年",
    "yearly": "每年",
    "on_change": "即时更新",
}
CHANNEL_NAMES = {"website": "网站", "wechat": "微信公众号"}
SYSTEM = "系统按规则计算"  # who "recorded" a deduction no person entered: a duty not done


class Duties:
    """The registry's view of the columns: responsible units resolved to registered ones."""

    def __init__(
        self, s: Session, config: Config, calendar: WorkCalendar, *, units: frozenset[int] | None = None
    ) -> None:
        """`units`: the statuses of those units only (a page about one unit), read from their items. A shared
        cycle is under the collective's name, so it is theirs only if the collective is named like one of
        them: its members' items are then read too."""
        self.s, self.config, self.calendar, self.focus = s, config, calendar, units
        registered = list(s.exec(select(Unit).order_by(col(Unit.id))))
        self.ids = {u.name: u.id for u in registered if u.id is not None}
        self.names = [u.name for u in registered]
        table = [(u.id, u.name, u.kind, u.aliases.split("\n")) for u in registered if u.id is not None]
        by_id = {u.id: u.name for u in registered}
        self.columns: list[Column] = []
        self.unresolved: dict[str, tuple[str, ...]] = {}
        for column in config.columns:
            found, missing = resolve_units(column.units, table)
            self.columns.append(replace(column, units=tuple(by_id[i] for i in found)))
            if missing:
                self.unresolved[column.name] = missing
        first = s.exec(select(func.min(Message.received_at))).one()
        # Nothing is owed for the time before mailbot kept the records (a new installation): the earliest
        # message by arrival time opens the books.
        self.since = utc_to_local_date(first, config.timezone) if first else date.max
        self.owed_from = self._owed_from(s) if not config.duties.owe_before_records else {}
        self.channels = config.duties.deduct_channels
        self.read_units = units
        if units is not None:
            focus = {name for name, i in self.ids.items() if i in units}
            named = [c for c in self.columns if c.shared and collective(c, self.names) in focus]
            sharing = {u for c in named for u in responsible(c, self.names)}
            self.read_units = units | {self.ids[u] for u in sharing if u in self.ids}
        self._window: tuple[date, date] | None = None
        self._rows: list[tuple[date, int, str, int]] = []  # (local day, unit id, column, items) by day
        self._by_column: dict[str | None, tuple[list[date], list[tuple[date, int, int]]]] | None = None
        self._received: dict[tuple[Column, date, date], Counter[tuple[str, str]]] = {}

    def _owed_from(self, s: Session) -> dict[str, date]:
        """From which day each unit owes column items: not before mailbot's first message, and for a unit
        added to the registry later, not before its first liaison was registered. Units of the registry
        mailbot started with (registered within a day of the first) owe from the first message."""
        registered = {
            unit_id: utc_to_local_date(when, self.config.timezone)
            for unit_id, when in s.exec(select(Liaison.unit_id, func.min(Liaison.since)).group_by(col(Liaison.unit_id)))
            if when is not None
        }
        start = min(registered.values(), default=date.min)
        names = {v: k for k, v in self.ids.items()}
        owed = {}
        for unit_id, name in names.items():
            joined = registered.get(unit_id, start)
            owed[name] = self.since if joined <= start + timedelta(days=1) else max(self.since, joined)
        return owed

    def received_in(self, column: Column, start: date, end: date) -> Counter[tuple[str, str]]:
        """Items per (unit, cycle label) filed under the column between start and end (local dates)."""
        key = (column, start, end)  # the deductions and the column table ask for the same counts
        if key not in self._received:
            self._received[key] = self._count(column, start, end)
        return Counter(self._received[key])

    def _count(self, column: Column, start: date, end: date) -> Counter[tuple[str, str]]:
        counts: Counter[tuple[str, str]] = Counter()
        names = {v: k for k, v in self.ids.items()}
        # any_item (新闻时事): any item of the unit keeps the cycle, tagged or not (三(一)1's weekly piece).
        labels: dict[date, str | None] = {}
        for day, unit_id, n in self.filed(start, end, None if column.any_item else column.name):
            if day not in labels:
                cycle = cycle_of(column, day)
                labels[day] = cycle.label if cycle is not None else None
            label = labels[day]
            if label is not None:
                counts[(names.get(unit_id, "?"), label)] += n
        return counts

    def filed(self, start: date, end: date, column: str | None = None) -> list[tuple[date, int, int]]:
        """(local day, unit, items) of the items not returned between start and end, under `column` or all
        of them, in order of day: counted once, since the column table, its deductions and the weekly quota
        count the same items (a year is 100,000 of them); a wider window counts only the days it adds."""
        if self._window is None:
            self._rows, self._window = self._read(start, end), (start, end)
        elif start < self._window[0] or end > self._window[1]:
            lo, hi = self._window
            before = self._read(start, lo - timedelta(days=1)) if start < lo else []
            after = self._read(hi + timedelta(days=1), end) if end > hi else []
            self._rows, self._window = before + self._rows + after, (min(start, lo), max(end, hi))
            self._by_column = None
        if self._by_column is None:
            by_day: dict[str | None, Counter[tuple[date, int]]] = {None: Counter()}
            for day, unit_id, name, n in self._rows:
                by_day[None][(day, unit_id)] += n
                if name:
                    by_day.setdefault(name, Counter())[(day, unit_id)] += n
            self._by_column = {
                name: ([day for (day, _u), _n in rows], [(day, u, n) for (day, u), n in rows])
                for name, counter in by_day.items()
                for rows in [sorted(counter.items(), key=lambda e: e[0][0])]
            }
        days, rows = self._by_column.get(column, ([], []))
        return rows[bisect_left(days, start) : bisect_right(days, end)]

    def know(self, start: date, end: date, items: Iterable[tuple[date, int, str, str]]) -> None:
        """Items the caller has read already, (local day, unit id, column, status) of all those received
        between start and end: `filed` then reads nothing more for that window."""
        if self._window is None and self.read_units == self.focus:  # else rows of other units are wanted too
            counted = Counter(
                (day, unit_id, column)
                for day, unit_id, column, status in items
                if start <= day <= end
                and status != ItemStatus.RETURNED
                and (self.read_units is None or unit_id in self.read_units)
            )
            self._rows = [(day, u, c, n) for (day, u, c), n in sorted(counted.items(), key=lambda e: e[0][0])]
            self._window, self._by_column = (start, end), None

    def _read(self, start: date, end: date) -> list[tuple[date, int, str, int]]:
        where = [col(Item.status) != ItemStatus.RETURNED]
        if self.read_units is not None:
            where.append(col(Item.unit_id).in_(self.read_units))
        keys = [col(Item.unit_id), col(Item.column_name)]
        counted = count_by_local_day(
            self.s.connection(), col(Item.received_at), keys, where, start, end, self.config.timezone
        )
        return [(day, int(unit_id), column or "", n) for day, (unit_id, column), n in counted]

    def statuses(self, column: Column, start: date, end: date, today: date) -> list[CycleStatus]:
        """Every cycle of the column that ends between start and end, for each unit that owed it then: the
        column table and the deductions read the same statuses, so they always agree."""
        cycles = [c for c in cycles_between(column, start, end, self.calendar) if c.end <= end]
        if not cycles:
            return []
        received = self.received_in(column, min(c.start for c in cycles), end)
        statuses = cycle_accounting(column, self.names, received, cycles, today, self.owed_from)
        if self.focus is not None:  # a shared cycle is under the collective's name: kept if that is a focus unit's
            mine = {name for name, i in self.ids.items() if i in self.focus}
            statuses = [st for st in statuses if st.unit in mine]
        return [st for st in statuses if st.cycle.start >= self.since]

    def missed_cycles(self, start: date, end: date, today: date) -> list[scoring.Deduction]:
        """-penalty per item missing in each closed cycle of a deducted channel (三(二)2, the website's
        columns by default), dated at the cycle's end; shared duties are never deducted from a member."""
        out = []
        start = max(start, self.since)
        for column in self.columns:
            statuses = self.statuses(column, start, end, today)
            cycles = {st.cycle.label: st.cycle for st in statuses}
            missing = {(st.unit, st.cycle.label): st.missing for st in statuses}
            for unit, label, points in deductions(statuses, column, self.channels):
                cycle = cycles[label]
                when = day_range(cycle.start, cycle.end)
                out.append(
                    scoring.Deduction(
                        self.ids[unit],
                        -points,
                        cycle.end,
                        f"栏目《{column.name}》{when}少报 {missing[(unit, label)]} 条",
                        rule="三(二)2",
                        duty=f"栏目《{column.name}》（{CYCLE_NAMES[column.cycle]}）",
                        cycle=when,
                        by=SYSTEM,
                    )
                )
        return out

    def missing_pieces(self, start: date, end: date, today: date) -> list[scoring.Deduction]:
        """-1 at the end of a closed year for each 调研 / 经验 piece a unit never sent (三(二)3)."""
        out = []
        for year in range(start.year, end.year + 1):
            year_end = date(year, 12, 31)
            if not (start <= year_end <= end) or today <= year_end or self.since > date(year, 1, 1):
                continue
            lo = local_day_bounds(date(year, 1, 1), self.config.timezone)[0]
            hi = local_day_bounds(year_end, self.config.timezone)[1]
            names = {v: k for k, v in self.ids.items()}
            received: Counter[tuple[str, str, int]] = Counter()
            for unit_id, kind in self.s.exec(
                select(Item.unit_id, Item.kind).where(
                    col(Item.kind).in_((ItemKind.RESEARCH, ItemKind.EXPERIENCE)),
                    Item.status != ItemStatus.RETURNED,
                    col(Item.received_at) >= lo,
                    col(Item.received_at) < hi,
                )
            ):
                received[(names.get(unit_id, "?"), kind, year)] += 1
            pieces = annual_pieces(self.names, received, year, today)
            for unit, kind, points in annual_deductions(pieces, 1.0, year_closed=True):
                label = "调研" if kind == ItemKind.RESEARCH else "经验"
                out.append(
                    scoring.Deduction(
                        self.ids[unit],
                        -points,
                        year_end,
                        f"{year}年未报送{label}类信息",
                        rule="三(二)3",
                        duty=f"{label}类信息（每年）",
                        cycle=f"{year}年",
                        by=SYSTEM,
                    )
                )
        return out

    def due_soon(self, today: date) -> list[tuple[Column, CycleStatus]]:
        """Open cycles closing within a working day with too little received: whom to remind.
        Daily columns are left out: a reminder every morning would be noise, not help."""
        out = []
        for column in self.columns:
            if column.cycle in ("daily", "on_change"):
                continue
            cycle = cycle_of(column, today)
            if cycle is None:
                continue
            received = self.received_in(column, cycle.start, cycle.end)
            out += [(column, st) for st in columns.due_soon(column, self.names, received, today, self.calendar)]
        return out

    def last_update(self, column: Column, before: date) -> date | None:
        hi = local_day_bounds(before, self.config.timezone)[1]
        latest = self.s.exec(
            select(Item.received_at)
            .where(Item.column_name == column.name, col(Item.received_at) < hi)
            .order_by(col(Item.received_at).desc())
            .limit(1)
        ).first()
        return utc_to_local_date(latest, self.config.timezone) if latest else None
