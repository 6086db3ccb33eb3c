"""Every date rule counts from the time the mail reached the mailbox (IMAP INTERNALDATE), not from the
time mailbot processed it: a piece sent last Friday and read on Monday belongs to last week (三(一)1)."""

from __future__ import annotations

import email
import email.policy
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from mailbot import digests
from mailbot.adapters.db import Item, Message, make_engine
from mailbot.adapters.maildir import MaildirSource
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.calendar import week_of
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import reply_text, write_config
from tests.servers import DovecotServer, SmtpSink

TZ = ZoneInfo("Asia/Shanghai")


def piece(sender: str, title: str, seed: int) -> bytes:
    _t, body = STORIES["training"]
    docx = build_docx(title, body, ["撰稿人：宣教科陈静", "初审人：李四", "复审人：王五"])
    return build_mail(sender, title, [("a.zip", build_zip([("稿件.docx", docx), ("照片.jpg", make_photo(seed=seed))]))])


def test_internaldate_of_last_week_counts_for_last_week(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    now = datetime.now(TZ)
    arrived = (now - timedelta(days=7)).replace(hour=15, minute=42, second=0, microsecond=0)
    dovecot.append(piece("xuanjiao@example.com", "市应急局开展防汛演练", 1), msg_time=arrived)

    assert main(["--config", str(config_path), "poll", "--once"]) == 0  # processed now, a week later

    config = load_config(config_path)
    engine = make_engine(config.database_url())
    with Session(engine) as s:
        item = s.exec(select(Item)).one()
        message = s.exec(select(Message)).one()
    for moment in (item.received_at, message.received_at):
        assert moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(TZ) == arrived
    last_week, this_week = week_of(arrived.date()), week_of(now.date())
    assert last_week != this_week
    counted = {u.unit: u.accepted for u in digests.build_report(config, engine, "weekly", last_week).units}
    assert counted["宣教科"] == 1
    assert {u.unit: u.accepted for u in digests.build_report(config, engine, "weekly", this_week).units}["宣教科"] == 0
    (receipt,) = smtp_sink.wait_for(1)
    text = reply_text(email.message_from_bytes(receipt.data, policy=email.policy.default))
    assert f"您于 {arrived.year}年{arrived.month}月{arrived.day}日 15:42 报送" in text


def test_maildir_delivery_time_is_the_files_time(tmp_path: Path) -> None:
    source = MaildirSource(tmp_path / "inbox")
    source.open()
    key = source._inbox().add(b"Subject: x\r\nDate: Mon, 01 Jan 2024 00:00:00 +0000\r\n\r\nbody\r\n")  # noqa: SLF001
    delivered = datetime(2026, 10, 9, 9, 30, tzinfo=UTC)
    os.utime(tmp_path / "inbox" / "new" / key, (delivered.timestamp(), delivered.timestamp()))
    fetched = source.fetch(key)
    assert fetched.arrived == delivered and b"".join(fetched.parts).startswith(b"Subject: x")
