"""Mail that must never be answered (RFC 3834), and mail that must."""

from __future__ import annotations

import pytest

from mailbot.domain.loops import loop_reason
from mailbot.domain.mime import parse_message
from mailbot.samples.mail import build_mail

OWN = {"pjyjjbgs@163.com"}


@pytest.mark.parametrize(
    "sender, subject, headers, reason",
    [
        ("a@b.cn", "x", [("Auto-Submitted", "auto-replied")], "auto_submitted"),
        ("a@b.cn", "x", [("Auto-Submitted", "auto-generated")], "auto_submitted"),
        ("a@b.cn", "x", [("Precedence", "bulk")], "precedence"),
        ("a@b.cn", "x", [("Precedence", "junk")], "precedence"),
        ("a@b.cn", "x", [("Precedence", "list")], "precedence"),
        ("a@b.cn", "x", [("List-Id", "<l.example.com>")], "list_mail"),
        ("a@b.cn", "x", [("List-Unsubscribe", "<mailto:u@l>")], "list_mail"),
        ("a@b.cn", "x", [("Return-Path", "<>")], "null_return_path"),
        ("a@b.cn", "x", [("X-Autoreply", "yes")], "auto_submitted"),
        ("MAILER-DAEMON@mx.cn", "x", [], "system_sender"),
        ("postmaster@mx.cn", "x", [], "system_sender"),
        ("news-request@lists.cn", "x", [], "system_sender"),
        ("owner-news@lists.cn", "x", [], "system_sender"),
        ("noreply@service.cn", "x", [], "system_sender"),
        ("no-reply@service.cn", "x", [], "system_sender"),
        ("PJYJJBGS@163.com", "x", [], "own_address"),
        ("a@b.cn", "自动回复: 本周信息", [], "auto_subject"),
        ("a@b.cn", "Automatic reply: 本周信息", [], "auto_subject"),
        ("a@b.cn", "系统退信", [], "auto_subject"),
    ],
)
def test_never_answered(sender: str, subject: str, headers: list[tuple[str, str]], reason: str) -> None:
    assert loop_reason(parse_message(build_mail(sender, subject, headers=headers)), own_addresses=OWN) == reason


def test_bounce_report_is_never_answered() -> None:
    raw = (
        b"From: mail@mx.cn\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
        b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
    )
    assert loop_reason(parse_message(raw), own_addresses=OWN) == "bounce"


@pytest.mark.parametrize("headers", [[], [("Auto-Submitted", "no")], [("Precedence", "normal")]])
def test_ordinary_mail_is_answered(headers: list[tuple[str, str]]) -> None:
    mail = parse_message(build_mail("liaison@163.com", "关于开展安全生产月活动的报道", headers=headers))
    assert loop_reason(mail, own_addresses=OWN) is None
