"""The analysis worker gives memory back around a large message: the heap that ordinary messages left
behind is returned before the large one is parsed (so its peak is not added on top of it), and the
large one's garbage right after. Observed in the real worker process: the task records, in a file
beside the message, when memory was released and when the message was analysed."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot import worker
from mailbot.domain.archive import Limits
from mailbot.handover import Analysis
from mailbot.samples.mail import build_mail
from mailbot.worker import TRIM_BYTES, Analyser


def recording_task(raw_path: str, staging: str, limits: Limits, unpack_files: bool, cpu_seconds: int) -> Analysis:
    """In the worker: analyse_within, with its memory release and its analysis noted in order."""
    calls = Path(raw_path + ".calls")
    analyse, release = worker.analyse, worker.release_memory

    def noted(step: str, action: object) -> object:
        def run(*args: object, **kwargs: object) -> object:
            with calls.open("a") as out:
                out.write(step + "\n")
            return action(*args, **kwargs)  # type: ignore[operator]

        return run

    worker.analyse, worker.release_memory = noted("analyse", analyse), noted("release", release)  # type: ignore[assignment]
    try:
        return worker.analyse_within(raw_path, staging, limits, unpack_files, cpu_seconds)
    finally:
        worker.analyse, worker.release_memory = analyse, release


@pytest.fixture
def analyser() -> Iterator[Analyser]:
    running = Analyser(Limits(), task=recording_task)
    yield running
    running.close()


def steps(analyser: Analyser, tmp_path: Path, name: str, attachment: bytes) -> list[str]:
    raw = tmp_path / f"{name}.eml"
    raw.write_bytes(build_mail("lianluo@example.com", "资料", [("资料.pdf", attachment)]))
    analysis = analyser.result(analyser.submit(raw, tmp_path / f"staging-{name}"))
    assert analysis is not None and len(analysis.mail.attachments) == 1
    return Path(f"{raw}.calls").read_text().split()


def test_memory_is_given_back_before_and_after_a_large_message(analyser: Analyser, tmp_path: Path) -> None:
    assert steps(analyser, tmp_path, "small", os.urandom(200_000)) == ["analyse"]
    assert steps(analyser, tmp_path, "large", os.urandom(TRIM_BYTES)) == ["release", "analyse", "release"]
