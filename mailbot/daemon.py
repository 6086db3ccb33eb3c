"""`mailbot run`: the long-running process systemd supervises.

Three loops share one stop flag: ingest (IDLE or poll, then a pass), the outbox (sends whatever is
due, backs off while SMTP is unreachable) and the scheduler (reminders and digests). Each outage is
logged once when it starts and once when it ends, never once per retry.
"""

from __future__ import annotations

import imaplib
import logging
import threading
import time
from collections.abc import Callable

from imapclient.exceptions import IMAPClientError
from sqlalchemy.exc import OperationalError

from mailbot.adapters.storage import StorageFull
from mailbot.bootstrap import App
from mailbot.domain.vocabulary import OutboxKind
from mailbot.leader import Leadership
from mailbot.notices import local_stamp, notify_office
from mailbot.passes import ingest_pass
from mailbot.ports import ConnectionFailure
from mailbot.worker import Analyser

log = logging.getLogger("mailbot")
OUTBOX_SECONDS = 5.0
STANDBY_SECONDS = 5.0
BACKOFF_CAP_SECONDS = 300.0
# What a lost connection or an unwell server looks like; anything else is a bug and is logged in full.
TRANSIENT = (OSError, IMAPClientError, imaplib.IMAP4.error, OperationalError, ConnectionFailure)


class Backoff:
    """Capped exponential delays: 2 s, 4 s, ... 5 min (QQ mail blocks reconnects measured in seconds)."""

    def __init__(self, initial: float = 2.0, cap: float = BACKOFF_CAP_SECONDS) -> None:
        self.initial, self.cap, self.current = initial, cap, initial

    def next(self) -> float:
        delay, self.current = self.current, min(self.cap, self.current * 2)
        return delay

    def reset(self) -> None:
        self.current = self.initial


class Outage:
    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None

    def failed(self, exc: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            if isinstance(exc, TRANSIENT):
                log.error("%s unavailable: %s: %s (retrying with backoff)", self.what, type(exc).__name__, exc)
            else:
                log.exception("%s failed unexpectedly (retrying with backoff)", self.what)

    def recovered(self) -> None:
        if self.since is not None:
            log.info("%s available again after %.0f s", self.what, time.monotonic() - self.since)
            self.since = None


class Daemon:
    def __init__(self, app: App, jobs: Callable[[App, threading.Event], object] | None = None) -> None:
        self.app = app
        self.leadership = Leadership(app.engine, app.source.key, app.config.storage_dir())
        self.stop = threading.Event()
        self.mail_arrived = threading.Event()
        self.jobs = jobs

    def run(self) -> int:
        """Every instance sends the outbox; only the leader polls the mailbox and runs the jobs."""
        outbox = threading.Thread(target=self._outbox_loop, name="outbox", daemon=True)
        outbox.start()
        poll = float(self.app.config.mailbox.poll_seconds)
        standby_logged = False
        try:
            while not self.stop.is_set():
                if not self.leadership.try_acquire():
                    if not standby_logged:
                        log.info(
                            "standby: another mailbot serves mailbox %s; taking over if it stops", self.app.source.key
                        )
                        standby_logged = True
                    self.stop.wait(min(poll, STANDBY_SECONDS))
                    continue
                standby_logged = False
                log.info("mailbot running: mailbox %s, folder %s", self.app.source.key, self.app.source.folder)
                scheduler = self.jobs(self.app, self.stop) if self.jobs else None
                try:
                    self._ingest_loop()
                finally:
                    if scheduler is not None:
                        scheduler.shutdown(wait=True)  # type: ignore[attr-defined]
                if not self.stop.is_set():
                    self.leadership.release()
        finally:
            self.stop.set()
            self.mail_arrived.set()
            outbox.join(timeout=60)
            if self.leadership.held:  # the outbox thread has stopped: one last round, as the leader
                _quietly(lambda: self.app.desk.drain_outbox(self.app.transport))
            self.leadership.release()
        log.info("mailbot stopped")
        return 0

    def _ingest_loop(self) -> None:
        """Until stopped or no longer the leader (checked at least every poll interval)."""
        source, desk = self.app.source, self.app.desk
        outage, backoff = Outage(f"mailbox {source.key}"), Backoff()
        full = Outage(f"storage {self.app.config.storage_dir()}")
        poll = float(self.app.config.mailbox.poll_seconds)
        analyser = Analyser(desk.limits, desk.config.limits.worker_memory_mb, desk.config.limits.worker_cpu_seconds)
        analyser.warm()  # the worker starts while we log in; the first reply need not wait for it
        desk.renderer.warm()
        try:
            while not self.stop.is_set() and self.leadership.alive():
                try:
                    source.open()
                    try:
                        while not self.stop.is_set() and self.leadership.alive():
                            if ingest_pass(source, desk, self.stop, analyser, self.mail_arrived.set):
                                self.mail_arrived.set()
                                analyser.settle()  # the pass's messages are garbage now; idle comes next
                            # Only a whole pass proves the outage over: a login that then fails to
                            # store would otherwise reset the back-off and log in every 2 s.
                            outage.recovered()
                            full.recovered()
                            backoff.reset()
                            source.wait(poll, self.stop)
                    finally:
                        _quietly(source.close)
                except StorageFull as exc:  # said plainly, once, to the log and the office
                    if full.since is None:
                        self._tell_office_storage_full(exc)
                    full.failed(exc)
                    self.stop.wait(backoff.next())
                except Exception as exc:  # the top-level loop: nothing may end the daemon but a stop
                    outage.failed(exc)
                    self.stop.wait(backoff.next())
        finally:
            analyser.close()
        if not self.stop.is_set():
            log.error("lost the leadership of mailbox %s (database connection gone); standing by", source.key)

    def _tell_office_storage_full(self, exc: StorageFull) -> None:
        config = self.app.config
        context = {"storage": str(config.storage_dir()), "error": str(exc), "failed_at": local_stamp(config)}
        try:
            notify_office(
                config,
                self.app.engine,
                self.app.desk.renderer,
                OutboxKind.STORAGE_FULL,
                "【存储空间已满】信息报送系统暂停收件",
                "office/storage_full",
                context,
            )
        except Exception:  # the database may sit on the same full disk: the log line must do then
            log.warning("could not queue the storage-full notice to the office", exc_info=True)

    def _outbox_loop(self) -> None:
        outage, backoff = Outage("SMTP server"), Backoff()
        delay = OUTBOX_SECONDS
        shared = self.app.engine.dialect.name == "postgresql"  # SKIP LOCKED lets every instance send
        while not self.stop.is_set():
            try:
                if shared or self.leadership.held:
                    self.app.desk.drain_outbox(self.app.transport)
                outage.recovered()
                backoff.reset()
                delay = OUTBOX_SECONDS
            except Exception as exc:  # the top-level loop of this thread
                outage.failed(exc)
                delay = backoff.next()
            self.mail_arrived.wait(delay)
            self.mail_arrived.clear()


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:  # closing or a last flush on the way out: the error was logged where it began
        log.debug("ignored error during shutdown", exc_info=True)
