"""Scheduled jobs in the bureau's time zone (APScheduler), each safe to run more than once.

Jobs record what they sent keyed by period in the database, so a restart, a missed run caught up at
start-up, or a manual `mailbot remind` never sends anything twice.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time
from threading import Event
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from mailbot import digest_mail, incident_watch, reminders
from mailbot.bootstrap import App
from mailbot.domain.text import printable
from mailbot.domain.vocabulary import OutboxKind
from mailbot.notices import local_stamp, notify_office

log = logging.getLogger("mailbot")


def local_today(app: App) -> date:
    return datetime.now(ZoneInfo(app.config.timezone)).date()


def daily(app: App, stop: Event) -> None:
    """Reminders and digests due today; the outbox thread sends them."""
    if stop.is_set():
        return
    day = local_today(app)
    plans = reminders.plan(app.config, app.engine, day, scheduled=True)
    queued = reminders.send(app.config, app.engine, app.desk.renderer, plans)
    queued += reminders.send_column_reminders(app.config, app.engine, app.desk.renderer, day)
    sent = 0
    for kind, period in digest_mail.due_digests(app.config, app.engine, day):
        try:
            rendered = digest_mail.render(app.config, app.engine, app.desk.renderer, kind, period)
            sent += digest_mail.enqueue(app.config, app.engine, rendered) is not None
        except Exception as exc:  # the job's boundary: one broken report must not hold back the others
            log.exception("the %s digest for %s could not be built; the other jobs go on", kind, period.label)
            report_job_failure(app, kind, period.label, exc)
    log.info("daily jobs for %s: %d reminder(s), %d digest(s) queued", day.isoformat(), queued, sent)


JOB_NAMES = {"weekly": "周报", "monthly": "月度通报", "quarterly": "季度通报", "yearly": "年度通报"}


def report_job_failure(app: App, kind: str, period: str, exc: Exception) -> None:
    """Tell the office, in one sentence, that a report did not go out and how to send it later."""
    job = f"{period} {JOB_NAMES.get(kind, kind)}"
    context = {
        "job": job,
        "failed_at": local_stamp(app.config),
        "error": printable(f"{type(exc).__name__}: {exc}")[:300],
        "command": f"mailbot digest {kind} --period {period}",
    }
    notify_office(
        app.config,
        app.engine,
        app.desk.renderer,
        OutboxKind.JOB_FAILED,
        f"【未能生成】{job}",
        "office/job_failed",
        context,
    )


def start(app: App, stop: Event) -> BackgroundScheduler | None:
    if not app.config.schedule.enabled:
        return incident_watch.start_alone(app, stop)  # 核报 deadlines are minutes: watched all the same
    tz = ZoneInfo(app.config.timezone)
    hour, minute = (int(x) for x in app.config.schedule.reminder_time.split(":"))
    scheduler = BackgroundScheduler(timezone=tz)
    incident_watch.add_job(scheduler, app, stop)  # every minute: 核报 and 批示 deadlines
    scheduler.add_job(
        daily,
        CronTrigger(hour=hour, minute=minute, timezone=tz),
        args=[app, stop],
        id="daily",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=6 * 3600,
    )
    if datetime.now(tz).time() >= time(hour, minute):  # down at the usual hour today: catch up now
        scheduler.add_job(daily, args=[app, stop], id="catch-up", max_instances=1)
    scheduler.start()
    log.info("scheduler started: daily jobs at %s %s", app.config.schedule.reminder_time, app.config.timezone)
    return scheduler
