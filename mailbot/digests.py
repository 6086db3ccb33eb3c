"""Weekly digest and monthly / quarterly / yearly bulletins: from the records to a `Report`.

Counts come from SQL aggregates over indexed columns; points come from the scoring ledger
(mailbot.ledger), which is built from the items, adoptions, grades and deductions on record, so every
figure in a bulletin can be traced to rows in the database. Rendering and sending: mailbot.digest_mail.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters import db
from mailbot.adapters.db import Author, Item, Message, Unit
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
    HeldLine,
    ItemLine,
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
from mailbot.ledger import period_details, period_ledger
from mailbot.reminders import quota_policy, work_calendar

log = logging.getLogger("mailbot")
KINDS = {"weekly": week_of, "monthly": month_of, "quarterly": quarter_of, "yearly": year_of}
PERIOD_KIND = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}


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


def build_report(config: Config, engine: Engine, kind: str, period: Period, today: date | None = None) -> Report:
    tz = ZoneInfo(config.timezone)
    today = today or datetime.now(tz).date()
    lo, hi = period_bounds(period, config.timezone)
    ytd = Period("year", str(period.end.year), date(period.end.year, 1, 1), period.end)
    calendar = work_calendar(config)
    with Session(engine) as s:
        units = [u for u in s.exec(select(Unit).order_by(col(Unit.id))) if u.id is not None]
        names = {u.id: u.name for u in units}
        in_period = (col(Message.received_at) >= lo) & (col(Message.received_at) < hi)
        verdicts = Counter[tuple[int | None, str]]()
        for unit_id, verdict, n in s.exec(
            select(Message.unit_id, Message.verdict, func.count())
            .where(in_period, col(Message.unit_id).is_not(None))
            .group_by(col(Message.unit_id), col(Message.verdict))
        ):
            verdicts[(unit_id, verdict)] = n
        accepted = dict(
            s.exec(
                select(Item.unit_id, func.count())
                .where(col(Item.received_at) >= lo, col(Item.received_at) < hi, Item.status != ItemStatus.RETURNED)
                .group_by(col(Item.unit_id))
            ).all()
        )
        ytd_lo, _ = period_bounds(ytd, config.timezone)
        ytd_accepted = dict(
            s.exec(
                select(Item.unit_id, func.count())
                .where(col(Item.received_at) >= ytd_lo, col(Item.received_at) < hi, Item.status != ItemStatus.RETURNED)
                .group_by(col(Item.unit_id))
            ).all()
        )
        adopted = Counter[tuple[int, str]]()
        for unit_id, level, n in s.exec(
            select(Item.unit_id, db.Adoption.level, func.count())
            .join(Item, col(Item.id) == col(db.Adoption.item_id))
            .where(db.Adoption.on >= period.start, db.Adoption.on <= period.end)
            .group_by(col(Item.unit_id), col(db.Adoption.level))
        ):
            adopted[(unit_id, level)] = n
        duties = Duties(s, config, calendar)
        book = period_ledger(s, config, period, today, duties=duties)  # from ytd.start: the year's totals too
        entries = book.entries
        points = scoring.totals(entries, period, "unit")
        column_points = defaultdict[int, float](float)
        deducted = defaultdict[int, float](float)
        for e in (e for e in entries if period.contains(e.on)):
            if e.source == "column":
                column_points[e.unit_id] += e.points
            elif e.source == "deduction":
                deducted[e.unit_id] += e.points
        column_lines = _column_lines(duties, period, today)
        weekly = _weekly_counts(duties, period) if kind != "weekly" and config.quotas.weekly_in_bulletins else {}
        owed_from = duties.owed_from
        ytd_points = scoring.totals(entries, ytd, "unit")
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
                    column_points=round(column_points[uid], 4),
                    deductions=round(deducted[uid], 4),
                    missed_weeks=tuple(w.label for w in missed),
                )
            )
        person_points = scoring.totals(entries, period, "person")
        person_ytd = scoring.totals(entries, ytd, "person")
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
        details, deduction_lines = period_details(s, config, period, book) if kind != "weekly" else ((), ())
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
        issued=f"{today.year}年{today.month}月{today.day}日",
        document_number=config.office.document_number,
    )


def _weekly_counts(duties: Duties, period: Period) -> dict[int, Counter[str]]:
    """Items per unit and ISO week for the weeks a bulletin answers for (those ending in the period)."""
    weeks = weeks_ending_in(period)
    if not weeks:
        return {}
    counts: dict[int, Counter[str]] = {}
    labels: dict[date, str] = {}
    for day, unit_id in zip(*duties.filed(weeks[0].start, weeks[-1].end), strict=True):
        label = labels.get(day) or labels.setdefault(day, week_of(day).label)
        counts.setdefault(unit_id, Counter())[label] += 1
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


def combine(desks: list[tuple[str, Report]], kind: str, period: Period, office_name: str) -> Report:
    """Several bureaus' reports as one: a line per bureau (its units' sums), people and quota
    shortfalls under "bureau·unit". For a province office collecting its cities' desks."""
    lines = []
    for desk, r in desks:
        lines.append(
            UnitLine(
                unit=desk,
                kind="desk",
                received=sum(u.received for u in r.units),
                accepted=sum(u.accepted for u in r.units),
                rejected=sum(u.rejected for u in r.units),
                adopted_city=sum(u.adopted_city for u in r.units),
                adopted_province=sum(u.adopted_province for u in r.units),
                adopted_national=sum(u.adopted_national for u in r.units),
                points=round(sum(u.points for u in r.units), 4),
                rank=0,
                quota_due=sum(u.quota_due for u in r.units),
                quota_met=all(u.quota_met for u in r.units),
                ytd_points=round(sum(u.ytd_points for u in r.units), 4),
                ytd_accepted=sum(u.ytd_accepted for u in r.units),
                column_points=round(sum(u.column_points for u in r.units), 4),
                deductions=round(sum(u.deductions for u in r.units), 4),
            )
        )
    lines.sort(key=lambda line: -line.points)
    ranked = tuple(
        replace(line, rank=rank) for line, rank in zip(lines, competition_ranks([x.points for x in lines]), strict=True)
    )
    people = sorted(
        (replace(p, unit=f"{desk}·{p.unit}") for desk, r in desks for p in r.people),
        key=lambda p: (-p.points, p.unit, p.name),
    )
    totals = [r.totals for _d, r in desks]
    days = (period.end - period.start).days + 1
    accepted = sum(t.accepted for t in totals)
    return Report(
        kind=kind,
        period_label=period.label,
        title=title_for(kind, period.label) + "（汇总）",
        range_text=range_text(period.start, period.end),
        office_name=office_name,
        units=ranked,
        people=tuple(people),
        items=(),
        rejections=(),
        held=(),
        silent_units=tuple(f"{d}·{u}" for d, r in desks for u in r.silent_units),
        missed_quota=tuple(f"{d}·{u}" for d, r in desks for u in r.missed_quota),
        top_units=top_units(ranked),
        totals=Totals(
            sum(t.received for t in totals),
            accepted,
            sum(t.rejected for t in totals),
            sum(t.adopted for t in totals),
            sum(t.published for t in totals),
            round(accepted / days, 2),
        ),
    )
