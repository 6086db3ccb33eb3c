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

from mailbot import digests, reminders
from mailbot.bootstrap import App

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
    for kind, period in digests.due_digests(app.config, app.engine, day):
        rendered = digests.render(app.config, app.engine, app.desk.renderer, kind, period)
        sent += digests.enqueue(app.config, app.engine, rendered) is not None
    log.info("daily jobs for %s: %d reminder(s), %d digest(s) queued", day.isoformat(), queued, sent)


def start(app: App, stop: Event) -> BackgroundScheduler | None:
    if not app.config.schedule.enabled:
        return None
    tz = ZoneInfo(app.config.timezone)
    hour, minute = (int(x) for x in app.config.schedule.reminder_time.split(":"))
    scheduler = BackgroundScheduler(timezone=tz)
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
