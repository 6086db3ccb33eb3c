"""The points ledger read from the database: every item, adoption, grade and deduction as dated entries.

Bulletins, `mailbot explain` and the workbook's detail sheets all read this one ledger, so a total
printed anywhere is the sum of lines the office can list and check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import DateTime, type_coerce
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from mailbot import collector
from mailbot.adapters import db
from mailbot.adapters.db import Author, Item
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import LocalDays, Period, local_day_bounds, period_bounds
from mailbot.domain.commands import LEVEL_NAMES
from mailbot.domain.formats import day_range, fmt_points
from mailbot.domain.report import DeductionLine, DetailLine
from mailbot.domain.vocabulary import KIND_LABELS, ItemStatus
from mailbot.duties import Duties
from mailbot.reminders import work_calendar

OFFICE_RULE = "办公室扣分"  # 三(二)1 and the office's own findings (失实、抄袭): recorded by a person


def stored(moment: Any) -> Any:
    """A moment column as the database returns it (naive UTC from SQLite): reading 100,000 of them, the
    aware datetime the table's type builds for each costs more than the column's local date."""
    return type_coerce(col(moment), DateTime())


class ItemRow(NamedTuple):
    """An item as the ledger and the detail sheet read it: a plain row, not an ORM object (a year of a
    province is 100,000 items)."""

    id: int
    number: str
    seq: int
    unit_id: int
    kind: str
    received_at: datetime  # as the database returns it (`stored`): for order and the local day only
    day: date  # local date of arrival
    status: str
    column: str
    solicitation_id: int | None
    grade: int | None


@dataclass(frozen=True)
class Ledger:
    """The entries and the rows they were computed from, so the detail sheets need not read them again."""

    entries: list[scoring.Entry]
    items: dict[int, ItemRow]
    drafters: dict[int, list[tuple[str, int]]]


def load_ledger(s: Session, config: Config, start: date, end: date, today: date) -> list[scoring.Entry]:
    """Ledger entries dated start..end: items received in the window plus those adopted in it, the
    office's deductions, and what missed column cycles and yearly pieces cost (as of `today`)."""
    return read_ledger(s, config, start, end, today).entries


@collector.paused
def read_ledger(
    s: Session,
    config: Config,
    start: date,
    end: date,
    today: date,
    *,
    units: frozenset[int] | None = None,
    duties: Duties | None = None,
    deductions: bool = True,
) -> Ledger:
    """`load_ledger` with its rows. With `units`, only the entries of those units: the items they sent or
    drafted, their deductions; each item is scored whole by the same rules, so its lines are the same.
    `duties` must then be for the same units. Without `deductions`, the items' lines alone."""
    tz = config.timezone
    lo, hi = local_day_bounds(start, tz)[0], local_day_bounds(end, tz)[1]
    mine = None
    if units is not None:
        drafted = sa_select(col(Author.item_id)).where(col(Author.unit_id).in_(units))
        mine = col(Item.unit_id).in_(units) | col(Item.id).in_(drafted)
    adopted = sa_select(col(db.Adoption.item_id), col(db.Adoption.level), col(db.Adoption.on)).where(
        col(db.Adoption.on) >= start, col(db.Adoption.on) <= end
    )
    if mine is not None:
        adopted = adopted.join(Item, col(Item.id) == col(db.Adoption.item_id)).where(mine)
    adoptions = [scoring.Adoption(i, level, on) for i, level, on in s.execute(adopted)]
    in_window = (col(Item.received_at) >= lo) & (col(Item.received_at) < hi)
    # A subquery, not a list of ids: a year's adoptions can outnumber PostgreSQL's 65,535 parameters.
    adopted_in = sa_select(col(db.Adoption.item_id)).where(col(db.Adoption.on) >= start, col(db.Adoption.on) <= end)
    wanted = in_window | col(Item.id).in_(adopted_in) if adoptions else in_window
    if mine is not None:
        wanted = wanted & mine
    day_of = LocalDays(start, end, tz)
    conn = s.connection()
    ordered = col(Item.received_at), col(Item.id)  # one order, whole or for one unit: same-day lines agree
    items = {r.id: r for r in item_rows(conn, wanted, day_of.ascending, ordered)}
    drafters = item_drafters(conn, wanted)
    if adoptions:
        # An item adopted in the window may have been adopted before it (last December, say): those earlier
        # levels are passed to the rules so a higher level now tops the item up (三(一)2, by the highest
        # level) instead of paying it whole again; their own lines belong to their year and are dropped below.
        earlier = sa_select(col(db.Adoption.item_id), col(db.Adoption.level), col(db.Adoption.on)).where(
            col(db.Adoption.on) < start, col(db.Adoption.item_id).in_(adopted_in)
        )
        adoptions = [scoring.Adoption(i, lv, on) for i, lv, on in s.execute(earlier) if i in items] + adoptions
    scored, grades = scoring_inputs(conn, config, items.values(), drafters)
    if deductions:
        duties = duties or Duties(s, config, work_calendar(config), units=units)
        duties.know(start, end, ((r.day, r.unit_id, r.column, r.status) for r in items.values()))
    owed = owed_deductions(s, config, start, end, today, units=units, duties=duties) if deductions else []
    entries = scoring.ledger(scored, adoptions, grades, owed, config.scoring)
    entries = [e for e in entries if e.on >= start or e.source != "adoption"]
    if units is not None:
        entries = [e for e in entries if e.unit_id in units]
    return Ledger(entries, items, drafters)


def item_rows(
    conn: Connection, where: Any, days: Callable[[Iterable[datetime]], list[date]], order: Sequence[Any] = ()
) -> list[ItemRow]:
    """The items the ledger scores, as plain rows; `days` turns their arrival times, in the order read,
    into local dates."""
    rows = conn.execute(
        sa_select(
            col(Item.id),
            col(Item.number),
            col(Item.seq),
            col(Item.unit_id),
            col(Item.kind),
            stored(Item.received_at),
            col(Item.status),
            col(Item.column_name),
            col(Item.solicitation_id),
            col(Item.grade),
        )
        .where(where)
        .order_by(*order)
    ).all()
    arrived = days(received for _i, _n, _s, _u, _k, received, *_rest in rows)
    return [
        ItemRow(cast(int, i), number, seq, unit_id, kind, received, day, status, column or "", sol, grade)
        for (i, number, seq, unit_id, kind, received, status, column, sol, grade), day in zip(
            rows, arrived, strict=True
        )
    ]


def item_drafters(conn: Connection, where: Any) -> dict[int, list[tuple[str, int]]]:
    """The drafters (name, credited unit) of the items `where` selects, in the order the footer named them."""
    drafters: dict[int, list[tuple[str, int]]] = {}
    for item_id, name, unit_id in conn.execute(
        sa_select(col(Author.item_id), col(Author.name), col(Author.unit_id))
        .join(Item, col(Item.id) == col(Author.item_id))
        .where(where)
        .order_by(col(Author.id))
    ):
        drafters.setdefault(item_id, []).append((name, unit_id))
    return drafters


def scoring_inputs(
    conn: Connection, config: Config, rows: Iterable[ItemRow], drafters: dict[int, list[tuple[str, int]]]
) -> tuple[list[scoring.ScoredItem], list[scoring.SolicitationGrade]]:
    """The rows as the scoring rules take them: the items, and the 约稿 grades with their deadlines."""
    column_points = {c.name: c.points for c in config.columns}
    deadlines = dict(conn.execute(sa_select(col(db.Solicitation.id), col(db.Solicitation.deadline))).all())
    items, grades = [], []
    for r in rows:
        items.append(
            scoring.ScoredItem(
                r.id,
                r.unit_id,
                r.kind,
                r.day,
                tuple(drafters.get(r.id, ())),
                r.status,
                r.column,
                column_points.get(r.column, 0.0),
            )
        )
        if r.solicitation_id is not None and r.grade is not None:
            grades.append(scoring.SolicitationGrade(r.id, r.grade, deadlines[r.solicitation_id]))
    return items, grades


def owed_deductions(
    s: Session,
    config: Config,
    start: date,
    end: date,
    today: date,
    *,
    units: frozenset[int] | None = None,
    duties: Duties | None = None,
) -> list[scoring.Deduction]:
    """The deductions dated start..end: the office's, and what missed column cycles and yearly pieces
    cost as of `today` (三(二)2, 三(二)3)."""
    office = select(db.Deduction).where(db.Deduction.on >= start, db.Deduction.on <= end)
    recorded = s.exec(office if units is None else office.where(col(db.Deduction.unit_id).in_(units))).all()
    duties = duties or Duties(s, config, work_calendar(config), units=units)
    owed = duties.missed_cycles(start, end, today) + duties.missing_pieces(start, end, today)
    return [
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
        for d in recorded
    ] + [d for d in owed if units is None or d.unit_id in units]


def deduction_entries(
    s: Session, config: Config, start: date, end: date, today: date, duties: Duties | None = None
) -> list[scoring.Entry]:
    """`owed_deductions` as ledger lines, for readers that take the items' points from the roll-up."""
    return scoring.ledger([], [], [], owed_deductions(s, config, start, end, today, duties=duties), config.scoring)


def period_entries(s: Session, config: Config, period: Period, today: date) -> list[scoring.Entry]:
    """The ledger behind a bulletin for `period`, from the start of its year (the bulletin sums the same
    lines from the roll-up): an adoption that tops an item up to a higher level needs the item's earlier
    adoptions, so every reader of a period uses this one."""
    return period_ledger(s, config, period, today).entries


def period_ledger(s: Session, config: Config, period: Period, today: date, *, duties: Duties | None = None) -> Ledger:
    """`period_entries` with the rows it read, for `period_details`."""
    return read_ledger(s, config, date(period.end.year, 1, 1), period.end, today, duties=duties)


STATUS_NAMES: dict[str, str] = {
    ItemStatus.RECEIVED: "已收录",
    ItemStatus.APPROVED: "已终审",
    ItemStatus.RETURNED: "已退回",
}
SYSTEM_UNIT = "?"  # an entry whose unit is no longer registered; never expected


@collector.paused
def period_details(
    s: Session, config: Config, period: Period, book: Ledger
) -> tuple[tuple[DetailLine, ...], tuple[DeductionLine, ...]]:
    """The 信息明细 and 扣分明细 of a period: every item received in it or earning points in it (an
    adoption of an older item), and every deduction dated in it, from the same ledger as the totals."""
    names = {i: name for i, name in s.execute(sa_select(col(db.Unit.id), col(db.Unit.name)))}
    in_period = [e for e in book.entries if period.contains(e.on)]
    earned: dict[int, list[scoring.Entry]] = {}
    for e in in_period:
        if e.item_id is not None:
            earned.setdefault(e.item_id, []).append(e)
    # The ledger starts on the 1st of January of the period's end, so it holds every item received in
    # the period and every item earning in it.
    items = sorted(
        (r for r in book.items.values() if period.contains(r.day) or r.id in earned),
        key=lambda r: (r.received_at, r.seq),
    )
    adopted: dict[int, list[str]] = {}
    tz = config.timezone
    lo, hi = period_bounds(period, tz)
    received = (col(Item.received_at) >= lo) & (col(Item.received_at) < hi)
    # Items received earlier earn in the period by an adoption dated in it (a subquery: no parameter limit).
    adopted_in = sa_select(col(db.Adoption.item_id)).where(
        col(db.Adoption.on) >= period.start, col(db.Adoption.on) <= period.end
    )
    listed = received | col(Item.id).in_(adopted_in)
    for item_id, level, on in s.connection().execute(
        sa_select(col(db.Adoption.item_id), col(db.Adoption.level), col(db.Adoption.on))
        .join(Item, col(Item.id) == col(db.Adoption.item_id))
        .where(listed)
        .order_by(col(db.Adoption.on), col(db.Adoption.id))
    ):
        adopted.setdefault(item_id, []).append(f"{LEVEL_NAMES[level]}（{on.month}月{on.day}日）")
    topics = {
        i: (topic, deadline)
        for i, topic, deadline in s.execute(
            sa_select(col(db.Solicitation.id), col(db.Solicitation.topic), col(db.Solicitation.deadline))
        )
    }
    details = []
    days: dict[date, str] = {}  # 100,000 items fall on at most 366 days
    shown: dict[float, str] = {}  # and earn a few distinct shares
    for item in items:
        lines = earned.get(item.id, ())
        shares: dict[str, float] = {}
        for e in lines:
            if e.person is not None:
                shares[e.person] = shares.get(e.person, 0.0) + e.points
        drafters = "、".join(
            f"{name} {_shown(shown, round(shares[name], 4))}" if name in shares else name
            for name in dict.fromkeys(name for name, _unit in book.drafters.get(item.id, ()))
        )
        arrived = item.day
        if arrived not in days:
            days[arrived] = f"{arrived.month}月{arrived.day}日"
        details.append(
            DetailLine(
                item.number,
                days[arrived],
                names.get(item.unit_id, SYSTEM_UNIT),
                drafters,
                KIND_LABELS.get(item.kind, item.kind),
                item.column,
                _solicitation_text(topics.get(item.solicitation_id or 0), arrived, item.grade),
                "、".join(adopted.get(item.id, [])),
                round(math.fsum(e.points for e in lines), 4) + 0.0,
                STATUS_NAMES.get(item.status, item.status),
            )
        )
    return tuple(details), deduction_lines(names, in_period)


def deduction_lines(names: dict[int, str], entries: list[scoring.Entry]) -> tuple[DeductionLine, ...]:
    """扣分明细: the deduction entries among `entries`, with the rule, duty, cycle and who recorded each."""
    return tuple(
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
        for e in entries
        if e.deduction is not None
    )


def _shown(cache: dict[float, str], points: float) -> str:
    """fmt_points, each distinct share once; 0.0 and -0.0 are one key but print apart, so only positives."""
    if points <= 0:
        return fmt_points(points)
    text = cache.get(points)
    if text is None:
        text = cache[points] = fmt_points(points)
    return text


def _solicitation_text(sol: tuple[str, date] | None, arrived: date, grade: int | None) -> str:
    """约稿 as the sheet says it: the topic, in time or late (三(二)1: late scores 0), and the grade if given."""
    if sol is None:
        return ""
    topic, deadline = sol
    timing = "按时" if arrived <= deadline else "逾期（计 0 分）"
    graded = f"，评 {grade} 分" if grade is not None and arrived <= deadline else ""
    return f"《{topic}》{timing}{graded}"
