"""The SMTP transport against a real SMTP server: replies go out on a new connection after each round of
the outbox, so what a connection costs is paid per reply. A plain connection needs no TLS context, and a
TLS one is made once per transport (loading the system's CA certificates took 30-60 ms per reply)."""

from __future__ import annotations

import ssl

import pytest

from mailbot.adapters.smtp import SmtpTransport
from mailbot.config import SmtpConfig
from tests.servers import SmtpSink

RAW = "From: a@example.com\r\nTo: b@example.com\r\nSubject: 回执\r\n\r\n已收到。\r\n".encode()


def test_plain_sessions_send_without_a_tls_context(smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> ssl.SSLContext:
        raise AssertionError("a plain SMTP session made a TLS context")

    monkeypatch.setattr(ssl, "create_default_context", refuse)
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=smtp_sink.port, security="none"))
    for n in (1, 2):
        transport.send("a@example.com", ["b@example.com"], RAW)
        transport.close()  # as after each round of the outbox
        assert len(smtp_sink.wait_for(n)) == n


def test_one_tls_context_serves_every_session(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[ssl.SSLContext] = []
    real = ssl.create_default_context

    def counted() -> ssl.SSLContext:
        made.append(real())
        return made[-1]

    monkeypatch.setattr(ssl, "create_default_context", counted)
    transport = SmtpTransport(SmtpConfig(host="127.0.0.1", port=1, security="ssl"))
    first, second = transport.tls(), transport.tls()
    assert first is second and made == [first]
    assert first.verify_mode == ssl.CERT_REQUIRED and first.check_hostname  # still the verified default
