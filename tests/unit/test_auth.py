"""Sender authentication from the receiving server's Authentication-Results (RFC 8601), on raw header lists."""

from __future__ import annotations

import pytest

from mailbot.domain.auth import authenticated, parse_results, strip_comments, topmost

OURS = ["mx.163.com"]
AR = "Authentication-Results"
RECEIVED = ("Received", "from evil.example by mx.163.com; Mon, 2 Nov 2026 09:00:00 +0800")


def top(value: str) -> list[tuple[str, str]]:
    """Our server's header on top, then its Received line, then the sender's own headers."""
    return [(AR, value), RECEIVED, ("From", "x@y"), ("Subject", "s")]


@pytest.mark.parametrize(
    "value, sender, ok",
    [
        ("mx.163.com; spf=pass smtp.mailfrom=liaison@panshan.gov.cn", "liaison@panshan.gov.cn", True),
        ("mx.163.com; dkim=pass header.d=panshan.gov.cn header.s=s1; spf=fail", "liaison@panshan.gov.cn", True),
        ("mx.163.com; dmarc=pass (p=none) header.from=163.com", "someone@163.com", True),
        ("mx.163.com; spf=fail smtp.mailfrom=liaison@panshan.gov.cn; dkim=none", "liaison@panshan.gov.cn", False),
        ("mx.163.com; spf=pass smtp.mailfrom=attacker@evil.example", "liaison@panshan.gov.cn", False),
        ("evil.example; spf=pass smtp.mailfrom=liaison@panshan.gov.cn", "liaison@panshan.gov.cn", False),
        ("mx.163.com 1; dkim=pass header.i=@panshan.gov.cn", "liaison@panshan.gov.cn", True),
        ("MX.163.COM; SPF=PASS smtp.mailfrom=Liaison@Panshan.gov.cn", "liaison@panshan.gov.cn", True),
        # a subdomain or a parent domain is not the From domain
        ("mx.163.com; spf=pass smtp.mailfrom=bounce.mail.panshan.gov.cn", "liaison@panshan.gov.cn", False),
        ("mx.163.com; dkim=pass header.d=gov.cn", "liaison@panshan.gov.cn", False),
        ("mx.163.com; dmarc=pass", "someone@163.com", False),  # a pass about no domain proves nothing
        # properties inside comments are not properties
        ("mx.163.com; dkim=pass (header.d=panshan.gov.cn) header.d=evil.example", "liaison@panshan.gov.cn", False),
        ("mx.163.com; spf=fail (spf=pass smtp.mailfrom=liaison@panshan.gov.cn)", "liaison@panshan.gov.cn", False),
        ("mx.163.com; dkim=fail header.d=other.example; dkim=pass header.d=panshan.gov.cn", "l@panshan.gov.cn", True),
    ],
)
def test_one_header_from_our_server(value: str, sender: str, ok: bool) -> None:
    assert authenticated(top(value), sender, OURS) is ok


def test_no_header_is_no_authentication() -> None:
    assert not authenticated([("From", "chief@example.com"), ("Subject", "扣分")], "chief@example.com", OURS)


def test_a_forged_pass_below_a_genuine_fail_is_not_believed() -> None:
    headers = [
        (AR, "mx.163.com; spf=fail smtp.mailfrom=chief@example.com; dkim=none; dmarc=fail header.from=example.com"),
        RECEIVED,
        (AR, "mx.163.com; dmarc=pass header.from=example.com"),  # the sender's own, written before sending
        ("From", "chief@example.com"),
    ]
    assert not authenticated(headers, "chief@example.com", OURS)
    assert topmost(headers, OURS) == [headers[0][1]]


def test_a_trusted_header_below_any_other_header_is_ignored() -> None:
    headers = [("Received", "by mx.163.com"), (AR, "mx.163.com; dmarc=pass header.from=example.com")]
    assert not authenticated(headers, "chief@example.com", OURS)


def test_a_foreign_header_on_top_ends_the_run() -> None:
    headers = [(AR, "relay.evil; none"), (AR, "mx.163.com; dmarc=pass header.from=example.com")]
    assert not authenticated(headers, "chief@example.com", OURS)


def test_delivery_headers_and_several_of_our_headers_on_top_count() -> None:
    headers = [
        ("Return-Path", "<chief@example.com>"),
        ("Delivered-To", "bureau@163.com"),
        (AR, "mx.163.com; spf=none"),
        (AR, "mx.163.com; dkim=pass header.d=example.com"),
        RECEIVED,
    ]
    assert authenticated(headers, "chief@example.com", OURS)


def test_the_first_result_about_the_domain_decides() -> None:
    headers = [
        (AR, "mx.163.com; dkim=fail header.d=example.com"),
        (AR, "mx.163.com; dkim=pass header.d=example.com"),
    ]
    assert not authenticated(headers, "chief@example.com", OURS)


def test_comments_are_removed_with_nesting_and_quotes_kept() -> None:
    assert strip_comments('a (b (c) d) e "(f)"').split() == ["a", "e", '"(f)"']
    authserv, results = parse_results("mx.163.com (our server); dkim/1=pass (good) header.d=example.com reason=x")
    assert authserv == "mx.163.com"
    assert [(r.method, r.result, r.properties) for r in results] == [("dkim", "pass", (("header.d", "example.com"),))]


def test_a_sender_without_a_domain_is_never_authenticated() -> None:
    assert not authenticated(top("mx.163.com; spf=pass smtp.mailfrom=@"), "", OURS)
