"""One small message cannot stall the mailbox: analysis only in the limited worker, a message that
kills it twice is held, hostile documents are refused before python-docx builds them, a stranger's
attachments are never opened and a rejection keeps no unpacked files. Real Dovecot and SMTP."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import enrolment, office
from mailbot.adapters.db import Item, Message, StoredFile
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.domain.archive import Limits
from mailbot.handover import Analysis
from mailbot.passes import poll_once
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES, week_of_mail
from mailbot.samples.docx import build_docx, with_breaks
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from mailbot.worker import Analyser, analyse_within
from tests.helpers import fetch_whole, write_config
from tests.servers import DovecotServer, SmtpSink

LIAISON = "stz.yjj@example.com"
MARK = b"KILL-THE-WORKER"


def killing_task(raw_path: str, staging: str, limits: Limits, unpack_files: bool, cpu_seconds: int) -> Analysis:
    """In the worker: a message carrying MARK whose attachments are opened dies the way a memory or
    CPU limit kills the worker (SIGKILL / SIGXCPU); any other is analysed as usual."""
    if MARK in Path(raw_path).read_bytes() and unpack_files:
        os.kill(os.getpid(), signal.SIGKILL)
    return analyse_within(raw_path, staging, limits, unpack_files, cpu_seconds)


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return build(load_config(write_config(tmp_path, dovecot, smtp_sink)))


@pytest.fixture
def analyser(app: App) -> Iterator[Analyser]:
    lim = app.config.limits
    worker = Analyser(app.desk.limits, lim.worker_memory_mb, lim.worker_cpu_seconds, task=killing_task)
    yield worker
    worker.close()


def manuscript(docx: bytes, sender: str = LIAISON, extra: bytes = b"") -> bytes:
    title, _body = STORIES["fire"]
    members = [("稿件.docx", docx), ("现场.jpg", make_photo(seed=7))]
    marks = [("X-Test-Mark", extra.decode())] if extra else []
    return build_mail(sender, title, [("稿件.zip", build_zip(members))], headers=marks)


def footer() -> list[str]:
    return ["撰稿人：双台子区应急管理局 王丽", "初审人：李四", "复审人：王五"]


def test_a_message_that_kills_the_worker_twice_is_held_and_the_mailbox_moves_on(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, analyser: Analyser
) -> None:
    samples = week_of_mail(app.config.units)
    killer = manuscript(build_docx(*STORIES["fire"], footer()), extra=MARK)
    dovecot.append(samples[0].raw)
    dovecot.append(killer)
    dovecot.append(samples[6].raw)
    report = poll_once(app.source, app.desk, app.transport, analyser)
    assert [o.verdict for _uid, o in report.outcomes] == [samples[0].verdict, "held", samples[6].verdict]
    with Session(app.engine) as s:
        held = s.exec(select(Message).where(Message.verdict == "held")).one()
        assert (held.reasons, held.analysis_failures, held.sender) == ("analysis_failed", 2, LIAISON)
    office = [m for m in smtp_sink.messages if m.rcpt_tos == ["office@example.com"]]
    assert len(office) == 1 and "两次超出内存或时间上限" in office[0].message.get_body(("plain",)).get_content()


def test_the_messages_queued_behind_a_killer_get_their_own_verdicts(
    app: App, dovecot: DovecotServer, analyser: Analyser
) -> None:
    """Two earlier messages stay with the worker while the next is handed over (IN_FLIGHT): when the
    killer takes the worker down, those queued behind it are analysed again in a fresh one."""
    samples = week_of_mail(app.config.units)
    dovecot.append(manuscript(build_docx(*STORIES["fire"], footer()), extra=MARK))
    for sample in (samples[0], samples[6], samples[1]):
        dovecot.append(sample.raw)
    report = poll_once(app.source, app.desk, app.transport, analyser)
    assert [o.verdict for _uid, o in report.outcomes] == [
        "held",
        samples[0].verdict,
        samples[6].verdict,
        samples[1].verdict,
    ]
    with Session(app.engine) as s:
        assert s.exec(select(Message).where(Message.verdict == "held")).one().analysis_failures == 2


def test_a_message_that_failed_twice_before_a_restart_is_held_without_analysis(
    app: App, dovecot: DovecotServer, analyser: Analyser
) -> None:
    """The worker died on this message twice in earlier runs: the ledger's count says so."""
    dovecot.append(manuscript(build_docx(*STORIES["fire"], footer())))
    app.source.open()
    uidvalidity, (uid,) = app.source.listing()
    from mailbot.ports import MailRef

    ref = MailRef(app.source.key, app.source.folder, uidvalidity, uid)
    pk = app.desk.store_raw(ref, fetch_whole(app.source, uid))
    app.source.close()
    app.desk.count_failure(pk)
    app.desk.count_failure(pk)
    report = poll_once(app.source, app.desk, app.transport, analyser)
    assert [(o.verdict, o.reasons) for _uid, o in report.outcomes] == [("held", ("analysis_failed",))]


def test_four_million_breaks_are_refused_before_the_document_is_built(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, analyser: Analyser
) -> None:
    bomb = with_breaks(build_docx(*STORIES["fire"], footer()), 4_000_000)
    dovecot.append(manuscript(bomb))
    report = poll_once(app.source, app.desk, app.transport, analyser)
    assert [(o.verdict, o.reasons) for _uid, o in report.outcomes] == [("rejection", ("manuscript_too_complex",))]
    (reply,) = smtp_sink.wait_for(1)
    text = reply.message.get_body(("plain",)).get_content()
    assert "结构异常复杂" in text and "另存为" in text


def test_a_strangers_archive_is_never_opened(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, analyser: Analyser
) -> None:
    """The worker dies on MARK only when asked to unpack: a stranger's mail is held for who sent it."""
    dovecot.append(manuscript(build_docx(*STORIES["fire"], footer()), sender="stranger@evil.example", extra=MARK))
    report = poll_once(app.source, app.desk, app.transport, analyser)
    assert [(o.verdict, o.reasons) for _uid, o in report.outcomes] == [("held", ("unknown_sender",))]
    with Session(app.engine) as s:
        assert s.exec(select(StoredFile)).all() == []


def test_a_rejection_keeps_its_raw_message_only(app: App, dovecot: DovecotServer, smtp_sink: SmtpSink) -> None:
    title, body = STORIES["fire"]
    small = build_zip([("稿件.docx", build_docx(title, body, footer())), ("小图.jpg", make_photo(160, 120, seed=4))])
    dovecot.append(build_mail(LIAISON, title, [("a.zip", small)]))
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["rejection"]
    with Session(app.engine) as s:
        assert s.exec(select(StoredFile)).all() == []
    assert not (app.config.storage_dir() / "files").exists() or not any((app.config.storage_dir() / "files").rglob("*"))


def test_held_mail_released_by_the_office_is_opened_only_in_the_limited_worker(
    app: App, dovecot: DovecotServer, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stranger's mail that kills the worker, released by 登记: it stays held (now as analysis_failed),
    nothing is recorded, and the process that confirmed it carries on."""
    stranger = "wangli.new@example.net"
    dovecot.append(manuscript(build_docx("某乡镇开展防汛演练", ["演练内容"], footer()), stranger, MARK))
    poll_once(app.source, app.desk, app.transport)
    monkeypatch.setattr(enrolment, "RELEASE_TASK", killing_task)
    with Session(app.engine) as s:
        held = s.exec(select(Message).where(Message.sender == stranger)).one()
        assert (held.verdict, held.reasons) == ("held", "unknown_sender")
        done = office.enrol(s, "王丽", "双台子区应急管理局", stranger, "test")
        assert done.release == (held.id,)
        app.desk.office.released(s, done)
        s.commit()
    with Session(app.engine) as s:
        after = s.exec(select(Message).where(Message.sender == stranger)).one()
        assert (after.verdict, after.reasons) == ("held", "analysis_failed")
        assert s.exec(select(Item)).all() == []
    assert not app.desk.storage.staging(after.id or 0).exists()
