"""Nobody acts as the office by writing its address in From: forged, spliced and replayed commands
against real Dovecot and SMTP change no record and notify no unit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Adoption, CommandConfirmation, Deduction, Message, utcnow
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.domain.confirm import codes_in
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from mailbot.samples.mail import build_mail
from tests.helpers import write_config
from tests.integration.test_office import CHIEF, parsed, reply_to, text_of
from tests.servers import DovecotServer, SmtpSink

DEDUCT = "扣分 兴隆台区应急管理局 5 信息失实"
OURS = "mx.bureau.test"
AUTHENTICATED = f'[security]\nrequire_authentication = true\ntrusted_authserv_ids = ["{OURS}"]\n'


def make_app(tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink, security: str = "") -> App:
    config = write_config(tmp_path, dovecot, smtp_sink)
    if security:
        text = config.read_text(encoding="utf-8")
        config.write_text(text.replace("[office]", security + "[office]", 1), encoding="utf-8")
    return build(load_config(config))


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return make_app(tmp_path, dovecot, smtp_sink)


def on_top(results: str, raw: bytes, below: str = "") -> bytes:
    """What the receiving server makes of a mail: its own header and Received line on top of the
    sender's bytes, which may carry the sender's own `below` Authentication-Results."""
    sender_part = (f"Authentication-Results: {below}\r\n" if below else "") + raw.decode("ascii")
    return (
        f"Authentication-Results: {results}\r\n"
        f"Received: from mail.evil.example by {OURS}; Mon, 30 Nov 2026 09:00:00 +0800\r\n{sender_part}"
    ).encode("ascii")


def deductions(app: App) -> list[Deduction]:
    with Session(app.engine) as s:
        return list(s.exec(select(Deduction)).all())


def verdicts(app: App) -> list[str]:
    with Session(app.engine) as s:
        return [m.verdict for m in s.exec(select(Message).order_by(Message.id))]


def the_code(smtp_sink: SmtpSink) -> tuple[str, bytes]:
    """The code and the raw confirmation mail that went to the admin's registered address."""
    (asked,) = [m for m in smtp_sink.messages if "请确认" in str(parsed(m.data)["Subject"])]
    assert asked.rcpt_tos == [CHIEF]
    (code,) = codes_in(text_of(parsed(asked.data)))
    return code, asked.data


def test_a_forged_admin_from_changes_nothing_without_the_code(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    dovecot.append(build_mail(CHIEF, "扣分", [], body=DEDUCT))
    dovecot.append(build_mail(CHIEF, "采用", [], body="采用 国家级 2026-0001"))
    poll_once(app.source, app.desk, app.transport)
    assert deductions(app) == []
    assert verdicts(app) == ["awaiting_confirmation", "awaiting_confirmation"]
    sent = smtp_sink.wait_for(2)
    assert all(m.rcpt_tos == [CHIEF] for m in sent)  # only the real admin's mailbox hears of it
    body = text_of(parsed(sent[0].data))
    assert "这条指令还没有执行" in body and "确认码：" in body and "30 分钟内有效" in body
    # the forger, guessing, quotes a wrong code: still nothing
    dovecot.append(build_mail(CHIEF, "确认", [], body="确认码 123456 654321"))
    poll_once(app.source, app.desk, app.transport)
    assert deductions(app) == []
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []


def test_the_round_trip_records_who_and_the_code_works_once(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    dovecot.append(build_mail(CHIEF, "扣分", [], body=DEDUCT))
    poll_once(app.source, app.desk, app.transport)
    code, asked = the_code(smtp_sink)
    smtp_sink.clear()
    dovecot.append(reply_to(parsed(asked), CHIEF, f"确认 {code}"))
    poll_once(app.source, app.desk, app.transport)
    (deduction,) = deductions(app)
    assert (deduction.points, deduction.by, deduction.reason) == (5.0, CHIEF, "信息失实")
    (done,) = smtp_sink.wait_for(1)
    assert done.rcpt_tos == [CHIEF] and "已执行" in text_of(parsed(done.data))
    smtp_sink.clear()
    # the same code again, in a new mail: refused, nothing recorded twice
    dovecot.append(build_mail(CHIEF, "再次确认", [], body=f"确认 {code}"))
    poll_once(app.source, app.desk, app.transport)
    assert len(deductions(app)) == 1
    (again,) = smtp_sink.wait_for(1)
    assert "已经用过" in text_of(parsed(again.data))
    with Session(app.engine) as s:
        row = s.exec(select(CommandConfirmation)).one()
        assert row.used_at is not None and row.admin == CHIEF


def test_an_expired_or_wrong_code_does_nothing(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    dovecot.append(build_mail(CHIEF, "扣分", [], body=DEDUCT))
    poll_once(app.source, app.desk, app.transport)
    code, asked = the_code(smtp_sink)
    smtp_sink.clear()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    dovecot.append(reply_to(parsed(asked), CHIEF, f"确认 {wrong}"))
    poll_once(app.source, app.desk, app.transport)
    assert deductions(app) == []
    (answer,) = smtp_sink.wait_for(1)
    assert "确认码不正确" in text_of(parsed(answer.data))
    smtp_sink.clear()
    app.desk.confirmations.clock = lambda: utcnow() + timedelta(minutes=31)
    dovecot.append(reply_to(parsed(asked), CHIEF, f"确认 {code}"))
    poll_once(app.source, app.desk, app.transport)
    assert deductions(app) == []
    (late,) = smtp_sink.wait_for(1)
    assert "确认码已过期" in text_of(parsed(late.data))


def test_a_forged_pass_below_a_genuine_fail_is_held(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    app = make_app(tmp_path, dovecot, smtp_sink, AUTHENTICATED + "skip_confirmation_when_authenticated = true\n")
    forged = build_mail(CHIEF, "扣分", [], body=DEDUCT)
    genuine_fail = f"{OURS}; spf=fail smtp.mailfrom={CHIEF}; dkim=none; dmarc=fail header.from=example.com"
    dovecot.append(on_top(genuine_fail, forged, below=f"{OURS}; dmarc=pass header.from=example.com"))
    # comment injection: the pass is inside a comment, the real property names another domain
    dovecot.append(on_top(f"{OURS}; dkim=pass (header.d=example.com) header.d=evil.example", forged))
    dovecot.append(forged)  # no header at all
    poll_once(app.source, app.desk, app.transport)
    assert deductions(app) == []
    with Session(app.engine) as s:
        held = s.exec(select(Message).order_by(Message.id)).all()
        assert [(m.verdict, m.reasons) for m in held] == [("held", "unauthenticated")] * 3
    (summary,) = smtp_sink.wait_for(1)
    assert summary.rcpt_tos == ["office@example.com"] and "可能是冒用他人邮箱" in text_of(parsed(summary.data))


def test_a_colleague_with_a_genuine_pass_is_not_an_admin(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    app = make_app(tmp_path, dovecot, smtp_sink, AUTHENTICATED + "skip_confirmation_when_authenticated = true\n")
    liaison = "stz.yjj@example.com"
    dovecot.append(on_top(f"{OURS}; spf=pass smtp.mailfrom={liaison}", week_of_mail(app.config.units)[0].raw))
    poll_once(app.source, app.desk, app.transport)
    (sent,) = smtp_sink.wait_for(1)
    smtp_sink.clear()
    receipt = parsed(sent.data)
    assert sent.rcpt_tos == [liaison]
    colleague = "deputy@example.com"  # same domain as the admin, genuinely authenticated
    mail = reply_to(receipt, colleague, "采用 国家级")
    dovecot.append(on_top(f"{OURS}; dmarc=pass header.from=example.com; spf=pass smtp.mailfrom={colleague}", mail))
    poll_once(app.source, app.desk, app.transport)
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []
        assert s.exec(select(Message).order_by(Message.id.desc())).first().reasons == "command_refused"  # type: ignore[union-attr]
    # the admin, genuinely authenticated, may skip the code where the office set it so
    mail = reply_to(receipt, CHIEF, "采用 国家级")
    dovecot.append(on_top(f"{OURS}; dkim=pass header.d=example.com header.s=k1", mail))
    poll_once(app.source, app.desk, app.transport)
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).one().by == CHIEF
