"""The incident watch: every minute, each deadline that passed is alerted once; and what is still open.

State lives in the database (deadlines in `IncidentDemand`, alerts sent in `IncidentAlert` under a
unique key written with the alert's outbox row), so a restart, a second instance or a catch-up after
an outage never loses a deadline or repeats an alert. `now` comes from the caller: the daemon's job
passes the clock, tests pass the minute they want.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Event
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from mailbot.adapters.db import Liaison, Outbox, Unit, utcnow
from mailbot.adapters.incident_tables import Incident, IncidentAlert, IncidentDemand
from mailbot.adapters.render import Renderer
from mailbot.config import Config
from mailbot.domain import incidents as rules
from mailbot.domain.calendar import Period, period_bounds
from mailbot.domain.formats import local, local_time
from mailbot.domain.vocabulary import DEMAND_NAMES, DemandKind, IncidentMail
from mailbot.incident_mail import duty_of, limits_of, queue, utc

if TYPE_CHECKING:
    from mailbot.bootstrap import App

log = logging.getLogger("mailbot")


def watch(config: Config, engine: Engine, renderer: Renderer, now: datetime) -> int:
    """Queue every alert owed at `now` that was not sent before; returns how many were queued."""
    limits = limits_of(config)
    with Session(engine) as s:
        demands = [
            rules.OpenDemand(d.id, d.incident_id, DemandKind(d.kind), utc(d.due_at))
            for d in s.exec(select(IncidentDemand).where(col(IncidentDemand.answered_at).is_(None)))
            if d.id is not None
        ]
        incidents = [
            rules.OpenIncident(i.id, utc(i.first_at))
            for i in s.exec(select(Incident).where(col(Incident.closed).is_(False)))
            if i.id is not None
        ]
        owed = rules.due_alerts(demands, incidents, utc(now), limits)
        sent = set(s.exec(select(IncidentAlert.key).where(col(IncidentAlert.key).in_([a.key for a in owed]))))
    queued = 0
    for alert in (a for a in owed if a.key not in sent):
        with Session(engine) as s:
            outbox_id = _send(config, renderer, s, alert, now)
            s.add(IncidentAlert(key=alert.key, incident_id=alert.incident_id, outbox_id=outbox_id))
            try:
                s.commit()
            except IntegrityError:  # another instance sent it meanwhile
                s.rollback()
                continue
        queued += 1
        log.info("incident alert %s queued", alert.key)
    return queued


def _send(config: Config, renderer: Renderer, s: Session, alert: rules.Alert, now: datetime) -> int | None:
    """Queue the alert's mail; returns its outbox id."""
    tz = ZoneInfo(config.timezone)
    incident = s.get(Incident, alert.incident_id)
    assert incident is not None
    unit = s.get(Unit, incident.unit_id)
    people = s.exec(select(Liaison).where(Liaison.unit_id == incident.unit_id, col(Liaison.active))).all()
    context: dict[str, object] = {
        "office_name": config.office.name,
        "unit_name": unit.name if unit else "",
        "number": incident.number,
        "title": incident.title,
        "first_at": local_time(incident.first_at, tz),
        "what": alert.what,
        "count": alert.count,
        "hours": rules.duration_text(int((utc(now) - utc(incident.first_at)).total_seconds() // 60)),
        "liaisons": [f"{p.name} {p.phone}".strip() for p in people],
        "liaison_name": "、".join(p.name for p in people if p.name),
    }
    if alert.what == "overdue":
        demand = s.get(IncidentDemand, alert.demand_id)
        assert demand is not None
        context |= {
            "demand_name": DEMAND_NAMES[demand.kind],
            "text": demand.text,
            "asked_at": local_time(demand.asked_at, tz),
            "due_at": local_time(demand.due_at, tz),
        }
        subject = f"【紧急】【逾期】{incident.number} {context['unit_name']}未按时{DEMAND_NAMES[demand.kind]}"
        to, template = duty_of(config), "incident/alert"
    elif alert.what == "final_note":
        subject = f"【紧急】【未终报】{incident.number} {context['unit_name']}首报后尚未终报"
        to, template = duty_of(config), "incident/alert"
    else:
        subject = f"【终报提醒】{incident.number} 请尽快报送终报：{incident.title}"
        to, template = tuple(p.email for p in people if p.email), "incident/reminder"
    if not to:
        return None
    kind = IncidentMail.REMINDER if alert.what == "final_reminder" else IncidentMail.ALERT
    msgid = queue(config, renderer, s, None, kind, template, to, subject, context, urgent=True)
    s.flush()
    row = s.exec(select(Outbox).where(Outbox.message_id == msgid)).one()
    return row.id


def watch_job(app: App, stop: Event) -> None:
    """The daemon's minute job: an alert is due within a minute of its deadline."""
    if stop.is_set() or not app.config.incidents.enabled:
        return
    try:
        watch(app.config, app.engine, app.desk.renderer, utcnow())
    except Exception:  # the job's boundary: the next minute tries again, nothing is marked sent
        log.exception("the incident watch failed; retrying in a minute")


def add_job(scheduler: BackgroundScheduler, app: App, stop: Event) -> None:
    """Every minute, from start-up; a missed minute is caught up once (the keys keep alerts single)."""
    if not app.config.incidents.enabled:
        return
    scheduler.add_job(
        watch_job,
        IntervalTrigger(minutes=1),
        args=[app, stop],
        id="incidents",
        coalesce=True,
        max_instances=1,
        next_run_time=datetime.now(UTC),
    )


def start_alone(app: App, stop: Event) -> BackgroundScheduler | None:
    """The watch without the daily jobs ([schedule] enabled = false): 核报 deadlines are minutes."""
    if not app.config.incidents.enabled:
        return None
    scheduler = BackgroundScheduler(timezone=ZoneInfo(app.config.timezone))
    add_job(scheduler, app, stop)
    scheduler.start()
    log.info("incident watch started: deadlines checked every minute")
    return scheduler


# ---- what is open ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenLine:
    number: str
    unit: str
    title: str
    first_at: str
    delay: str  # 首报 after the incident
    waiting: tuple[str, ...]  # what the incident waits for, each with its deadline
    asked: frozenset[str] = frozenset()  # kinds of demand (DemandKind) not yet answered


def open_incidents(config: Config, engine: Engine, now: datetime) -> list[OpenLine]:
    """Open incidents (no 终报) and incidents with an unanswered demand, oldest first."""
    tz = ZoneInfo(config.timezone)
    limits = limits_of(config)
    lines = []
    with Session(engine) as s:
        pending = defaultdict(list)
        for d in s.exec(select(IncidentDemand).where(col(IncidentDemand.answered_at).is_(None))):
            pending[d.incident_id].append(d)
        wanted = col(Incident.closed).is_(False) | col(Incident.id).in_(list(pending))
        for inc in s.exec(select(Incident).where(wanted).order_by(col(Incident.id))):
            unit = s.get(Unit, inc.unit_id)
            waiting = []
            for d in pending.get(inc.id or 0, []):
                late = "，已逾期" if utc(now) >= utc(d.due_at) else ""
                waiting.append(f"{DEMAND_NAMES[d.kind]}（截止 {local_time(d.due_at, tz)}{late}）")
            if not inc.closed:
                since = int((utc(now) - utc(inc.first_at)).total_seconds() // 60)
                late = "，已超时" if since >= limits.final_report_hours * 60 else ""
                waiting.append(f"终报（首报后已 {rules.duration_text(since)}{late}）")
            delay = rules.delay_minutes(
                local(inc.occurred_at, tz) if inc.occurred_at else None, local(inc.first_at, tz)
            )
            lines.append(
                OpenLine(
                    inc.number,
                    unit.name if unit else "?",
                    inc.title,
                    local_time(inc.first_at, tz),
                    rules.duration_text(delay) if delay is not None else "事发时间不详",
                    tuple(waiting),
                    frozenset(d.kind for d in pending.get(inc.id or 0, [])),
                )
            )
    return lines


# ---- the bulletin ---------------------------------------------------------------------------------


def bulletin_rows(config: Config, engine: Engine, period: Period, now: datetime) -> list[rules.IncidentLine]:
    """四(五) 首报时效 and 核报 handling per unit for a bulletin: incidents first reported in the period,
    and demands asked in it (answered late or still unanswered past the deadline count as late)."""
    lo, hi = period_bounds(period, config.timezone)
    tz = ZoneInfo(config.timezone)
    with Session(engine) as s:
        names = {u.id: u.name for u in s.exec(select(Unit).order_by(col(Unit.id)))}
        reported: dict[int, int] = defaultdict(int)
        delays: dict[int, list[int]] = defaultdict(list)
        for inc in s.exec(select(Incident).where(col(Incident.first_at) >= lo, col(Incident.first_at) < hi)):
            reported[inc.unit_id] += 1
            delay = rules.delay_minutes(
                local(inc.occurred_at, tz) if inc.occurred_at else None, local(inc.first_at, tz)
            )
            if delay is not None:
                delays[inc.unit_id].append(delay)
        verify: dict[int, list[bool | None]] = defaultdict(list)
        feedback: dict[int, list[bool | None]] = defaultdict(list)
        for d, unit_id in s.exec(
            select(IncidentDemand, Incident.unit_id)
            .join(Incident, col(Incident.id) == col(IncidentDemand.incident_id))
            .where(col(IncidentDemand.asked_at) >= lo, col(IncidentDemand.asked_at) < hi)
        ):
            result = rules.answered_in_time(utc(d.answered_at) if d.answered_at else None, utc(d.due_at), utc(now))
            (feedback if d.kind == DemandKind.INSTRUCTION else verify)[unit_id].append(result)
        units = sorted(set(reported) | set(verify) | set(feedback), key=lambda u: (-reported.get(u, 0), u))
        return [
            rules.incident_line(
                names.get(u, "?"), reported.get(u, 0), delays.get(u, []), verify.get(u, []), feedback.get(u, [])
            )
            for u in units
        ]
