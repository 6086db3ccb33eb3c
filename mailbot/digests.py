"""Weekly digest and monthly / quarterly / yearly bulletins: from the records to an email.

Counts come from SQL aggregates over indexed columns; points come from the scoring ledger, which
is built from the items, adoptions, grades and deductions on record, so every figure in a bulletin
can be traced to rows in the database. Each scheduled digest is recorded under (kind, period) in
the same transaction as its outbox row: it goes out exactly once.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select  # sqlmodel's select types at most four columns
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot import incident_watch
from mailbot.adapters import db
from mailbot.adapters.chart import bar_chart
from mailbot.adapters.db import Author, DigestRun, Item, Message, Outbox, Unit
from mailbot.adapters.render import Renderer
from mailbot.adapters.workbook import build_xlsx
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.domain import scoring
from mailbot.domain.calendar import (
    Period,
    WorkCalendar,
    local_day_bounds,
    month_of,
    period_bounds,
    quarter_of,
    utc_to_local_date,
    week_of,
    year_of,
)
from mailbot.domain.formats import local, local_time
from mailbot.domain.incidents import IncidentLine
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
from mailbot.reminders import quota_policy, work_calendar

log = logging.getLogger("mailbot")
KINDS = {"weekly": week_of, "monthly": month_of, "quarterly": quarter_of, "yearly": year_of}
PERIOD_KIND = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}
STATUS: dict[str, str] = {ItemStatus.RECEIVED: "已收录", ItemStatus.APPROVED: "已终审", ItemStatus.RETURNED: "已退回"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _id(unit: Unit) -> int:
    assert unit.id is not None  # rows read back from the database
    return unit.id


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
        entries = load_ledger(s, config, ytd.start, period.end, today)
        points = scoring.totals(entries, period, "unit")
        column_points = defaultdict[int, float](float)
        deducted = defaultdict[int, float](float)
        for e in (e for e in entries if period.contains(e.on)):
            if e.source == "column":
                column_points[e.unit_id] += e.points
            elif e.source == "deduction":
                deducted[e.unit_id] += e.points
        column_lines = _column_lines(s, config, period, today)
        weekly = _weekly_counts(s, config, period) if kind != "weekly" and config.quotas.weekly_in_bulletins else {}
        owed_from = Duties(s, config, calendar).owed_from
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
        person_items = Counter(
            (a.name, a.unit_id)
            for a in s.exec(
                select(Author)
                .join(Item, col(Item.id) == col(Author.item_id))
                .where(col(Item.received_at) >= lo, col(Item.received_at) < hi)
            )
        )
        people = sorted(
            (
                PersonLine(name, names.get(uid, "?"), person_items[(name, uid)], pts, person_ytd.get((name, uid), 0.0))
                for (name, uid), pts in person_points.items()
            ),
            key=lambda p: (-p.points, p.unit, p.name),
        )
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
    )


def _weekly_counts(s: Session, config: Config, period: Period) -> dict[int, Counter[str]]:
    """Items per unit and ISO week for the weeks a bulletin answers for (those ending in the period)."""
    weeks = weeks_ending_in(period)
    if not weeks:
        return {}
    lo, hi = local_day_bounds(weeks[0].start, config.timezone)[0], local_day_bounds(weeks[-1].end, config.timezone)[1]
    counts: dict[int, Counter[str]] = {}
    for unit_id, received in s.exec(
        select(Item.unit_id, Item.received_at).where(
            col(Item.received_at) >= lo, col(Item.received_at) < hi, Item.status != "returned"
        )
    ):
        week = week_of(utc_to_local_date(received, config.timezone))
        counts.setdefault(unit_id, Counter())[week.label] += 1
    return counts


def _column_lines(s: Session, config: Config, period: Period, today: date) -> tuple[ColumnLine, ...]:
    """Column health: each column's cycle, responsible units, last update, and who missed a cycle."""
    duties = Duties(s, config, work_calendar(config))
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


@dataclass(frozen=True)
class Rendered:
    report: Report
    subject: str
    text: str
    html: str
    xlsx: bytes
    chart: bytes

    @property
    def stem(self) -> str:
        return f"{self.report.period_label}-{self.report.kind}"


def render(config: Config, engine: Engine, renderer: Renderer, kind: str, period: Period) -> Rendered:
    incidents = incident_watch.bulletin_rows(config, engine, period, db.utcnow())  # 四(五), its own section
    return render_report(renderer, config, build_report(config, engine, kind, period), incidents)


def render_report(
    renderer: Renderer, config: Config, report: Report, incidents: Sequence[IncidentLine] = ()
) -> Rendered:
    template = "digest/weekly" if report.kind == "weekly" else "digest/bulletin"
    text, html = renderer.pair(template, {"report": report, "chart_cid": "chart", "incidents": list(incidents)})
    return Rendered(
        report, f"【{config.office.name}】{report.title}", text, html, build_xlsx(report), bar_chart(report)
    )


def write_files(rendered: Rendered, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {
        f"{rendered.stem}.txt": rendered.text.encode("utf-8"),
        f"{rendered.stem}.html": rendered.html.replace("cid:chart", f"{rendered.stem}.png").encode("utf-8"),
        f"{rendered.stem}.xlsx": rendered.xlsx,
        f"{rendered.stem}.png": rendered.chart,
    }
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / name for name in files]


def enqueue(config: Config, engine: Engine, rendered: Rendered, *, again: bool = False) -> int | None:
    """Queue the digest for the office, once per kind and period; `again` sends a repeat on request."""
    smtp, office = config.smtp, config.office
    if not office.recipients:
        log.warning("no [office] recipients configured: %s not sent", rendered.report.title)
        return None
    msgid = new_message_id(smtp.from_address)
    msg = compose(
        Envelope(
            smtp.from_address, smtp.from_name, office.recipients, rendered.subject, auto_submitted="auto-generated"
        ),
        rendered.text,
        rendered.html,
        msgid,
        datetime.now(UTC),
        inline=(("chart", rendered.chart, "image/png"),),
        attachments=((f"{rendered.report.title}.xlsx", rendered.xlsx, XLSX),),
    )
    with Session(engine) as s:
        row = Outbox(
            kind=f"digest_{rendered.report.kind}",
            sender=smtp.from_address,
            recipients=",".join(office.recipients),
            subject=rendered.subject,
            message_id=msgid,
            raw=msg.as_bytes(),
        )
        s.add(row)
        s.flush()
        sent_before = s.exec(
            select(DigestRun).where(
                DigestRun.kind == rendered.report.kind, DigestRun.period == rendered.report.period_label
            )
        ).first()
        if sent_before is not None and not again:
            s.rollback()
            return None
        if sent_before is None:
            s.add(DigestRun(kind=rendered.report.kind, period=rendered.report.period_label, outbox_id=row.id))
        try:
            s.commit()
        except IntegrityError:  # sent meanwhile by another run
            s.rollback()
            return None
        log.info("%s queued for %s", rendered.report.title, ",".join(office.recipients))
        return row.id


def last_complete(kind: str, today: date) -> Period:
    period_of = KINDS[kind]
    return period_of(period_of(today).start - timedelta(days=1))


def due_digests(config: Config, engine: Engine, today: date) -> list[tuple[str, Period]]:
    """Complete periods whose digest is due: from the first working day after the period ends,
    never for periods that ended before the mailbox's first message (a new installation)."""
    calendar = work_calendar(config)
    with Session(engine) as s:
        first = s.exec(select(func.min(Message.received_at))).one()
        done = {(r.kind, r.period) for r in s.exec(select(DigestRun))}
    if first is None:
        return []
    first_day = utc_to_local_date(first, config.timezone)
    due = []
    for kind in KINDS:
        previous = last_complete(kind, today)
        if previous.end < first_day or (kind, previous.label) in done:
            continue
        day = previous.end + timedelta(days=1)
        while not calendar.is_workday(day):
            day += timedelta(days=1)
        if today >= day:
            due.append((kind, previous))
    return due


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
