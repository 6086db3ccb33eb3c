"""`mailbot run` as a real process against real Dovecot and SMTP: IDLE latency, outages, SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.config import load_config
from mailbot.samples.corpus import Sample, week_of_mail
from tests.helpers import REPO, write_config
from tests.servers import DovecotServer, SmtpSink


class Running:
    def __init__(self, proc: subprocess.Popen[str], log: Path, samples: list[Sample]) -> None:
        self.proc, self.log, self.samples = proc, log, samples

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def wait_for_log(self, text: str, count: int = 1, timeout: float = 30) -> None:
        """Until the daemon has logged `text` `count` times: the event, not a guess at its time."""
        deadline = time.monotonic() + timeout
        while self.output().count(text) < count:
            assert self.proc.poll() is None and time.monotonic() < deadline, self.output()
            time.sleep(0.05)


@pytest.fixture
def daemon(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> Iterator[Running]:
    config = write_config(tmp_path, dovecot, smtp_sink)
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace('security = "none"\nfrom_address', 'security = "none"\nretry_seconds = 1\nfrom_address'),
        encoding="utf-8",
    )
    log = tmp_path / "daemon.log"
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "-v", "--config", str(config), "run"],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "TEST_IMAP_PASSWORD": dovecot.password},
        )
    running = Running(proc, log, week_of_mail(load_config(config).units))
    running.wait_for_log("IDLE: waiting")  # in IDLE: the next APPEND is noticed at once
    yield running
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_idle_replies_within_seconds_and_survives_a_dovecot_restart(
    daemon: Running, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    started = time.monotonic()
    dovecot.append(daemon.samples[0].raw)
    smtp_sink.wait_for(1, timeout=30)
    # IDLE answers within seconds; the next poll would be 60 s away (poll_seconds). Generous, for a
    # machine busy with other work: the test tells IDLE from polling, the bench measures latency.
    assert time.monotonic() - started < 20, "IDLE should answer within seconds, not at the next poll"

    dovecot.stop()
    daemon.wait_for_log("unavailable")  # the daemon has seen the outage before the server returns
    dovecot.start()
    dovecot.append(daemon.samples[1].raw)
    smtp_sink.wait_for(2, timeout=30)
    daemon.wait_for_log("available again")  # said once the pass is over; its reply may go out before
    out = daemon.output()
    assert out.count("unavailable") == 1, out  # one line for the outage, not one per retry

    daemon.proc.send_signal(signal.SIGTERM)
    assert daemon.proc.wait(timeout=20) == 0
    assert "mailbot stopped" in daemon.output()


def test_replies_wait_for_smtp_and_go_out_in_order(
    daemon: Running, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    smtp_sink.stop()
    sent = [s for s in daemon.samples if s.verdict in ("receipt", "rejection")][:3]
    for sample in sent:
        dovecot.append(sample.raw)
    daemon.wait_for_log("verdict=", count=3)  # all three recorded, their replies queued
    daemon.wait_for_log("SMTP server unavailable")  # and the outbox has met the outage
    smtp_sink.start()
    got = smtp_sink.wait_for(3, timeout=40)
    import email

    in_reply_to = [str(m.message["In-Reply-To"]) for m in got]
    expected = [str(email.message_from_bytes(s.raw)["Message-ID"]) for s in sent]
    assert in_reply_to == expected
    daemon.proc.send_signal(signal.SIGINT)
    assert daemon.proc.wait(timeout=20) == 0  # stopped, its outbox drained: no late duplicate can follow
    assert len(smtp_sink.messages) == 3
