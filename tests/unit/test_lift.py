"""Large attachments decoded in pieces from a map of the stored message, straight to files: the
same bytes and facts as a decode in memory, without the message or the attachment whole in memory."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import mmap
import random
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mailbot.domain import lift
from mailbot.domain.archive import Limits
from mailbot.domain.mime import parse_message
from mailbot.handover import fresh_staging, hand_over, spill_into
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from mailbot.worker import analyse

FOOTER = ["撰稿人：王丽", "初审人：李四", "复审人：王五"]


@contextmanager
def mapped(path: Path) -> Iterator[mmap.mmap]:
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as raw:
        yield raw


def _pieces(text: bytes) -> bytes:
    return b"".join(lift.base64_pieces(text, 0, len(text)))


def _lines(text: bytes, line: int) -> bytes:
    return b"\r\n".join(text[i : i + line] for i in range(0, len(text), line))


@pytest.mark.parametrize("line", [76, 64, 1000, 10**7])
def test_pieces_are_the_one_call_decode_whatever_the_line_length(line: int) -> None:
    data = random.Random(line).randbytes(3 * 1024 * 1024 + 2)  # not a multiple of 3: padded
    text = _lines(base64.b64encode(data), line)
    assert _pieces(text) == binascii.a2b_base64(text) == data


@pytest.mark.parametrize(
    "text",
    [
        b"YWJj",
        b"YW Jj*\r\nYQ==",
        b"YQ==\r\n",
        b"YQ==YQ==",  # padding, then more: a2b_base64 stops at it
        b"YW=Jj",
        b"YWJj====",
        b"\xffYW\x00Jj-_",
        b"YQ=",
        b"YWJjY",
        b"",
    ],
)
def test_the_fast_decoder_gives_what_a2b_base64_gives(text: bytes) -> None:
    try:
        expected: bytes | type[Exception] = binascii.a2b_base64(text)
    except binascii.Error:
        expected = binascii.Error
    if expected is binascii.Error:
        with pytest.raises(binascii.Error):
            lift.decode_base64(text, 0, len(text))
    else:
        assert lift.decode_base64(text, 0, len(text)) == expected


def test_bad_padding_fails_like_the_one_call_and_odd_bodies_are_decoded_in_one() -> None:
    text = _lines(base64.b64encode(bytes(2_000_000)), 76)[:-1]  # one character short
    with pytest.raises(binascii.Error):
        binascii.a2b_base64(text)
    with pytest.raises(binascii.Error):
        _pieces(text)
    padded_first = _lines(base64.b64encode(b"a") + base64.b64encode(bytes(2_000_000)), 76)  # "YQ==" then more
    odd_lines = _lines(base64.b64encode(bytes(2_000_000)), 57)  # windows do not hold whole quads
    for odd in (padded_first, odd_lines):
        with pytest.raises(lift._MidPadding):
            _pieces(odd)
        raw = b"Content-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n" + odd + b"\r\n--b--\r\n"
        _small, bodies = lift.lift_base64(raw, spill=lambda pieces: (list(pieces), pytest.fail("spilled"))[1])
        assert list(bodies.values()) == [binascii.a2b_base64(odd)]


def _big_submission() -> tuple[bytes, bytes]:
    photos = [(f"现场{i}.jpg", make_photo(1600, 1200, seed=i) + random.Random(i).randbytes(900_000)) for i in range(6)]
    archive = build_zip([("稿件.docx", build_docx("防汛演练", ["正文。"], FOOTER)), *photos])
    return build_mail("a@b.cn", "防汛演练", [("信息报送.zip", archive)]), archive


def test_a_large_attachment_is_spilled_to_a_file_and_reads_the_same(tmp_path: Path) -> None:
    raw, archive = _big_submission()
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    staging = tmp_path / "staging"
    fresh_staging(staging)
    with mapped(path) as mapped_raw:
        spilled = analyse(mapped_raw, Limits(), staging=staging)
    in_memory = analyse(raw, Limits())
    (att,) = spilled.mail.attachments
    assert att.data == b"" and att.size == len(archive) and att.sha256 == hashlib.sha256(archive).hexdigest()
    assert Path(att.file).read_bytes() == archive
    assert spilled.mail.subject == in_memory.mail.subject == "防汛演练"
    assert spilled.submission is not None and in_memory.submission is not None
    assert spilled.submission.photos == in_memory.submission.photos and len(spilled.submission.photos) == 6
    assert spilled.submission.manuscripts == in_memory.submission.manuscripts
    assert [(f.path, f.kind, f.size) for f in spilled.submission.files] == [
        (f.path, f.kind, f.size) for f in in_memory.submission.files
    ]
    handed = hand_over(spilled, staging)
    assert handed.mail.attachments[0].file == "" and (staging / att.sha256).exists()
    assert not list(staging.glob(".*"))  # no temporary file left


def test_neither_the_message_nor_the_attachment_is_ever_whole_in_memory(tmp_path: Path) -> None:
    """Python's allocations while an 8.4 MB message is parsed from a map with a spill: a window of
    text and its decoded piece at a time, not the 8.4 MB of text beside the 6.2 MB attachment."""
    raw, archive = _big_submission()
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    staging = tmp_path / "staging"
    fresh_staging(staging)
    assert len(raw) > 8_000_000
    with mapped(path) as mapped_raw:
        tracemalloc.start()
        try:
            mail = parse_message(mapped_raw, spill_into(staging))
            _now, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert mail.attachments[0].size == len(archive)
    assert peak < 6_000_000, peak  # measured 3.9 MB; the whole text and attachment are 14.6 MB


def _b64_part(name: str, data: bytes, line: int = 76, content_type: str = "application/zip") -> bytes:
    text = _lines(base64.b64encode(data), line)
    return (
        (
            f'--b\r\nContent-Type: {content_type}; name="{name}"\r\nContent-Transfer-Encoding: base64\r\n'
            f'Content-Disposition: attachment; filename="{name}"\r\n\r\n'
        ).encode()
        + text
        + b"\r\n"
    )


@functools.cache
def _odd_messages() -> dict[str, bytes]:
    head = b'From: a@b.cn\r\nSubject: x\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
    big = random.Random(5).randbytes(1_500_000)
    text_part = (
        b'--b\r\nContent-Type: text/plain; charset="utf-8"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        + _lines(base64.b64encode(("正文。" * 200_000).encode()), 76)
        + b"\r\n"
    )
    return {
        "plain": head + _b64_part("a.zip", big) + b"--b--\r\n",
        "odd lines": head + _b64_part("a.zip", big, line=57) + b"--b--\r\n",
        "padding inside": head + _b64_part("a.zip", b"a")[:-2] + _lines(base64.b64encode(big), 76) + b"\r\n--b--\r\n",
        "no closing boundary": head + _b64_part("a.zip", big),
        "a large text body": head + text_part + _b64_part("a.zip", big) + b"--b--\r\n",
        "LF only": (head + _b64_part("a.zip", big) + b"--b--\r\n").replace(b"\r\n", b"\n"),
        "bad padding": head + _b64_part("a.zip", big)[:-3] + b"\r\n--b--\r\n",
        "3000-deep": b"From: a@b.cn\r\n"
        + b"".join(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i) for i in range(3000)),
        "empty": b"",
    }


@pytest.mark.parametrize("name", list(_odd_messages()))
def test_odd_mail_read_through_a_map_gives_the_facts_of_the_bytes(tmp_path: Path, name: str) -> None:
    """The worker's path (a map of the stored file, large bodies spilled to files) against the
    plain one (bytes in memory) on mail that takes the fallbacks: the same facts and bytes."""
    raw = _odd_messages()[name]
    path = tmp_path / "m.eml"
    path.write_bytes(raw)
    staging = tmp_path / "staging"
    fresh_staging(staging)
    expected = parse_message(raw)
    if raw:
        with mapped(path) as mapped_raw:
            got = parse_message(mapped_raw, spill_into(staging))
    else:  # an empty file cannot be mapped: the worker reads it as bytes
        got = parse_message(raw, spill_into(staging))
    assert (got.sender, got.subject, got.text, got.unreadable) == (
        expected.sender,
        expected.subject,
        expected.text,
        expected.unreadable,
    )
    assert [(a.name, a.size) for a in got.attachments] == [(a.name, a.size) for a in expected.attachments]
    for a, b in zip(got.attachments, expected.attachments, strict=True):
        assert (Path(a.file).read_bytes() if a.file else a.data) == b.data
    assert not list(staging.glob(".*"))  # no half-written file left by a body that was decoded another way
    spilled = {"plain", "no closing boundary", "a large text body"}  # the others take a fallback
    assert [bool(a.file) for a in got.attachments] == [name in spilled] * len(got.attachments)
