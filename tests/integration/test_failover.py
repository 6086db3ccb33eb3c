"""Two `mailbot run` processes on one database and one mailbox; the leader is SIGKILLed halfway."""

from __future__ import annotations

import email
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session, func, select

from mailbot.adapters.db import Item, Reminder, make_engine
from mailbot.config import load_config
from mailbot.domain.calendar import week_of
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import REPO, write_config
from tests.servers import DovecotServer, SmtpSink

COUNT = 200


def reminder_today_calendar() -> str:
    """Make today (Asia/Shanghai) this week's reminder day, whatever day the tests run on."""
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    week = week_of(today)
    days = [week.start + timedelta(days=i) for i in range(7)]
    work = [today] if today == week.end else [today, today + timedelta(days=1)]
    holidays = [d.isoformat() for d in days if d not in work]
    calendar = f"[calendar]\nholidays = {holidays}\nworkdays = {[d.isoformat() for d in work]}\n"
    return calendar.replace("'", '"') + "[quotas]\nrelax_short_weeks = false\n"


def submissions(senders: list[str]) -> list[bytes]:
    photo = make_photo(800, 600, seed=7)
    title, body = STORIES["drill"]
    out = []
    for i in range(COUNT):
        docx = build_docx(
            f"{title}（第{i + 1}期）",
            [f"{p}（{i}）" for p in body],
            [f"撰稿人：办公室张三{i % 7}", "初审人：李四    复审人：王五"],
        )
        out.append(
            build_mail(
                senders[i % len(senders)],
                f"{title}（第{i + 1}期）",
                [("报送.zip", build_zip([("稿件.docx", docx), ("照片.jpg", photo)]))],
            )
        )
    return out


def start(config: Path, password: str, log: Path) -> subprocess.Popen[str]:
    with open(log, "w", encoding="utf-8") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mailbot", "--config", str(config), "run"],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TEST_IMAP_PASSWORD": password},
        )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_standby_takes_over_with_nothing_lost_or_doubled(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    text = config.read_text(encoding="utf-8").replace("enabled = false", 'enabled = true\nreminder_time = "00:00"')
    text = text.replace("[office]", reminder_today_calendar() + "[office]", 1)
    config.write_text(text.replace("[mailbox]\n", "[mailbox]\npoll_seconds = 5\n", 1), encoding="utf-8")
    loaded = load_config(config)
    senders = [u.liaisons[0].email for u in loaded.units if u.liaisons]
    raws = submissions(senders)

    logs = (tmp_path / "a.log", tmp_path / "b.log")
    first = start(config, dovecot.password, logs[0])
    wait_for(lambda: "mailbot running" in logs[0].read_text(encoding="utf-8"), 30, "first daemon never led")
    second = start(config, dovecot.password, logs[1])
    wait_for(lambda: "standby" in logs[1].read_text(encoding="utf-8"), 30, "second daemon never stood by")
    try:
        feeder = threading.Thread(target=lambda: [dovecot.append(raw) for raw in raws])
        feeder.start()
        wait_for(lambda: len(smtp_sink.messages) >= COUNT // 2, 120, "half the replies never came")
        first.kill()  # SIGKILL: no goodbye, the lock goes with the connection
        first.wait()
        feeder.join()
        wait_for(lambda: "mailbot running" in logs[1].read_text(encoding="utf-8"), 30, "no takeover")
        replies = lambda: [m for m in smtp_sink.messages if m.message["In-Reply-To"]]  # noqa: E731
        wait_for(lambda: len(replies()) >= COUNT, 180, f"replies: {len(replies())} of {COUNT}")
        # Counted only after both daemons have stopped (SIGTERM drains the outbox): whatever a double
        # would have sent has been sent by then, with no guess at how long to wait.
    finally:
        for proc in (first, second):
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=30)

    replies_by_msg: dict[str, set[str]] = {}
    for m in smtp_sink.messages:
        if m.message["In-Reply-To"]:
            replies_by_msg.setdefault(str(m.message["In-Reply-To"]), set()).add(str(m.message["Message-ID"]))
    answered = Counter(str(m.message["In-Reply-To"]) for m in smtp_sink.messages if m.message["In-Reply-To"])
    expected = {str(email.message_from_bytes(raw)["Message-ID"]) for raw in raws}
    assert set(answered) == expected
    # One reply per message. SMTP has no idempotency: a kill between the server's 250 and our commit
    # re-sends that one reply after the takeover, with the same Message-ID (RELIABILITY.md), so
    # mail clients show it once. Nothing else may be doubled.
    assert all(len(ids) == 1 for ids in replies_by_msg.values())
    assert sum(answered.values()) - COUNT <= 1, [k for k, v in answered.items() if v > 1]
    engine = make_engine(loaded.database_url())
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Item)).one() == COUNT
        assert len(set(s.exec(select(Item.content_hash)).all())) == COUNT
        weekly = s.exec(select(Reminder.unit_id, Reminder.period).where(Reminder.kind == "weekly")).all()
    reminder_mails = [m for m in smtp_sink.messages if "信息报送提醒" in str(m.message["Subject"])]
    assert len(weekly) == len(set(weekly)) == len(reminder_mails) == len(senders)  # one per unit, once
    assert dovecot.uids("INBOX") == []
