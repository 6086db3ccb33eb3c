"""Sender authentication from the receiving server's Authentication-Results (RFC 8601)."""

from __future__ import annotations

import pytest

from mailbot.domain.auth import authenticated

OURS = ["mx.163.com"]


@pytest.mark.parametrize(
    "results, sender, ok",
    [
        (["mx.163.com; spf=pass smtp.mailfrom=liaison@panshan.gov.cn"], "liaison@panshan.gov.cn", True),
        (["mx.163.com; dkim=pass header.d=panshan.gov.cn header.s=s1; spf=fail"], "liaison@panshan.gov.cn", True),
        (["mx.163.com; dmarc=pass (p=none) header.from=163.com"], "someone@163.com", True),
        (["mx.163.com; spf=pass smtp.mailfrom=bounce.mail.panshan.gov.cn"], "liaison@panshan.gov.cn", True),
        (["mx.163.com; spf=fail smtp.mailfrom=liaison@panshan.gov.cn; dkim=none"], "liaison@panshan.gov.cn", False),
        (["mx.163.com; spf=pass smtp.mailfrom=attacker@evil.example"], "liaison@panshan.gov.cn", False),
        (["evil.example; spf=pass smtp.mailfrom=liaison@panshan.gov.cn"], "liaison@panshan.gov.cn", False),
        (["mx.163.com 1; dkim=pass header.i=@panshan.gov.cn"], "liaison@panshan.gov.cn", True),
        ([], "liaison@panshan.gov.cn", False),
        (["MX.163.COM; SPF=PASS smtp.mailfrom=Liaison@Panshan.gov.cn"], "liaison@panshan.gov.cn", True),
    ],
)
def test_authenticated(results: list[str], sender: str, ok: bool) -> None:
    assert authenticated(results, sender, OURS) is ok
