"""Faults from outside: a connection cut mid-FETCH, a UIDVALIDITY change, a sender who floods."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Message
from mailbot.bootstrap import build
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.ports import MailRef
from mailbot.samples.corpus import week_of_mail
from tests.helpers import check_exactly_once, fetch_whole, ingest, poll, write_config
from tests.servers import DovecotServer, SmtpSink, free_port


class CuttingProxy:
    """A TCP proxy in front of Dovecot that drops its first connection after `cut_after` bytes from
    the server (in the middle of a FETCH), then passes later connections through."""

    def __init__(self, target_port: int, cut_after: int) -> None:
        self.port, self.target, self.cut_after = free_port(), target_port, cut_after
        self.cuts = 0
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.target))
            limit = self.cut_after if self.cuts == 0 else None
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, limit), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        seen = 0
        try:
            while data := src.recv(65536):
                seen += len(data)
                if limit is not None and seen > limit:
                    self.cuts += 1
                    break
                dst.sendall(data)
        except OSError:
            pass
        for sock in (src, dst):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        self.listener.close()


def test_connection_cut_mid_fetch(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    proxy = CuttingProxy(dovecot.port, cut_after=150_000)
    try:
        config = write_config(tmp_path, dovecot, smtp_sink)
        config.write_text(
            config.read_text(encoding="utf-8").replace(f"port = {dovecot.port}", f"port = {proxy.port}"),
            encoding="utf-8",
        )
        raws = [s.raw for s in week_of_mail(load_config(config).units)[:2]]  # ~1 MB each: the cut lands in FETCH
        for raw in raws:
            dovecot.append(raw)
        cut = poll(config, dovecot.password)
        out, _ = cut.communicate(timeout=120)
        assert proxy.cuts == 1
        assert cut.returncode == 1 and "poll stopped" in out and "Traceback" not in out, out
        assert smtp_sink.messages == [] and len(dovecot.uids("INBOX")) == 2
        again = poll(config, dovecot.password)
        assert again.wait(timeout=120) == 0
        check_exactly_once(config, raws, smtp_sink, dovecot, receipts=2)
    finally:
        proxy.close()


def test_uidvalidity_change_answers_nothing_twice(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    app = build(load_config(write_config(tmp_path, dovecot, smtp_sink)))
    good = week_of_mail(app.config.units)[0]
    dovecot.append(good.raw)
    app.source.open()
    uidvalidity, (uid,) = app.source.listing()
    ingest(
        app.desk, MailRef(app.source.key, "INBOX", uidvalidity, uid), fetch_whole(app.source, uid)
    )  # died before filing
    app.source.close()
    app.desk.drain_outbox(app.transport)
    dovecot.stop()  # the server loses its UID list: every message gets a new UIDVALIDITY and UID
    for index in dovecot.maildir.glob("dovecot*"):
        index.unlink()
    dovecot.start()
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["seen_before"]
    assert len(smtp_sink.messages) == 1 and dovecot.uids("INBOX") == []
    with Session(app.engine) as s:
        assert len({m.uidvalidity for m in s.exec(select(Message))}) == 2


def test_a_flood_from_one_sender_is_held_after_the_limit(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config = write_config(tmp_path, dovecot, smtp_sink)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[office]", "[limits]\nreplies_per_sender_per_hour = 2\n[office]", 1
        ),
        encoding="utf-8",
    )
    app = build(load_config(config))
    mail = week_of_mail(app.config.units)[12]  # "no attachment": a rejection each time, from one liaison
    for n in range(4):
        dovecot.append(mail.raw.replace(b"Message-ID: <", f"Message-ID: <{n}.".encode(), 1))
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["rejection", "rejection", "held", "held"]
    to_sender = [m for m in smtp_sink.messages if m.rcpt_tos != ["office@example.com"]]
    to_office = [m for m in smtp_sink.messages if m.rcpt_tos == ["office@example.com"]]
    assert len(to_sender) == 2 and len(to_office) == 1  # the two held mails, told in one summary
    assert "一小时内来信过多" in to_office[0].message.get_body(("plain",)).get_content()


def test_spoofed_senders_are_held_when_authentication_is_required(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config = write_config(tmp_path, dovecot, smtp_sink)
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "[office]",
            '[security]\nrequire_authentication = true\ntrusted_authserv_ids = ["mx.bureau.test"]\n[office]',
            1,
        ),
        encoding="utf-8",
    )
    app = build(load_config(config))
    samples = week_of_mail(app.config.units)
    sender = "stz.yjj@example.com"
    passed = b"Authentication-Results: mx.bureau.test; spf=pass smtp.mailfrom=" + sender.encode() + b"\r\n"
    forged = b"Authentication-Results: mx.evil.test; spf=pass smtp.mailfrom=" + sender.encode() + b"\r\n"
    dovecot.append(passed + samples[0].raw)
    dovecot.append(forged + samples[6].raw)
    dovecot.append(samples[9].raw)  # no result at all
    report = poll_once(app.source, app.desk, app.transport)
    assert [o.verdict for _uid, o in report.outcomes] == ["receipt", "held", "held"]
    office = [m for m in smtp_sink.messages if m.rcpt_tos == ["office@example.com"]]
    assert len(office) == 1 and "可能是冒用他人邮箱" in office[0].message.get_body(("plain",)).get_content()
