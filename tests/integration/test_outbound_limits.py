"""Outbound mail is bounded for every recipient: an auto-responder loop, a stranger's flood and a
liaison's empty mails, against real Dovecot and SMTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from mailbot.adapters.db import utcnow
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from mailbot.samples.mail import build_mail
from tests.helpers import write_config
from tests.integration.test_office import CHIEF, parsed, reply_to, text_of
from tests.servers import DovecotServer, SmtpSink

OFFICE = "office@example.com"


def make_app(tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink, limits: str = "") -> App:
    config = write_config(tmp_path, dovecot, smtp_sink)
    if limits:
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[office]", f"[limits]\n{limits}\n[office]", 1), encoding="utf-8")
    return build(load_config(config))


@pytest.fixture
def env(dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)


@pytest.mark.usefixtures("env")
def test_a_vacation_responder_on_an_admin_address_gets_a_bounded_answer(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """The responder ignores RFC 3834 (no Auto-Submitted) and answers everything we send it."""
    app = make_app(tmp_path, dovecot, smtp_sink)
    dovecot.append(build_mail(CHIEF, "扣分", [], body="扣分 兴隆台区应急管理局 1 信息失实"))
    poll_once(app.source, app.desk, app.transport)
    for _round in range(25):
        latest = parsed(smtp_sink.messages[-1].data)
        dovecot.append(reply_to(latest, CHIEF, "您好，我正在休假，12月5日返回，急事请致电。"))
        poll_once(app.source, app.desk, app.transport)
    to_admin = [m for m in smtp_sink.messages if m.rcpt_tos == [CHIEF]]
    assert len(to_admin) == 2  # the code, and one explanation an hour; the other 24 go unanswered
    assert "第一行不是可识别的指令" in text_of(parsed(to_admin[1].data))


@pytest.mark.usefixtures("env")
def test_a_strangers_forty_mails_make_one_office_summary_per_interval(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    app = make_app(tmp_path, dovecot, smtp_sink)
    for n in range(40):
        dovecot.append(build_mail("stranger@evil.example", f"广告 {n}", [], body="优惠"))
    poll_once(app.source, app.desk, app.transport)
    for n in range(5):
        dovecot.append(build_mail("stranger@evil.example", f"再来 {n}", [], body="优惠"))
    poll_once(app.source, app.desk, app.transport)
    (summary,) = smtp_sink.messages  # within the hour: the five new ones wait for the next summary
    assert summary.rcpt_tos == [OFFICE] and "40 封来信" in str(parsed(summary.data)["Subject"])
    body = text_of(parsed(summary.data))
    assert "广告 0" in body and "广告 39" in body and "不是已登记的信息宣传员" in body
    app.desk.held.clock = lambda: utcnow() + timedelta(minutes=61)
    poll_once(app.source, app.desk, app.transport)
    second = smtp_sink.wait_for(2)[1]
    assert "5 封来信" in str(parsed(second.data)["Subject"]) and "广告" not in text_of(parsed(second.data))
    assert len(smtp_sink.messages) == 2


@pytest.mark.usefixtures("env")
def test_thirty_empty_mails_from_a_liaison_are_answered_within_the_limit(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    app = make_app(tmp_path, dovecot, smtp_sink)
    mail = week_of_mail(app.config.units)[12]  # "no attachment": a rejection each time
    for n in range(30):
        dovecot.append(mail.raw.replace(b"Message-ID: <", f"Message-ID: <{n}.".encode(), 1))
    poll_once(app.source, app.desk, app.transport)
    to_office = [m for m in smtp_sink.messages if m.rcpt_tos == [OFFICE]]
    to_liaison = [m for m in smtp_sink.messages if m.rcpt_tos != [OFFICE]]
    assert len(to_liaison) == 20 and len(to_office) == 1
    assert "一小时内来信过多" in text_of(parsed(to_office[0].data))


@pytest.mark.usefixtures("env")
def test_the_per_recipient_limit_holds_for_every_kind_of_mail(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    """With the sender limit out of the way, the outbox's own limit still stops the sixth reply."""
    app = make_app(tmp_path, dovecot, smtp_sink, "replies_per_sender_per_hour = 100\nmails_per_recipient_per_hour = 5")
    mail = week_of_mail(app.config.units)[12]
    for n in range(8):
        dovecot.append(mail.raw.replace(b"Message-ID: <", f"Message-ID: <{n}.".encode(), 1))
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["rejection"] * 8  # recorded, told at most 5 times
    assert len(smtp_sink.messages) == 5
