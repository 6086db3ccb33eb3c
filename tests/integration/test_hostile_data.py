"""Data can never stop a digest: a sender's control characters reach a rejection reason but not the
workbook's refusal, and one report that fails to build does not hold back the others."""

from __future__ import annotations

import email
import email.policy
import io
import threading
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from mailbot import digest_mail, schedule
from mailbot.adapters.db import Message, Outbox, make_engine
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from tests.helpers import write_config
from tests.integration.test_digests import app  # noqa: F401 - the seeded November fixture
from tests.integration.test_real_world_mail import BODY, FOOTER, SENDER, TITLE
from tests.servers import DovecotServer, SmtpSink


def test_a_control_character_in_a_file_name_cannot_stop_the_weekly_digest(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    archive = build_zip([("稿件.docx", build_docx(TITLE, BODY, FOOTER)), ("现场\x01照片.jpg", b"not a jpeg at all")])
    dovecot.append(build_mail(SENDER, TITLE, [("报送.zip", archive)]))
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    with Session(make_engine(load_config(config_path).database_url())) as s:
        (row,) = s.exec(select(Message)).all()
    assert row.verdict == "rejection" and "photo_broken" in row.reasons
    assert "\x01" not in row.problems and "现场?照片.jpg" in row.problems
    week = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%G-W%V")
    for kind, period in (
        ("weekly", week),
        ("monthly", week[:4] + datetime.now(ZoneInfo("Asia/Shanghai")).strftime("-%m")),
    ):
        out = tmp_path / kind
        assert main(["--config", str(config_path), "digest", kind, "--period", period, "--out", str(out)]) == 0
        (xlsx,) = out.glob("*.xlsx")
        book = load_workbook(io.BytesIO(xlsx.read_bytes()))
        cells = [str(c.value) for ws in book.worksheets for r in ws.iter_rows() for c in r if c.value]
        assert any("现场?照片.jpg" in c for c in cells), kind


def test_one_failing_report_is_told_to_the_office_and_the_others_still_go_out(
    app: schedule.App,  # noqa: F811
    smtp_sink: SmtpSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_render = digest_mail.render

    def render(config, engine, renderer, kind, period):  # type: ignore[no-untyped-def]
        if kind == "weekly":
            raise ValueError("a cell the workbook refuses")
        return real_render(config, engine, renderer, kind, period)

    monkeypatch.setattr(digest_mail, "render", render)
    monkeypatch.setattr(schedule, "local_today", lambda _app: date(2026, 12, 1))  # after W48 and November
    schedule.daily(app, threading.Event())
    app.desk.drain_outbox(app.transport)
    subjects = [
        str(email.message_from_bytes(m.data, policy=email.policy.default)["Subject"]) for m in smtp_sink.messages
    ]
    assert "【局办公室】2026年11月政务信息报送情况通报" in subjects
    assert "【未能生成】2026-W48 周报" in subjects
    assert all(m.rcpt_tos == ["office@example.com"] for m in smtp_sink.messages)
    with Session(app.engine) as s:
        notice = s.exec(select(Outbox).where(Outbox.kind == "job_failed")).one()
    body = email.message_from_bytes(notice.raw, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "mailbot digest weekly --period 2026-W48" in body and "其他报告和提醒已照常发出" in body


def test_run_by_hand_nothing_is_readable_by_other_local_users(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    import os
    import stat
    import subprocess
    import sys

    config_path = write_config(tmp_path, dovecot, smtp_sink)
    dovecot.append(
        build_mail(SENDER, TITLE, [("报送.zip", build_zip([("稿件.docx", build_docx(TITLE, BODY, FOOTER))]))])
    )
    result = subprocess.run(
        [sys.executable, "-m", "mailbot", "--config", str(config_path), "poll", "--once"],
        env={**os.environ, "TEST_IMAP_PASSWORD": dovecot.password},
        preexec_fn=lambda: os.umask(0o022),  # a typical login shell's umask
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    written = [p for p in tmp_path.rglob("*") if p.name != "config.toml"]
    on_sqlite = load_config(config_path).database_url().startswith("sqlite")
    assert any(p.suffix == ".eml" for p in written)
    assert any(p.name.endswith(".db") for p in written) or not on_sqlite
    world = [str(p) for p in written if stat.S_IMODE(p.stat().st_mode) & 0o007]
    assert world == []


@pytest.fixture
def tiny_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 2 MB filesystem (tmpfs) as the storage directory, so a write meets a real ENOSPC."""
    import subprocess

    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        import os

        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs to fill: {done.stderr!r}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_said_once_leaves_no_partial_files_and_backs_off(
    dovecot: DovecotServer,
    smtp_sink: SmtpSink,
    tmp_path: Path,
    tiny_disk: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import logging

    from mailbot import daemon as daemon_module
    from mailbot.bootstrap import build
    from mailbot.samples.photos import make_photo

    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    config_path.write_text(config_path.read_text(encoding="utf-8").replace('dir = "storage"', f'dir = "{tiny_disk}"'))
    (tiny_disk / "filler").write_bytes(b"\0" * (1900 * 1024))  # leaves less than the message needs
    photo = make_photo(1600, 1200, seed=77)
    archive = build_zip([("稿件.docx", build_docx(TITLE, BODY, FOOTER)), ("现场.jpg", photo)])
    dovecot.append(build_mail(SENDER, TITLE, [("报送.zip", archive)]))

    delays: list[float] = []
    enough = threading.Event()
    real_next = daemon_module.Backoff.next

    def next_delay(self: daemon_module.Backoff) -> float:
        delays.append(real_next(self))
        if len(delays) >= 4:
            enough.set()
        return 0.01  # the test does not wait the real delays; it reads what they would have been

    monkeypatch.setattr(daemon_module.Backoff, "next", next_delay)
    desk_app = build(load_config(config_path))
    runner = daemon_module.Daemon(desk_app)
    assert runner.leadership.try_acquire()
    caplog.set_level(logging.INFO, logger="mailbot")
    thread = threading.Thread(target=runner._ingest_loop)  # noqa: SLF001 - the loop under test, no scheduler
    thread.start()
    try:
        assert enough.wait(60), delays
    finally:
        runner.stop.set()
        thread.join(30)
        runner.leadership.release()
    assert delays[:4] == [2.0, 4.0, 8.0, 16.0], "the back-off was reset by a login that could not store"
    assert [p.name for p in tiny_disk.rglob("*.tmp")] == []
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "is full" in errors[0] and "mailbox" not in errors[0].split(":")[0]
    with Session(desk_app.engine) as s:
        notices = s.exec(select(Outbox).where(Outbox.kind == "storage_full")).all()
    assert len(notices) == 1 and notices[0].recipients == "office@example.com"
    # Space freed: the next pass stores, records and answers the waiting message.
    (tiny_disk / "filler").unlink()
    runner.stop.clear()
    assert runner.leadership.try_acquire()
    thread = threading.Thread(target=runner._ingest_loop)  # noqa: SLF001
    thread.start()
    try:
        deadline = 60
        import time

        start = time.monotonic()
        while time.monotonic() - start < deadline:
            with Session(desk_app.engine) as s:
                if s.exec(select(Message).where(Message.state == "filed")).first():
                    break
            runner.stop.wait(0.1)
    finally:
        runner.stop.set()
        thread.join(30)
        runner.leadership.release()
    with Session(desk_app.engine) as s:
        (row,) = s.exec(select(Message)).all()
    assert row.verdict == "receipt" and row.state == "filed"


def test_a_message_over_the_limit_is_refused_by_its_size_without_being_fetched(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mailbot.samples.photos import make_photo

    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace("[office]", "[limits]\nmax_message_bytes = 65536\n[office]", 1)
    )
    photos = [(f"现场{n}.jpg", make_photo(1600, 1200, seed=70 + n)) for n in range(3)]
    archive = build_zip([("稿件.docx", build_docx(TITLE, BODY, FOOTER)), *photos])
    raw = build_mail(SENDER, TITLE, [("报送.zip", archive)])
    assert len(raw) > 200_000
    dovecot.append(raw)
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    (reply,) = smtp_sink.wait_for(1)
    assert reply.rcpt_tos == [SENDER]
    text = email.message_from_bytes(reply.data, policy=email.policy.default).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "邮件过大" in text and "没有附件" not in text
    config = load_config(config_path)
    with Session(make_engine(config.database_url())) as s:
        (row,) = s.exec(select(Message)).all()
    assert (row.verdict, row.reasons) == ("rejection", "oversized_message")
    assert row.size >= len(raw) - 100  # the size the server reported (line endings may differ)
    kept = (config.storage_dir() / row.raw_path).read_bytes()
    assert len(kept) < 4096 and b"Subject:" in kept  # only the header was fetched and stored
    assert dovecot.uids("INBOX") == []
    (on_server,) = dovecot.fetch_all("mailbot.rejected")  # the whole mail stays on the server
    assert len(on_server) >= len(raw) - 100
