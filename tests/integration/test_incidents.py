"""Urgent incident reports against real Dovecot and SMTP: 首报 answered and passed on within one poll,
续报 and 终报 linked, 核报 and 批示 against the clock, and a restart that loses no deadline.

Time is controlled, never slept: mail is appended with an IMAP INTERNALDATE (the arrival time every
deadline counts from) and the watch is given `now`.
"""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from mailbot import digest_mail
from mailbot.adapters.db import Message
from mailbot.adapters.incident_tables import Incident, IncidentAlert, IncidentDemand, IncidentReport
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.calendar import month_of
from mailbot.domain.formats import local_time
from mailbot.incident_watch import bulletin_rows, watch
from mailbot.passes import poll_once
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.worker import Analyser
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink

TZ = ZoneInfo("Asia/Shanghai")
CHIEF = "chief@example.com"
DUTY = "zhiban@example.com"
LIAISON = "panshan.yjj@example.com"  # 盘山县应急管理局, 孙悦 0427-0000004
UNIT_PEOPLE = {LIAISON, "panshan.xinxi@example.com"}
# A week ago at 10:05 local: in the past whenever the tests run (arrival times are never in the future).
T0 = datetime.combine(datetime.now(TZ).date() - timedelta(days=7), datetime.min.time(), TZ).replace(hour=10, minute=5)


def config_path(tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink) -> Path:
    path = write_config(tmp_path, dovecot, smtp_sink)
    with path.open("a", encoding="utf-8") as f:
        f.write(f'\n[incidents]\nduty = ["{DUTY}"]\n')
    return path


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return build(load_config(config_path(tmp_path, dovecot, smtp_sink)))


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def deliver(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, raw: bytes, at: datetime) -> list[EmailMessage]:
    """One poll with the message arriving at `at`; the mail sent, and the sink emptied."""
    smtp_sink.clear()
    dovecot.append(raw, msg_time=at)
    poll_once(app.source, app.desk, app.transport)
    return sent(smtp_sink)


def sent(smtp_sink: SmtpSink) -> list[EmailMessage]:
    got = [parsed(m.data) for m in smtp_sink.messages]
    smtp_sink.clear()
    return got


def to(mails: list[EmailMessage], address: str) -> EmailMessage:
    (found,) = [m for m in mails if address in str(m["To"])]
    return found


def reply(original: EmailMessage, sender: str, body: str, subject: str = "") -> bytes:
    return build_mail(
        sender,
        subject or f"Re: {original['Subject']}",
        [],
        body=body + "\n\n> 原邮件内容……",
        headers=[("In-Reply-To", str(original["Message-ID"])), ("References", str(original["Message-ID"]))],
    )


def command(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, line: str, at: datetime) -> list[EmailMessage]:
    """An office command as the duty office sends it: the line, then its reply quoting the one-time
    code that mailbot asks for; the mail sent once it is carried out."""
    (asked,) = deliver(app, dovecot, smtp_sink, build_mail(CHIEF, "值班", [], body=line), at)
    assert "请确认" in str(asked["Subject"]), asked["Subject"]
    quoted = "\n".join("> " + line for line in text_of(asked).splitlines())
    return deliver(app, dovecot, smtp_sink, reply(asked, CHIEF, "确认\n" + quoted), at)


def test_an_incident_from_first_report_to_final(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 首报 as plain mail text, no 三审 footer, no photo: numbered and passed on within one poll.
    first = build_mail(
        LIAISON,
        "【首报】盘山县某化工厂发生火灾",
        [],
        body=f"{T0.month}月{T0.day}日上午9时30分许，盘山县某化工厂储罐区发生火灾，暂无人员伤亡。现场正在处置。",
    )
    mails = deliver(app, dovecot, smtp_sink, first, T0)
    assert len(mails) == 2
    receipt, duty = to(mails, LIAISON), to(mails, DUTY)
    said = text_of(receipt)
    assert "SJ-" in said and "事件编号" in said
    number = f"SJ-{T0.year}-001"
    assert number in said and f"收到时间：{local_time(T0, TZ)}" in said and "事发后 35分钟" in said
    assert "复审人" in said and "不影响本次受理" in said  # a warning, never a rejection
    assert str(duty["Subject"]).startswith(f"【紧急】【首报】{number} 盘山县应急管理局")
    assert duty["Importance"] == "high" and str(duty["X-Priority"]).startswith("1")
    assert "暂无人员伤亡" in text_of(duty) and "0427-0000004" in text_of(duty)

    # 续报 by replying to the receipt.
    mails = deliver(
        app, dovecot, smtp_sink, reply(receipt, LIAISON, "截至10时30分，明火已扑灭。"), T0 + timedelta(minutes=25)
    )
    assert "续报已收到" in str(to(mails, LIAISON)["Subject"]) and "【续报】" in str(to(mails, DUTY)["Subject"])

    # 核报 in writing, answered in time by a reply to the notice.
    mails = command(app, dovecot, smtp_sink, f"核报 {number} 书面", T0 + timedelta(minutes=40))
    notice = next(m for m in mails if LIAISON in str(m["To"]))
    assert len(mails) == 2 and {a.strip() for a in str(notice["To"]).split(",")} == UNIT_PEOPLE
    assert notice["Importance"] == "high"
    due = local_time(T0 + timedelta(minutes=80), TZ)
    assert f"于 {due} 前报送书面反馈" in text_of(notice)
    assert "已执行" in text_of(to(mails, CHIEF)) and due in text_of(to(mails, CHIEF))
    mails = deliver(
        app, dovecot, smtp_sink, reply(notice, LIAISON, "经核实，过火面积约200平方米。"), T0 + timedelta(hours=1)
    )
    assert "核报（书面反馈）按时反馈" in text_of(to(mails, LIAISON))

    # 核报 by phone, not answered: alerted once, across a restart.
    phone_at = T0 + timedelta(minutes=90)
    command(app, dovecot, smtp_sink, f"核报 {number} 电话", phone_at)
    deadline = phone_at + timedelta(minutes=20)
    assert watch(app.config, app.engine, app.desk.renderer, deadline - timedelta(seconds=30)) == 0
    app.engine.dispose()
    restarted = build(load_config(tmp_path / "config.toml"))  # a new process on the same database
    assert watch(restarted.config, restarted.engine, restarted.desk.renderer, deadline + timedelta(seconds=30)) == 1
    assert watch(restarted.config, restarted.engine, restarted.desk.renderer, deadline + timedelta(minutes=1)) == 0
    restarted.desk.drain_outbox(restarted.transport)
    (alert,) = sent(smtp_sink)
    assert alert["To"] == DUTY and "【逾期】" in str(alert["Subject"]) and "核报（电话反馈）" in text_of(alert)
    app = restarted
    mails = command(app, dovecot, smtp_sink, f"核报 {number} 已电话反馈", deadline + timedelta(minutes=5))
    assert "已电话反馈" in text_of(to(mails, CHIEF)) and "逾期" in text_of(to(mails, CHIEF))

    # 批示: the unit is told the instruction and the deadline; its 落实情况 closes it.
    told_at = T0 + timedelta(hours=2)
    mails = command(app, dovecot, smtp_sink, f"批示 {number} 全力救治伤员，尽快查明起火原因", told_at)
    notice = next(m for m in mails if LIAISON in str(m["To"]))
    assert "全力救治伤员，尽快查明起火原因" in text_of(notice)
    midnight = datetime.combine(T0.date() + timedelta(days=1), datetime.min.time(), TZ)
    assert f"于 {local_time(midnight, TZ)} 前报送贯彻落实情况" in text_of(notice)  # 三(三) 当天
    assert main(["--config", str(tmp_path / "config.toml"), "incidents"]) == 0
    listing = capsys.readouterr().out
    assert number in listing and "批示落实情况反馈" in listing and "终报" in listing and "未结事件 1 起" in listing
    mails = deliver(
        app,
        dovecot,
        smtp_sink,
        build_mail(LIAISON, f"【批示落实】{number}", [], body="已传达落实，伤员已送医。"),
        told_at + timedelta(hours=3),
    )
    assert "批示落实情况反馈按时反馈" in text_of(to(mails, LIAISON))

    # 终报 by number: the incident is closed, no reminder later.
    mails = deliver(
        app,
        dovecot,
        smtp_sink,
        build_mail(LIAISON, f"【终报】{number} 火灾处置完毕", [], body="现场处置完毕。"),
        T0 + timedelta(hours=6),
    )
    assert "终报已收到" in str(to(mails, LIAISON)["Subject"]) and "已终报" in text_of(to(mails, DUTY))
    assert watch(app.config, app.engine, app.desk.renderer, T0 + timedelta(days=3)) == 0

    with Session(app.engine) as s:
        incident = s.exec(select(Incident)).one()
        assert incident.closed and incident.occurred_at is not None
        stages = [r.stage for r in s.exec(select(IncidentReport).order_by(IncidentReport.id))]
        assert stages == ["first", "follow_up", "verify", "feedback", "final"]
        assert [(d.kind, d.answered_how) for d in s.exec(select(IncidentDemand).order_by(IncidentDemand.id))] == [
            ("verify_written", "written"),
            ("verify_phone", "phone"),
            ("instruction", "written"),
        ]
        assert len(s.exec(select(IncidentAlert)).all()) == 1
        assert {m.verdict for m in s.exec(select(Message)) if m.sender == LIAISON} == {"incident"}

    # 四(五): the bulletin's section.
    (line,) = bulletin_rows(app.config, app.engine, month_of(T0.date()), T0 + timedelta(days=3))
    assert (line.unit, line.reported, line.median_delay, line.longest_delay) == (
        "盘山县应急管理局",
        1,
        "35分钟",
        "35分钟",
    )
    assert (line.verify_on_time, line.verify_late, line.feedback_on_time, line.feedback_late) == (1, 1, 1, 0)
    bulletin = digest_mail.render(app.config, app.engine, app.desk.renderer, "monthly", month_of(T0.date()))
    assert "附：突发事件信息报告情况" in bulletin.text and "核报或批示反馈逾期：盘山县应急管理局" in bulletin.text
    assert "首报时效" in bulletin.html and "35分钟" in bulletin.html


def test_the_duty_notice_carries_the_files_the_worker_staged(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    """Analysed in the worker, a report's attachments reach this process as files in staging: the
    duty notice still carries them byte for byte, and staging is empty afterwards."""
    paragraphs = [f"事发时间：{T0.year}年{T0.month}月{T0.day}日8时05分", "某乡镇一处民房因雨倒塌，1人轻伤。"]
    archive = build_zip([("民房倒塌.docx", build_docx("【首报】某乡镇民房倒塌", paragraphs, ["撰稿人：孙悦"]))])
    dovecot.append(build_mail(LIAISON, "报送信息", [("首报.zip", archive)]), msg_time=T0)
    analyser = Analyser(app.desk.limits)
    try:
        poll_once(app.source, app.desk, app.transport, analyser)
    finally:
        analyser.close()
    duty = to(sent(smtp_sink), DUTY)
    assert [(p.get_filename(), p.get_content()) for p in duty.iter_attachments()] == [("首报.zip", archive)]
    staging = app.config.storage_dir() / "staging"
    assert not staging.exists() or not any(staging.iterdir())


def test_a_first_report_in_a_zip_without_reviewers_and_its_final_reminders(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    paragraphs = [f"事发时间：{T0.year}年{T0.month}月{T0.day}日8时05分", "某乡镇一处民房因雨倒塌，1人轻伤。"]
    manuscript = build_docx("【首报】某乡镇民房倒塌", paragraphs, ["撰稿人：盘山县应急管理局孙悦"])
    raw = build_mail(LIAISON, "报送信息", [("首报.zip", build_zip([("民房倒塌.docx", manuscript)]))])
    mails = deliver(app, dovecot, smtp_sink, raw, T0)
    receipt, duty = to(mails, LIAISON), to(mails, DUTY)
    assert "事发后 2小时" in text_of(receipt) and "初审人、复审人" in text_of(receipt)
    attached = [p.get_filename() for p in duty.iter_attachments()]
    assert attached == ["首报.zip"]
    limit = T0 + timedelta(hours=app.config.incidents.final_report_hours)
    assert watch(app.config, app.engine, app.desk.renderer, limit - timedelta(minutes=1)) == 0
    assert watch(app.config, app.engine, app.desk.renderer, limit) == 2
    assert watch(app.config, app.engine, app.desk.renderer, limit + timedelta(hours=1)) == 0
    app.desk.drain_outbox(app.transport)
    mails = sent(smtp_sink)
    assert "【终报提醒】" in str(next(m for m in mails if LIAISON in str(m["To"]))["Subject"])
    assert "尚未报送终报" in text_of(to(mails, DUTY))
    assert watch(app.config, app.engine, app.desk.renderer, limit + timedelta(hours=24)) == 1  # the next reminder


def test_an_unlinked_follow_up_is_held_with_the_candidates_named(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    deliver(app, dovecot, smtp_sink, build_mail(LIAISON, "【首报】道路塌陷", [], body="事发时间：上午9时"), T0)
    mails = deliver(
        app,
        dovecot,
        smtp_sink,
        build_mail(LIAISON, "【续报】道路塌陷", [], body="已封闭道路。"),
        T0 + timedelta(minutes=30),
    )
    held = to(mails, DUTY)  # the duty office is asked at once; the office's held-mail summary lists it too
    assert "道路塌陷" in text_of(to(mails, "office@example.com"))
    assert "待确认" in str(held["Subject"]) and f"SJ-{T0.year}-001《道路塌陷》" in text_of(held)
    # an unknown sender is held as before, whatever its subject says
    mails = deliver(
        app,
        dovecot,
        smtp_sink,
        build_mail("stranger@example.net", "【首报】爆炸", [], body="爆炸"),
        T0 + timedelta(minutes=31),
    )
    assert mails == []  # held; told in the next held-mail summary, at most one per interval
    with Session(app.engine) as s:
        assert [m.reasons for m in s.exec(select(Message).order_by(Message.id))][1:] == [
            "incident_unlinked",
            "unknown_sender",
        ]
