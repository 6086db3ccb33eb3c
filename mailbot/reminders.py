"""Quota reminders: which units are short this week or month, and one email to each of them.

Every reminder is recorded under (unit, kind, period) in the same transaction as its outbox row, so
a unit is never reminded twice for a period, whatever restarts or manual runs happen in between.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot.adapters.db import Item, Liaison, Outbox, Reminder, Unit
from mailbot.adapters.render import Renderer
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.domain.calendar import Period, WorkCalendar, month_of, period_bounds, week_of
from mailbot.domain.columns import Column, CycleStatus
from mailbot.domain.quota import (
    QuotaPolicy,
    QuotaRule,
    Shortfall,
    deadline,
    monthly_due,
    monthly_reminder_window,
    shortfalls,
    weekly_due,
    weekly_reminder_day,
)
from mailbot.domain.vocabulary import OutboxKind
from mailbot.duties import CYCLE_NAMES, Duties

log = logging.getLogger("mailbot")


def work_calendar(config: Config) -> WorkCalendar:
    cal = config.calendar
    return WorkCalendar(
        frozenset(date.fromisoformat(d) for d in cal.holidays), frozenset(date.fromisoformat(d) for d in cal.workdays)
    )


def quota_policy(config: Config) -> QuotaPolicy:
    q = config.quotas
    return QuotaPolicy(
        default=QuotaRule(q.weekly, q.monthly),
        by_kind={k.kind: QuotaRule(k.weekly, k.monthly) for k in q.kinds},
        relax_short_weeks=q.relax_short_weeks,
        min_workdays_for_weekly=q.min_workdays_for_weekly,
        relaxed_weeks=frozenset(q.relaxed_weeks),
    )


@dataclass(frozen=True)
class Planned:
    unit_id: int
    unit: str
    recipients: tuple[str, ...]
    names: tuple[str, ...]
    gaps: tuple[Shortfall, ...]
    items: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # period label -> (number, title)


def due_periods(config: Config, day: date, *, scheduled: bool) -> list[Period]:
    """The scheduler reminds on the week's reminder day; a manual run reminds for the week now.
    The monthly quota is reminded in the month's last working days either way."""
    calendar = work_calendar(config)
    week, month = week_of(day), month_of(day)
    periods = []
    if not scheduled or weekly_reminder_day(week, calendar) == day:
        periods.append(week)
    window = monthly_reminder_window(month, calendar, config.quotas.monthly_reminder_days)
    if window and window[0] <= day <= window[1]:
        periods.append(month)
    return periods


def plan(config: Config, engine: Engine, day: date, *, scheduled: bool) -> list[Planned]:
    calendar, policy = work_calendar(config), quota_policy(config)
    periods = due_periods(config, day, scheduled=scheduled)
    with Session(engine) as s:
        units = [u for u in s.exec(select(Unit).order_by(col(Unit.id))) if u.id is not None]
        liaisons: dict[int, list[Liaison]] = {}
        for person in s.exec(
            select(Liaison).where(col(Liaison.active), col(Liaison.email).is_not(None)).order_by(col(Liaison.id))
        ):
            liaisons.setdefault(person.unit_id, []).append(person)
        done = {(r.unit_id, r.kind, r.period) for r in s.exec(select(Reminder))}
        gaps: dict[int, list[Shortfall]] = {}
        items: dict[int, dict[str, list[tuple[str, str]]]] = {}
        for period in periods:
            start, end = period_bounds(period, config.timezone)
            rows = s.exec(
                select(Item.unit_id, Item.number, Item.title)
                .where(col(Item.received_at) >= start, col(Item.received_at) < end)
                .order_by(col(Item.seq))
            ).all()
            counts: dict[int, int] = {}
            for unit_id, number, title in rows:
                counts[unit_id] = counts.get(unit_id, 0) + 1
                items.setdefault(unit_id, {}).setdefault(period.label, []).append((number, title))
            kind = "weekly" if period.kind == "week" else "monthly"

            def due(unit_kind: str, period: Period = period) -> int:
                return (weekly_due if period.kind == "week" else monthly_due)(policy, unit_kind, period, calendar)

            candidates = [(u.id, u.kind) for u in units if u.id in liaisons and (u.id, kind, period.label) not in done]
            for gap in shortfalls(candidates, counts, period, due):
                gaps.setdefault(gap.unit_id, []).append(gap)
    return [
        Planned(
            u.id,
            u.name,
            tuple(p.email for p in liaisons[u.id] if p.email),
            tuple(p.name for p in liaisons[u.id]),
            tuple(gaps[u.id]),
            items.get(u.id, {}),
        )
        for u in units
        if u.id in gaps
    ]


def _context(config: Config, p: Planned, calendar: WorkCalendar) -> dict[str, object]:
    sections = []
    for gap in p.gaps:
        by = deadline(gap.period, calendar)
        sections.append(
            {
                "label": "本周" if gap.period.kind == "week" else "本月",
                "range": f"{gap.period.start.month}月{gap.period.start.day}日"
                f"至{gap.period.end.month}月{gap.period.end.day}日",
                "submitted": gap.submitted,
                "due": gap.due,
                "missing": gap.missing,
                "deadline": f"{by.month}月{by.day}日",
                "received": [{"number": n, "title": t} for n, t in p.items.get(gap.period.label, [])],
            }
        )
    return {
        "office_name": config.office.name,
        "unit_name": p.unit,
        "liaison_names": "、".join(n for n in p.names if n),
        "sections": sections,
        "mailbox": config.smtp.from_address,
    }


def send(config: Config, engine: Engine, renderer: Renderer, plans: list[Planned]) -> int:
    """Queue one email per unit and record each period it covers; returns how many were queued."""
    calendar, smtp = work_calendar(config), config.smtp
    queued = 0
    for p in plans:
        context = _context(config, p, calendar)
        text, html = renderer.pair("reminder/quota", context)
        labels = "、".join(f"{s['label']}还差{s['missing']}条" for s in context["sections"])  # type: ignore[attr-defined]
        subject = f"【信息报送提醒】{p.unit}：{labels}"
        msgid = new_message_id(smtp.from_address)
        raw = compose(
            Envelope(smtp.from_address, smtp.from_name, p.recipients, subject, auto_submitted="auto-generated"),
            text,
            html,
            msgid,
            datetime.now(UTC),
        ).as_bytes()
        with Session(engine) as s:
            outbox = Outbox(
                kind=OutboxKind.REMINDER,
                sender=smtp.from_address,
                recipients=",".join(p.recipients),
                subject=subject,
                message_id=msgid,
                raw=raw,
            )
            s.add(outbox)
            s.flush()
            for gap in p.gaps:
                s.add(
                    Reminder(
                        unit_id=p.unit_id,
                        kind="weekly" if gap.period.kind == "week" else "monthly",
                        period=gap.period.label,
                        submitted=gap.submitted,
                        due=gap.due,
                        outbox_id=outbox.id,
                    )
                )
            try:
                s.commit()
            except IntegrityError:  # another run reminded this unit meanwhile: once is enough
                s.rollback()
                continue
        queued += 1
        log.info(
            "reminder queued unit=%s periods=%s to=%s",
            p.unit,
            ",".join(g.period.label for g in p.gaps),
            ",".join(p.recipients),
        )
    return queued


def send_column_reminders(config: Config, engine: Engine, renderer: Renderer, day: date) -> int:
    """Before a column's cycle closes with too little received, one email to each unit that owes it."""
    smtp = config.smtp
    calendar = work_calendar(config)
    with Session(engine) as s:
        duties = Duties(s, config, calendar)
        done = {(r.unit_id, r.period) for r in s.exec(select(Reminder).where(Reminder.kind == "column"))}
        owed: dict[int, list[tuple[Column, CycleStatus]]] = {}
        for column, status in duties.due_soon(day):
            unit_id = duties.ids[status.unit]
            if (unit_id, f"{column.name} {status.cycle.label}") not in done:
                owed.setdefault(unit_id, []).append((column, status))
        people = {
            uid: s.exec(
                select(Liaison).where(Liaison.unit_id == uid, col(Liaison.active), col(Liaison.email).is_not(None))
            ).all()
            for uid in owed
        }
        names = {u.id: u.name for u in s.exec(select(Unit))}
    queued = 0
    for unit_id, dues in owed.items():
        if not people[unit_id]:
            continue
        to = tuple(p.email for p in people[unit_id] if p.email)
        context = {
            "office_name": config.office.name,
            "unit_name": names[unit_id],
            "mailbox": smtp.from_address,
            "liaison_names": "、".join(p.name for p in people[unit_id] if p.name),
            "columns": [
                {
                    "name": c.name,
                    "cycle": CYCLE_NAMES[c.cycle],
                    "received": st.received,
                    "due": st.due,
                    "missing": st.missing,
                    "deadline": f"{deadline(st.cycle, calendar).month}月{deadline(st.cycle, calendar).day}日",
                    "points": f"{c.penalty:g}",
                }
                for c, st in dues
            ],
        }
        text, html = renderer.pair("reminder/column", context)
        subject = f"【栏目更新提醒】{names[unit_id]}：" + "、".join(f"《{c.name}》" for c, _st in dues)
        msgid = new_message_id(smtp.from_address)
        raw = compose(
            Envelope(smtp.from_address, smtp.from_name, to, subject, auto_submitted="auto-generated"),
            text,
            html,
            msgid,
            datetime.now(UTC),
        ).as_bytes()
        with Session(engine) as s:
            outbox = Outbox(
                kind=OutboxKind.REMINDER,
                sender=smtp.from_address,
                recipients=",".join(to),
                subject=subject,
                message_id=msgid,
                raw=raw,
            )
            s.add(outbox)
            s.flush()
            for c, st in dues:
                s.add(
                    Reminder(
                        unit_id=unit_id,
                        kind="column",
                        period=f"{c.name} {st.cycle.label}",
                        submitted=st.received,
                        due=st.due,
                        outbox_id=outbox.id,
                    )
                )
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                continue
        queued += 1
        log.info("column reminder queued unit=%s columns=%s", names[unit_id], ",".join(c.name for c, _ in dues))
    return queued
