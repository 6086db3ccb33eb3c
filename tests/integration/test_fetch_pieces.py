"""A large message comes from real Dovecot in partial FETCHes and is stored byte for byte: the
daemon holds one piece at a time, never the whole message, and the verdict is the same."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Item, Message
from mailbot.adapters.imap import ImapSource
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from tests.helpers import fetch_whole, write_config
from tests.servers import DovecotServer, SmtpSink


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return build(load_config(write_config(tmp_path, dovecot, smtp_sink)))


def asked(source: ImapSource, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every FETCH the source sends for a message's bytes, as it sends them to the server."""
    sent: list[list[str]] = []
    fetch = source._fetch  # noqa: SLF001

    def recorded(uid: str, items: list[str], key: bytes) -> dict[bytes, Any]:
        sent.append(items)
        return fetch(uid, items, key)

    monkeypatch.setattr(source, "_fetch", recorded)
    return sent


def receipt_sample(app: App) -> bytes:
    return next(s.raw for s in week_of_mail(app.config.units) if s.verdict == "receipt")


def test_a_message_larger_than_a_piece_is_fetched_in_pieces_and_stored_byte_for_byte(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = app.source
    assert isinstance(source, ImapSource)
    dovecot.append(receipt_sample(app))
    (on_server,) = dovecot.fetch_all()
    source.chunk = 64 * 1024
    sent = asked(source, monkeypatch)
    poll_once(source, app.desk, app.transport)
    with Session(app.engine) as s:
        message = s.exec(select(Message)).one()
        item = s.exec(select(Item)).one()
        assert message.verdict == "receipt" and item.received_at == message.received_at
    assert message.sha256 == hashlib.sha256(on_server).hexdigest() and message.size == len(on_server)
    assert app.desk.storage.get(message.raw_path) == on_server
    pieces = -(-len(on_server) // source.chunk)
    assert len(sent) == pieces + (len(on_server) % source.chunk == 0) >= 3
    assert sent[0] == [f"BODY.PEEK[]<0.{source.chunk}>", "INTERNALDATE"]
    assert sent[1] == [f"BODY.PEEK[]<{source.chunk}.{source.chunk}>"]
    assert smtp_sink.wait_for(1)[0].rcpt_tos != ["office@example.com"]  # the liaison's receipt


def test_a_message_of_whole_pieces_ends_with_an_empty_one(
    app: App, dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the message is an exact multiple of the piece, the last FETCH answers nothing and the
    stored message is still exactly the server's."""
    source = app.source
    assert isinstance(source, ImapSource)
    dovecot.append(b"Subject: =?utf-8?b?5rWL6K+V?=\r\nFrom: a@example.com\r\n\r\n" + b"x" * 4000 + b"\r\n")
    (on_server,) = dovecot.fetch_all()
    source.chunk = len(on_server) // 2 if len(on_server) % 2 == 0 else len(on_server)
    sent = asked(source, monkeypatch)
    source.open()
    try:
        assert fetch_whole(source, source.listing()[1][0]) == on_server
    finally:
        source.close()
    assert len(sent) == len(on_server) // source.chunk + 1


def test_a_message_smaller_than_a_piece_is_one_fetch_as_before(
    app: App, dovecot: DovecotServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = app.source
    assert isinstance(source, ImapSource)
    dovecot.append(receipt_sample(app))
    (on_server,) = dovecot.fetch_all()
    assert len(on_server) < source.chunk
    sent = asked(source, monkeypatch)
    source.open()
    try:
        fetched = source.fetch(source.listing()[1][0])
        assert fetched.arrived is not None and b"".join(fetched.parts) == on_server
    finally:
        source.close()
    assert len(sent) == 1
