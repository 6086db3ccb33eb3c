"""Shared by the register's tests: an App on real Dovecot and SMTP with items in it, accounts, a client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from mailbot.web import accounts, create_app
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink

PASSWORD = "correct horse battery"
KEY = b"test-key-" + b"x" * 23


def register(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, count: int = 3
) -> App:
    """An App on the test's Dovecot and SMTP sink, `count` of the sample week's mail answered, and
    the two accounts (an officer and a viewer)."""
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    built = build(load_config(write_config(tmp_path, dovecot, smtp_sink)))
    fill(built, dovecot, smtp_sink, count)
    with_accounts(built)
    return built


def fill(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, count: int = 3) -> None:
    """A few liaisons' submissions through the real servers, replies received and forgotten."""
    mail = week_of_mail(app.config.units)[:count]
    for sample in mail:
        dovecot.append(sample.raw)
    poll_once(app.source, app.desk, app.transport)
    smtp_sink.wait_for(sum(1 for sample in mail if sample.verdict != "ignored"))
    smtp_sink.clear()


def with_accounts(app: App) -> None:
    accounts.add(app.engine, "zhangsan", "officer", PASSWORD)
    accounts.add(app.engine, "lisi", "viewer", PASSWORD)


def flask_app(app: App) -> Flask:
    flask = create_app(app, key=KEY)
    flask.testing = False  # errors go through the handlers, as in production
    return flask


def token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "page has no CSRF token"
    return found.group(1)


def sign_in(client: FlaskClient, name: str, password: str = PASSWORD) -> int:
    page = client.get("/login").get_data(as_text=True)
    return client.post("/login", data={"csrf_token": token(page), "name": name, "password": password}).status_code
