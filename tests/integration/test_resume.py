"""A pass that dies part-way, then a new pass: exactly one reply and one item per message."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from mailbot.adapters.db import Item, Message, Outbox
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.ports import MailRef
from mailbot.samples.corpus import week_of_mail
from tests.helpers import fetch_whole, ingest, write_config
from tests.servers import DovecotServer, SmtpSink


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return build(load_config(write_config(tmp_path, dovecot, smtp_sink)))


def first_ref(app: App) -> tuple[MailRef, bytes]:
    app.source.open()
    try:
        uidvalidity, uids = app.source.listing()
        ref = MailRef(app.source.key, app.source.folder, uidvalidity, uids[0])
        return ref, fetch_whole(app.source, uids[0])
    finally:
        app.source.close()


def counts(app: App) -> tuple[int, int, int]:
    with Session(app.engine) as s:
        return (
            s.exec(select(func.count()).select_from(Message)).one(),
            s.exec(select(func.count()).select_from(Item)).one(),
            s.exec(select(func.count()).select_from(Outbox)).one(),
        )


@pytest.mark.parametrize("stage", ["stored", "recorded", "filed_unmarked"])
def test_resume_after_dying_at_each_stage(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, stage: str) -> None:
    good = week_of_mail(app.config.units)[0]
    dovecot.append(good.raw)
    ref, raw = first_ref(app)
    if stage == "stored":
        app.desk.store_raw(ref, raw)  # raw kept, then the process died before parsing
    else:
        ingest(app.desk, ref, raw)  # verdict and reply committed, then died before filing the message
    if stage == "filed_unmarked":  # moved on the server, died before the ledger said so
        app.source.open()
        app.source.listing()
        app.source.file(ref.uid, app.config.mailbox.processed_folder)
        app.source.close()

    report = poll_once(app.source, app.desk, app.transport)
    poll_once(app.source, app.desk, app.transport)

    assert len(smtp_sink.wait_for(1)) == 1
    assert counts(app) == (1, 1, 1)
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids("mailbot.processed")) == 1
    assert len(report.outcomes) == (0 if stage == "filed_unmarked" else 1)
    with Session(app.engine) as s:
        row = s.exec(select(Message)).one()
        assert app.desk.storage.get(row.raw_path) == raw


def test_same_bytes_under_a_new_uid_are_not_answered_again(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    """A UIDVALIDITY reset or a message copied back to INBOX must not produce a second reply."""
    good = week_of_mail(app.config.units)[0]
    dovecot.append(good.raw)
    poll_once(app.source, app.desk, app.transport)
    dovecot.append(good.raw)
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["seen_before"]
    assert len(smtp_sink.messages) == 1
    assert counts(app)[1] == 1


def test_smtp_temporary_failure_is_retried_permanent_is_not(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    samples = week_of_mail(app.config.units)
    dovecot.append(samples[0].raw)
    smtp_sink.fail_next(1, "451 4.3.0 Try again later")
    poll_once(app.source, app.desk, app.transport)
    with Session(app.engine) as s:
        row = s.exec(select(Outbox)).one()
        assert (row.state, row.attempts) == ("pending", 1) and "451" in row.last_error
        row.next_attempt_at = row.created_at  # the backoff has passed
        s.add(row)
        s.commit()
    assert app.desk.drain_outbox(app.transport) == 1
    assert len(smtp_sink.messages) == 1

    dovecot.append(samples[1].raw)
    smtp_sink.fail_next(1, "554 DT:SPM 163 mx13, content rejected as spam")
    poll_once(app.source, app.desk, app.transport)  # the reply is refused; the office is told instead
    assert app.desk.drain_outbox(app.transport) == 0  # and nothing is retried
    with Session(app.engine) as s:
        failed = s.exec(select(Outbox).where(Outbox.state == "failed")).one()
        assert "DT:SPM" in failed.last_error
    (first, report) = smtp_sink.messages
    assert report.rcpt_tos == ["office@example.com"]
    body = report.message.get_body(("plain",)).get_content()
    assert "未能送达" in body and "DT:SPM" in body and failed.recipients in body


def test_smtp_down_then_up_sends_in_order(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    samples = [s for s in week_of_mail(app.config.units) if s.verdict in ("receipt", "rejection")][:3]
    smtp_sink.stop()
    for sample in samples:
        dovecot.append(sample.raw)
    poll_once(app.source, app.desk, app.transport)
    smtp_sink.start()
    with Session(app.engine) as s:
        for row in s.exec(select(Outbox)):
            row.next_attempt_at = row.created_at
            s.add(row)
        s.commit()
    assert app.desk.drain_outbox(app.transport) == 3
    got = [m.message["In-Reply-To"] for m in smtp_sink.wait_for(3)]
    with Session(app.engine) as s:
        expected = [
            s.get(Message, o.message_pk).message_id  # type: ignore[union-attr]
            for o in s.exec(select(Outbox).order_by(Outbox.id))
        ]
    assert got == expected


def test_a_message_that_meets_a_bug_is_held_not_retried_forever(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    samples = week_of_mail(app.config.units)
    dovecot.append(samples[0].raw)
    dovecot.append(samples[1].raw)

    poisoned = str(dovecot.uids("INBOX")[0])
    first = app.desk._decide

    def once(s, row, *rest):  # type: ignore[no-untyped-def]
        if row.uid == poisoned:
            raise KeyError("a bug only this message meets")
        return first(s, row, *rest)

    monkeypatch.setattr(app.desk, "_decide", once)
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["held", "receipt"]
    to_office = [m for m in smtp_sink.messages if m.rcpt_tos == ["office@example.com"]]
    assert "系统处理这封邮件时出错" in to_office[0].message.get_body(("plain",)).get_content()
