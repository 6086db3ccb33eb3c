"""Digests and bulletins as files and as mail to the office: rendered once, queued once per period.

Each scheduled digest is recorded under (kind, period) in the same transaction as its outbox row: it
goes out exactly once, however often the daily job runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from mailbot import incident_watch
from mailbot.adapters.db import DigestRun, Message, Outbox, utcnow
from mailbot.adapters.render import Renderer
from mailbot.compose import Envelope, compose, new_message_id
from mailbot.config import Config
from mailbot.digests import KINDS, build_report
from mailbot.domain.calendar import Period, utc_to_local_date
from mailbot.domain.incidents import IncidentLine
from mailbot.domain.report import Report
from mailbot.reminders import work_calendar

log = logging.getLogger("mailbot")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    incidents = incident_watch.bulletin_rows(config, engine, period, utcnow())  # 四(五), its own section
    return render_report(renderer, config, build_report(config, engine, kind, period), incidents)


def render_report(
    renderer: Renderer, config: Config, report: Report, incidents: Sequence[IncidentLine] = ()
) -> Rendered:
    # openpyxl and Pillow (~25 MB) load when the first digest is built, not with the daemon
    from mailbot.adapters.chart import bar_chart
    from mailbot.adapters.workbook import build_xlsx

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
