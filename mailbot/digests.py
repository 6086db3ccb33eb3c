"""Weekly digest and monthly / quarterly / yearly bulletins: from the records to a `Report`.

Counts come from SQL aggregates over indexed columns; points come from the scoring ledger
(mailbot.ledger), which is built from the items, adoptions, grades and deductions on record, so every
figure in a bulletin can be traced to rows in the database. Rendering and sending: mailbot.digest_mail.
"""

from __future__ import annotations

import logging
import math
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot import collector, rollup
from mailbot.adapters import db
from mailbot.adapters.db import Author, Item, Message, Unit
from mailbot.adapters.points_tables import SCALE
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import (
    Period,
    WorkCalendar,
    month_of,
    period_bounds,
    quarter_of,
    week_of,
    year_of,
)
from mailbot.domain.formats import local_time
from mailbot.domain.quota import missed_weeks, monthly_due, quota_met, weekly_due, weeks_ending_in
from mailbot.domain.report import (
    ColumnLine,
    DeductionLine,
    DetailLine,
    HeldLine,
    ItemLine,
    MonthLine,
    PersonLine,
    RejectionLine,
    Report,
    Totals,
    UnitLine,
    competition_ranks,
    range_text,
    title_for,
    top_units,
)
from mailbot.domain.vocabulary import HELD_WHY, SUBMISSION_VERDICTS, ItemStatus, Level, Verdict
from mailbot.duties import CHANNEL_NAMES, CYCLE_NAMES, Duties
from mailbot.ledger import STATUS_NAMES as STATUS
from mailbot.ledger import deduction_entries, period_details, read_ledger
from mailbot.ledger import deduction_lines as ledger_lines
from mailbot.reminders import quota_policy, work_calendar

log = logging.getLogger("mailbot")
KINDS = {"weekly": week_of, "monthly": month_of, "quarterly": quarter_of, "yearly": year_of}
PERIOD_KIND = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}


CYCLE_REACH = timedelta(days=31)  # how far before the year a column cycle ending in it can start (monthly)


def _id(unit: Unit) -> int:
    assert unit.id is not None  # rows read back from the database
    return unit.id


def _due(config: Config, calendar: WorkCalendar, unit_kind: str, period: Period) -> int:
    policy = quota_policy(config)
    if period.kind == "week":
        return weekly_due(policy, unit_kind, period, calendar)
    months, day = 0, period.start
    while day <= period.end:
        months += monthly_due(policy, unit_kind, month_of(day), calendar)
        day = month_of(day).end + timedelta(days=1)
    return months


@collector.paused
def build_report(config: Config, engine: Engine, kind: str, period: Period, today: date | None = None) -> Report:
    tz = ZoneInfo(config.timezone)
    today = today or datetime.now(tz).date()
    lo, hi = period_bounds(period, config.timezone)
    ytd = Period("year", str(period.end.year), date(period.end.year, 1, 1), period.end)
    calendar = work_calendar(config)
    rollup.refresh(engine, config)
    with Session(engine) as s:
        units = [u for u in s.exec(select(Unit).order_by(col(Unit.id))) if u.id is not None]
        names = {_id(u): u.name for u in units}
        in_period = (col(Message.received_at) >= lo) & (col(Message.received_at) < hi)
        verdicts = Counter[tuple[int | None, str]]()
        for unit_id, verdict, n in s.exec(
            select(Message.unit_id, Message.verdict, func.count())
            .where(in_period, col(Message.unit_id).is_not(None))
            .group_by(col(Message.unit_id), col(Message.verdict))
        ):
            verdicts[(unit_id, verdict)] = n
        duties = Duties(s, config, calendar)
        # The period, the year to date and the column cycles reaching back into the year before, read at once.
        duties.filed(min(period.start, ytd.start) - CYCLE_REACH, period.end)
        accepted = _accepted(duties, period)
        whole_year = (ytd.start, ytd.end) == (period.start, period.end)  # a yearly bulletin: same figures
        ytd_accepted = accepted if whole_year else _accepted(duties, ytd)
        adopted = Counter[tuple[int, str]]()
        for unit_id, level, n in s.exec(
            select(Item.unit_id, db.Adoption.level, func.count())
            .join(Item, col(Item.id) == col(db.Adoption.item_id))
            .where(db.Adoption.on >= period.start, db.Adoption.on <= period.end)
            .group_by(col(Item.unit_id), col(db.Adoption.level))
        ):
            adopted[(unit_id, level)] = n
        # Items' points are the roll-up's sums; deductions depend on the day and come from the ledger.
        cut = deduction_entries(s, config, ytd.start, period.end, today, duties)
        sums = rollup.DaySums(s, min(period.start, ytd.start), period.end)
        earned = sums.by_source(period.start, period.end)
        points = rollup.combined({k: sum(v.values()) for k, v in earned.items()}, scoring.totals(cut, period, "unit"))
        column_points = {k: v.get("column", 0) / SCALE for k, v in earned.items()}
        deducted = defaultdict[int, float](float)
        for e in cut:
            if period.contains(e.on):
                deducted[e.unit_id] += e.points
        column_lines = _column_lines(duties, period, today)
        weekly = _weekly_counts(duties, period) if kind != "weekly" and config.quotas.weekly_in_bulletins else {}
        owed_from = duties.owed_from
        ytd_cut = scoring.totals(cut, ytd, "unit")
        ytd_points = points if whole_year else rollup.combined(sums.units(ytd.start, ytd.end), ytd_cut)
        ranked = sorted(units, key=lambda u: (-points.get(_id(u), 0.0), _id(u)))
        ranks = competition_ranks([points.get(_id(u), 0.0) for u in ranked])
        lines = []
        for u, r in zip(ranked, ranks, strict=True):
            uid = _id(u)
            due = _due(config, calendar, u.kind, period)
            got = accepted.get(uid, 0)
            # 三(一)1: 每周不少于1条 as well as 每月不少于4条; four items in one week leave the other weeks missed.
            missed = (
                missed_weeks(
                    quota_policy(config),
                    u.kind,
                    period,
                    calendar,
                    weekly.get(uid, {}),
                    today,
                    owed_from.get(u.name, date.min),
                )
                if kind != "weekly" and config.quotas.weekly_in_bulletins
                else []
            )
            received = sum(verdicts[(uid, v)] for v in SUBMISSION_VERDICTS)
            lines.append(
                UnitLine(
                    unit=u.name,
                    kind=u.kind,
                    received=received,
                    accepted=got,
                    rejected=verdicts[(uid, Verdict.REJECTION)],
                    adopted_city=adopted[(uid, Level.CITY)],
                    adopted_province=adopted[(uid, Level.PROVINCE)],
                    adopted_national=adopted[(uid, Level.NATIONAL)],
                    points=points.get(uid, 0.0),
                    rank=r,
                    quota_due=due,
                    quota_met=quota_met(got, due, missed),
                    ytd_points=ytd_points.get(uid, 0.0),
                    ytd_accepted=ytd_accepted.get(uid, 0),
                    column_points=round(column_points.get(uid, 0.0), 4),
                    deductions=round(deducted[uid], 4),
                    missed_weeks=tuple(w.label for w in missed),
                )
            )
        person_points = rollup.person_totals(s, period, cut)
        person_ytd = person_points if whole_year else rollup.person_totals(s, ytd, cut)
        person_items = Counter[tuple[str, int]]()
        person_returned = Counter[tuple[str, int]]()
        for name, uid, status, n in s.exec(
            select(Author.name, Author.unit_id, Item.status, func.count())
            .join(Item, col(Item.id) == col(Author.item_id))
            .where(col(Item.received_at) >= lo, col(Item.received_at) < hi)
            .group_by(col(Author.name), col(Author.unit_id), col(Item.status))
        ):
            (person_returned if status == ItemStatus.RETURNED else person_items)[(name, uid)] += n
        people = sorted(
            (
                PersonLine(
                    name,
                    names.get(uid, "?"),
                    person_items[(name, uid)],
                    pts,
                    person_ytd.get((name, uid), 0.0),
                    person_returned[(name, uid)],
                )
                for (name, uid), pts in person_points.items()
            ),
            key=lambda p: (-p.points, p.unit, p.name),
        )
        details: tuple[DetailLine, ...] = ()
        deduction_lines: tuple[DeductionLine, ...] = ()
        months: tuple[MonthLine, ...] = ()
        if kind == "monthly" or (kind != "weekly" and config.office.items_in_long_bulletins):
            book = read_ledger(s, config, period.start, period.end, today, deductions=False)
            details, deduction_lines = period_details(s, config, period, replace(book, entries=book.entries + cut))
        elif kind != "weekly":
            deduction_lines = ledger_lines(names, [e for e in cut if period.contains(e.on)])
            months = _month_lines(sums, duties, period, names, cut)
        items: list[ItemLine] = []
        if kind == "weekly":
            for item in s.exec(
                select(Item).where(col(Item.received_at) >= lo, col(Item.received_at) < hi).order_by(col(Item.seq))
            ):
                who = "、".join(a.name for a in s.exec(select(Author).where(Author.item_id == item.id)))
                items.append(
                    ItemLine(
                        item.number,
                        item.title,
                        names.get(item.unit_id, "?"),
                        who,
                        local_time(item.received_at, tz, year=False),
                        item.points,
                        STATUS.get(item.status, item.status),
                    )
                )
        messages = s.exec(
            select(Message)
            .where(in_period, col(Message.verdict).in_((Verdict.REJECTION, Verdict.HELD)))
            .order_by(col(Message.id))
        ).all()
        rejections = tuple(
            RejectionLine(
                names.get(m.unit_id or 0, "-"),
                m.sender,
                m.subject,
                local_time(m.received_at, tz, year=False),
                tuple(m.problems.splitlines()),
            )
            for m in messages
            if m.verdict == Verdict.REJECTION
        )
        held = tuple(
            HeldLine(m.sender, m.subject, local_time(m.received_at, tz, year=False), HELD_WHY.get(m.reasons, m.reasons))
            for m in messages
            if m.verdict == Verdict.HELD
        )
        received_total = sum(n for (_, v), n in verdicts.items() if v in SUBMISSION_VERDICTS)
        published = s.exec(
            select(func.count())
            .select_from(Item)
            .where(col(Item.received_at) >= lo, col(Item.received_at) < hi, Item.status == ItemStatus.APPROVED)
        ).one()
    days = (period.end - period.start).days + 1
    accepted_total = sum(accepted.values())
    return Report(
        kind=kind,
        period_label=period.label,
        title=title_for(kind, period.label),
        range_text=range_text(period.start, period.end),
        office_name=config.office.name,
        units=tuple(lines),
        people=tuple(people),
        items=tuple(items),
        rejections=rejections,
        held=held,
        silent_units=tuple(line.unit for line in lines if line.received == 0),
        missed_quota=tuple(line.unit for line in lines if not line.quota_met),
        top_units=top_units(lines),
        totals=Totals(
            received_total,
            accepted_total,
            sum(line.rejected for line in lines),
            sum(adopted.values()),
            published,
            round(accepted_total / days, 2),
        ),
        columns=column_lines,
        details=details,
        deduction_lines=deduction_lines,
        month_lines=months,
        issued=f"{today.year}年{today.month}月{today.day}日",
        document_number=config.office.document_number,
    )


def _month_lines(
    sums: rollup.DaySums, duties: Duties, period: Period, names: dict[int, str], cut: list[scoring.Entry]
) -> tuple[MonthLine, ...]:
    """月度明细: each unit's months of the period that have items or points, from the same sums as the totals."""
    lines = []
    month = month_of(period.start)
    while month.start <= period.end:
        accepted = _accepted(duties, month)
        earned = sums.by_source(max(month.start, period.start), min(month.end, period.end))
        deducted = defaultdict[int, float](float)
        for e in cut:
            if month.contains(e.on):
                deducted[e.unit_id] += e.points
        for uid, name in names.items():
            got = earned.get(uid, {})
            adopted = got.get("adoption", 0) / SCALE
            submitted = sum(v for k, v in got.items() if k != "adoption") / SCALE
            cut_points = scoring.round_points(deducted.get(uid, 0.0))
            if not (accepted.get(uid) or got or cut_points):
                continue
            total = scoring.round_points(math.fsum([submitted, adopted, cut_points]))
            lines.append(
                MonthLine(name, f"{month.start.month}月", accepted.get(uid, 0), submitted, adopted, cut_points, total)
            )
        month = month_of(month.end + timedelta(days=1))
    order = {name: i for i, name in enumerate(names.values())}
    return tuple(sorted(lines, key=lambda line: order[line.unit]))  # by unit, then month, as the office reads them


def _accepted(duties: Duties, period: Period) -> dict[int, int]:
    """Items recorded per unit in the period, those returned in 终审 not counted: the day counts the column
    table and the weekly quota read, so the three always agree."""
    counts: Counter[int] = Counter()
    for _day, unit_id, n in duties.filed(period.start, period.end):
        counts[unit_id] += n
    return dict(counts)


def _weekly_counts(duties: Duties, period: Period) -> dict[int, Counter[str]]:
    """Items per unit and ISO week for the weeks a bulletin answers for (those ending in the period)."""
    weeks = weeks_ending_in(period)
    if not weeks:
        return {}
    counts: dict[int, Counter[str]] = {}
    labels: dict[date, str] = {}
    for day, unit_id, n in duties.filed(weeks[0].start, weeks[-1].end):  # a year: 100,000 items
        label = labels.get(day) or labels.setdefault(day, week_of(day).label)
        counts.setdefault(unit_id, Counter())[label] += n
    return counts


def _column_lines(duties: Duties, period: Period, today: date) -> tuple[ColumnLine, ...]:
    """Column health: each column's cycle, responsible units, last update, and who missed a cycle."""
    lines = []
    for column in duties.columns:
        statuses = duties.statuses(column, period.start, period.end, today)
        closed = [st for st in statuses if st.closed and st.missing]
        last = duties.last_update(column, min(period.end, today))
        received = sum(n for (_u, label), n in duties.received_in(column, period.start, period.end).items())
        status = "即时更新" if column.cycle == "on_change" else ("逾期" if closed else "正常")
        lines.append(
            ColumnLine(
                column.name,
                CHANNEL_NAMES[column.channel],
                CYCLE_NAMES[column.cycle],
                "、".join(column.units) or "—",
                f"{last.month}月{last.day}日" if last else "—",
                received,
                sum(st.missing for st in closed),
                tuple(dict.fromkeys(st.unit for st in closed)),
                status,
            )
        )
    return tuple(lines)
