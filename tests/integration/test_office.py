"""Office actions by email (admins only) and on the command line, against real Dovecot and SMTP."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Adoption, Deduction, Item, Message, Review
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from mailbot.samples.mail import build_mail
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink

CHIEF = "chief@example.com"


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return build(load_config(write_config(tmp_path, dovecot, smtp_sink)))


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(msg: EmailMessage) -> str:
    body = msg.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def submit_one(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> EmailMessage:
    dovecot.append(week_of_mail(app.config.units)[0].raw)
    poll_once(app.source, app.desk, app.transport)
    (receipt,) = smtp_sink.wait_for(1)
    smtp_sink.clear()
    return parsed(receipt.data)


def reply_to(receipt: EmailMessage, sender: str, body: str) -> bytes:
    return build_mail(
        sender,
        f"Re: {receipt['Subject']}",
        [],
        body=body + "\n\n> 原回执内容……",
        headers=[("In-Reply-To", str(receipt["Message-ID"])), ("References", str(receipt["Message-ID"]))],
    )


def confirm(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, sender: str = CHIEF) -> None:
    """Answer the confirmation mail the way a person does: reply, quoting it (and so its code)."""
    asked = [m for m in smtp_sink.wait_for(1) if "请确认" in str(parsed(m.data)["Subject"])][-1]
    smtp_sink.clear()
    quoted = "\n".join("> " + line for line in text_of(parsed(asked.data)).splitlines())
    dovecot.append(reply_to(parsed(asked.data), sender, "确认\n" + quoted))
    poll_once(app.source, app.desk, app.transport)


def test_admin_adopts_by_replying_to_a_receipt(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    receipt = submit_one(app, dovecot, smtp_sink)
    dovecot.append(reply_to(receipt, CHIEF, "采用 省级 《辽宁信息》第5期"))
    poll_once(app.source, app.desk, app.transport)
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []  # nothing is done on the strength of From alone
    confirm(app, dovecot, smtp_sink)
    got = {m.rcpt_tos[0]: parsed(m.data) for m in smtp_sink.wait_for(2)}
    assert "已执行：信息 2026-0001" in text_of(got[CHIEF]) or "已执行：信息" in text_of(got[CHIEF])
    assert "省级采用（《辽宁信息》第5期）" in text_of(got[CHIEF])
    notice = got["stz.yjj@example.com"]
    assert "已被省级采用" in str(notice["Subject"]) and "加 3 分" in text_of(notice)
    assert notice["Auto-Submitted"] == "auto-generated"
    with Session(app.engine) as s:
        adoption = s.exec(select(Adoption)).one()
        assert (adoption.level, adoption.by, adoption.publication) == ("province", CHIEF, "《辽宁信息》第5期")
        verdicts = [m.verdict for m in s.exec(select(Message).order_by(Message.id))]
    assert verdicts == ["receipt", "awaiting_confirmation", "command"]


def test_a_liaison_cannot_give_commands(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    receipt = submit_one(app, dovecot, smtp_sink)
    dovecot.append(reply_to(receipt, "stz.yjj@example.com", "采用 国家级"))
    poll_once(app.source, app.desk, app.transport)
    (report,) = smtp_sink.wait_for(1)
    assert report.rcpt_tos == ["office@example.com"]
    assert "不在 [office] admins 名单中" in text_of(parsed(report.data))
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []
        assert s.exec(select(Message).where(Message.verdict == "held")).one().reasons == "command_refused"


def test_a_liaison_question_is_held_not_rejected(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    receipt = submit_one(app, dovecot, smtp_sink)
    dovecot.append(reply_to(receipt, "stz.yjj@example.com", "请问照片需要几张？"))
    poll_once(app.source, app.desk, app.transport)
    (report,) = smtp_sink.wait_for(1)
    assert report.rcpt_tos == ["office@example.com"] and "回复了系统发出的邮件" in text_of(parsed(report.data))


def test_admin_returns_by_number_and_bad_commands_explain_themselves(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    submit_one(app, dovecot, smtp_sink)
    dovecot.append(build_mail(CHIEF, "终审", [], body="退回 2026-0001 数据有误，请核实伤亡人数"))
    dovecot.append(build_mail(CHIEF, "采用", [], body="采用 2026-0001"))
    poll_once(app.source, app.desk, app.transport)
    (bad,) = [text_of(parsed(m.data)) for m in smtp_sink.wait_for(2) if "请确认" not in str(parsed(m.data)["Subject"])]
    assert "未能执行" in bad and "需要写明级别" in bad  # a malformed command is explained at once
    confirm(app, dovecot, smtp_sink)
    got = [(m.rcpt_tos, text_of(parsed(m.data))) for m in smtp_sink.wait_for(2)]
    assert any(to == [CHIEF] and "已退回，原因：数据有误，请核实伤亡人数" in t for to, t in got)
    assert any(to == ["stz.yjj@example.com"] and "终审退回" in t for to, t in got)
    with Session(app.engine) as s:
        assert s.exec(select(Item)).one().status == "returned"
        assert s.exec(select(Review)).one().by == CHIEF


def test_cli_actions_are_recorded_with_who_and_when(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    submit_one(app, dovecot, smtp_sink)
    config = str(tmp_path / "config.toml")
    assert (
        main(["--config", config, "adopt", "2026-0001", "--level", "city", "--by", "王主任", "--date", "2026-11-20"])
        == 0
    )
    assert main(["--config", config, "adopt", "2026-0001", "--level", "city"]) == 1
    assert "已经登记过" in capsys.readouterr().out
    assert main(["--config", config, "review", "2026-0001", "approve"]) == 0
    assert main(["--config", config, "deduct", "兴隆台区应急局", "0.5", "--reason", "信息失实"]) == 0
    assert main(["--config", config, "solicit", "冬季安全生产", "--deadline", "2026-12-10"]) == 0
    assert main(["--config", config, "grade", "2026-0001", "2"]) == 1  # not a solicited item
    capsys.readouterr()
    assert main(["--config", config, "show", "2026-0001"]) == 0
    shown = capsys.readouterr().out
    assert "市级 " in shown and "王主任" in shown and "终审通过" in shown and "张三" in shown
    assert "常规信息" in shown and "routine" not in shown and "manuscript" not in shown  # the office's words
    assert main(["--config", config, "items", "--status", "已终审"]) == 0
    assert "共 1 条" in capsys.readouterr().out
    with Session(app.engine) as s:
        deduction = s.exec(select(Deduction)).one()
        assert (deduction.points, deduction.reason) == (0.5, "信息失实") and deduction.by.startswith("cli:")
    notices = [parsed(m.data) for m in smtp_sink.wait_for(1)]
    assert "已被市级采用" in str(notices[0]["Subject"])


def test_a_solicited_piece_names_its_request(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(tmp_path / "config.toml")
    assert main(["--config", config, "solicit", "冬季安全生产", "--deadline", "2026-12-10"]) == 0
    good = week_of_mail(app.config.units)[0]
    dovecot.append(good.raw.replace(b"Subject: ", b"Subject: =?utf-8?B?44CQ57qm56i/44CR5Yas5a2j5a6J5YWo55Sf5Lqn?= ", 1))
    poll_once(app.source, app.desk, app.transport)
    with Session(app.engine) as s:
        item = s.exec(select(Item)).one()
        assert item.solicitation_id is not None
    assert main(["--config", config, "grade", item.number, "3"]) == 0
    capsys.readouterr()
    assert main(["--config", config, "solicitations"]) == 0
    listing = capsys.readouterr().out
    assert "《冬季安全生产》 截止 2026-12-10" in listing
    assert f"双台子区应急管理局 {item.number}" in listing and "3 分" in listing
    assert "未报送：兴隆台区应急管理局" in listing  # asked of every unit; only one has answered
