"""A message stored as it arrives, piece by piece: the same file and digest as stored whole, and
nothing half-written left behind when the pieces stop coming."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.adapters.storage import STAGING, Storage
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo


def message() -> bytes:
    return build_mail("a@b.cn", "防汛演练", [("现场.jpg", make_photo(640, 480, seed=3))])


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("size", [1, 1000, 4096, 10**9])
def test_pieces_are_stored_as_the_whole_would_be(tmp_path: Path, size: int) -> None:
    raw = message() if size > 1 else message()[:5000]
    streamed, whole = Storage(tmp_path / "a"), Storage(tmp_path / "b")
    digest, rel, stored = streamed.put_parts(pieces(raw, size), "raw", ".eml")
    assert (digest, rel) == whole.put(raw, "raw", ".eml")
    assert digest == hashlib.sha256(raw).hexdigest() and stored == len(raw)
    assert streamed.get(rel) == raw
    assert not any((tmp_path / "a" / STAGING).iterdir())  # the temporary file became the stored one


def test_the_same_message_twice_is_one_file(tmp_path: Path) -> None:
    storage, raw = Storage(tmp_path), message()
    first = storage.put_parts(pieces(raw, 777), "raw", ".eml")
    assert storage.put_parts(pieces(raw, 5000), "raw", ".eml") == first
    assert [p.name for p in (tmp_path / "raw").rglob("*.eml")] == [f"{first[0]}.eml"]


def test_a_connection_lost_midway_leaves_no_file(tmp_path: Path) -> None:
    def broken() -> Iterator[bytes]:
        yield b"Subject: x\r\n\r\n" + b"a" * 1000
        raise ConnectionResetError("the server went away")

    storage = Storage(tmp_path)
    with pytest.raises(ConnectionResetError):
        storage.put_parts(broken(), "raw", ".eml")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_message_of_no_bytes_is_stored_empty(tmp_path: Path) -> None:
    digest, rel, size = Storage(tmp_path).put_parts(iter([b""]), "raw", ".eml")
    assert (digest, size) == (hashlib.sha256(b"").hexdigest(), 0) and (tmp_path / rel).read_bytes() == b""
