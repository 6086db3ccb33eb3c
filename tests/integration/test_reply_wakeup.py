"""The daemon's sender is woken as each message is filed, not when the whole pass is over: in a backlog
the first liaison's receipt need not wait for the hundredth message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from mailbot.adapters.db import Message, Outbox
from mailbot.bootstrap import build
from mailbot.config import load_config
from mailbot.domain.vocabulary import MessageState
from mailbot.passes import ingest_pass
from mailbot.samples.corpus import week_of_mail
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink


def test_each_reply_is_ready_to_send_as_its_message_is_filed(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    app = build(load_config(write_config(tmp_path, dovecot, smtp_sink)))
    answered = [s for s in week_of_mail(app.config.units) if s.verdict in ("receipt", "rejection")][:3]
    for sample in answered:
        dovecot.append(sample.raw)
    at_wakeup: list[tuple[int, int]] = []

    def recorded() -> None:  # what the sender would find if it woke now: replies queued, messages filed
        with Session(app.engine) as s:
            queued = s.exec(select(func.count()).select_from(Outbox)).one()
            filed = s.exec(select(func.count()).select_from(Message).where(Message.state == MessageState.FILED)).one()
            at_wakeup.append((queued, filed))

    app.source.open()
    try:
        results = ingest_pass(app.source, app.desk, recorded=recorded)
    finally:
        app.source.close()
    assert [outcome.verdict for _uid, outcome in results] == [s.verdict for s in answered]
    assert at_wakeup == [(1, 1), (2, 2), (3, 3)]  # woken once per message, replied to and filed
