"""The worker's hand-over: the same facts, hashes and stored files as an analysis in one process,
with no bytes left in what crosses to the main process."""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest

from mailbot.adapters.storage import Storage
from mailbot.domain.archive import Limits
from mailbot.domain.mime import header_block
from mailbot.handover import fresh_staging, hand_over, with_bytes
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from mailbot.worker import analyse

FOOTER = ["撰稿人：王丽", "初审人：李四", "复审人：王五"]


def submission_mail() -> bytes:
    docx = build_docx("防汛演练", ["正文。"], FOOTER)
    archive = build_zip([("稿件.docx", docx), ("现场.jpg", make_photo(320, 240, seed=1))])
    return build_mail("a@b.cn", "防汛演练", [("稿件.zip", archive), ("另一张.jpg", make_photo(200, 150, seed=2))])


def test_the_hand_over_keeps_every_fact_and_stages_the_bytes(tmp_path: Path) -> None:
    storage = Storage(tmp_path)
    whole = analyse(submission_mail(), Limits())
    handed = hand_over(whole, storage.staging(7))
    assert whole.submission is not None and handed.submission is not None
    assert [(a.name, a.content_type, a.size) for a in handed.mail.attachments] == [
        (a.name, a.content_type, len(a.data)) for a in whole.mail.attachments
    ]
    for before, after in zip(whole.submission.files, handed.submission.files, strict=True):
        assert (after.path, after.kind, after.size, after.data) == (before.path, before.kind, len(before.data), b"")
        assert after.sha256 == hashlib.sha256(before.data).hexdigest()
    assert handed.submission.photos == whole.submission.photos
    assert handed.submission.findings == whole.submission.findings
    ms_before, ms_after = whole.submission.manuscripts[0][1], handed.submission.manuscripts[0][1]
    assert (ms_after.title, ms_after.body, ms_after.footer) == (ms_before.title, ms_before.body, ms_before.footer)
    # what crosses the process boundary is small: no attachment or unpacked file in it
    assert len(pickle.dumps(handed)) < 20_000 < len(pickle.dumps(whole))
    # unpacked files (not the archive) are moved into place as `put` would store them
    for f in handed.submission.files:
        if f.kind != "archive":
            assert storage.adopt(7, f.sha256) == f"files/{f.sha256[:2]}/{f.sha256}"
            assert hashlib.sha256(storage.get(f"files/{f.sha256[:2]}/{f.sha256}")).hexdigest() == f.sha256
    # and the attachments can be read back for the main process's rare needs, up to a limit
    loaded = with_bytes(storage, 7, handed.mail, limit=handed.mail.attachments[0].size)
    assert loaded.attachments[0].data == whole.mail.attachments[0].data
    assert loaded.attachments[1].data == b""
    storage.drop_staging(7)
    assert not storage.staging(7).exists()


def test_a_second_analysis_starts_from_an_empty_staging_directory(tmp_path: Path) -> None:
    staging = Storage(tmp_path).staging(3)
    staging.mkdir(parents=True)
    (staging / ".half-written.tmp").write_bytes(b"x")
    fresh_staging(staging)
    hand_over(analyse(submission_mail(), Limits(), staging=staging), staging)
    assert not (staging / ".half-written.tmp").exists()


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@b.cn\r\nSubject: x\r\n\r\nbody",
        b"From: a@b.cn\nSubject: x\n\nbody\r\n\r\n",
        b"From: a@b.cn\r\nSubject: no body at all",
        b"X: " + b"y" * 200_000 + b"\r\n\r\nbody",  # a header block past the first chunk
        b"X: " + b"y" * 65_530 + b"\r\n\r\nbody",  # a blank line cut by the chunk
    ],
)
def test_the_stored_header_block_is_the_one_the_parser_reads(tmp_path: Path, raw: bytes) -> None:
    storage = Storage(tmp_path)
    _digest, rel = storage.put(raw, "raw", ".eml")
    assert storage.head(rel) == header_block(raw)
    assert storage.size(rel) == len(raw)


def test_leftovers_are_cleared_once_per_process_never_under_another_process(tmp_path: Path) -> None:
    """The first pass clears what a killed run left; a later pass must not remove the staging of a held
    message that the web register is releasing at that moment."""
    storage = Storage(tmp_path)
    storage.staging(1).mkdir(parents=True)  # left by a run that died
    storage.clear_leftovers()
    assert not storage.staging(1).exists()
    storage.staging(2).mkdir(parents=True)  # another process, staging now
    storage.clear_leftovers()
    assert storage.staging(2).exists()
