"""Kill `poll --once` at every stage, and at random moments; a restart must finish the job exactly once."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from mailbot.config import load_config
from mailbot.faults import EXIT_CODE, STAGES
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES, week_of_mail
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import check_exactly_once, poll, write_config
from tests.servers import DovecotServer, SmtpSink


@pytest.mark.parametrize("stage", STAGES)
def test_killed_after_each_stage(stage: str, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    samples = week_of_mail(load_config(config).units)
    chosen = [samples[0], samples[1], samples[6]]  # two receipts and a rejection
    raws = [s.raw for s in chosen]
    for raw in raws:
        dovecot.append(raw)
    died = poll(config, dovecot.password, stage)
    out, _ = died.communicate(timeout=120)
    assert died.returncode == EXIT_CODE, out
    again = poll(config, dovecot.password)
    out, _ = again.communicate(timeout=120)
    assert again.returncode == 0, out
    check_exactly_once(config, raws, smtp_sink, dovecot, receipts=2)
    sent = [m for m in smtp_sink.messages if m.message["In-Reply-To"]]
    assert len(sent) == 3 + (stage == "reply_sent")  # the one in flight at 250 goes once more, same Message-ID


@pytest.mark.parametrize("operation", ["storage_write", "database_write"])
def test_write_failures_leave_mail_for_the_next_run(
    operation: str, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    raws = [s.raw for s in week_of_mail(load_config(config).units)[:2]]
    for raw in raws:
        dovecot.append(raw)
    failed = poll(config, dovecot.password, f"fail:{operation}")
    out, _ = failed.communicate(timeout=120)
    said = {"storage_write": "poll stopped: StorageFull", "database_write": "poll stopped: OSError"}[operation]
    assert failed.returncode == 1 and said in out and "Traceback" not in out
    assert len(dovecot.uids("INBOX")) == 2 and smtp_sink.messages == []
    again = poll(config, dovecot.password)
    assert again.wait(timeout=120) == 0
    check_exactly_once(config, raws, smtp_sink, dovecot, receipts=2)


def many(count: int, senders: list[str]) -> list[bytes]:
    """Spread over the units' liaisons: one sender would hit the hourly reply limit and be held."""
    photo = make_photo(640, 480, seed=3)
    title, body = STORIES["fire"]
    return [
        build_mail(
            senders[i % len(senders)],
            f"{title}{i}",
            [
                (
                    "a.zip",
                    build_zip(
                        [
                            (
                                "稿件.docx",
                                build_docx(f"{title}（{i}）", body, ["撰稿人：冯超", "初审人：李四", "复审人：王五"]),
                            ),
                            ("照片.jpg", photo),
                        ]
                    ),
                )
            ],
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("seed", [1, 2])
def test_sigkill_at_random_moments(seed: int, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    raws = many(100, [u.liaisons[0].email for u in load_config(config).units if u.liaisons])
    for raw in raws:
        dovecot.append(raw)
    rng = random.Random(seed)
    kills = 0
    for _round in range(6):  # six runs, each SIGKILLed at a random moment (or finishing first)
        proc = poll(config, dovecot.password)
        try:
            proc.wait(timeout=rng.uniform(0.8, 3.0))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            kills += 1
    assert kills >= 2  # the test really interrupted work
    final = poll(config, dovecot.password)
    assert final.wait(timeout=300) == 0, (
        final.stdout.read() if final.stdout else ""
    )  # the sink records each message before its 250 reaches us
    check_exactly_once(config, raws, smtp_sink, dovecot, receipts=100)
