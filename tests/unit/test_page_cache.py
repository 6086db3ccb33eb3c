"""A recorded message's files leave the page cache: written once and seldom read, they would
otherwise take memory never used before for every message (slow on a virtual machine) and push
out the database. Residency is read with mincore(2), as the kernel reports it."""

from __future__ import annotations

import ctypes
import mmap
import os
from pathlib import Path

import pytest

from mailbot.adapters.storage import Storage, stage
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo

_libc = ctypes.CDLL(None, use_errno=True)


def resident_pages(path: Path) -> int:
    """How many of the file's pages are in the page cache now."""
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    vector = (ctypes.c_ubyte * pages)()
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), size, access=mmap.ACCESS_COPY) as mapped:
        view = ctypes.c_char.from_buffer(mapped)  # a private map: nothing is read by taking its address
        try:
            if _libc.mincore(ctypes.c_void_p(ctypes.addressof(view)), ctypes.c_size_t(size), vector) != 0:
                raise OSError(ctypes.get_errno(), "mincore")
        finally:
            del view
    return sum(v & 1 for v in vector)


def filesystem_of(path: Path) -> str:
    """The type of the filesystem `path` is on, from the longest mount point above it."""
    best, kind = "", ""
    with open("/proc/mounts", encoding="utf-8") as fh:
        for line in fh:
            _device, point, fstype = line.split()[:3]
            if str(path).startswith(point.rstrip("/") + "/") and len(point) > len(best):
                best, kind = point, fstype
    return kind


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    if filesystem_of(tmp_path) in ("tmpfs", "ramfs"):
        pytest.skip("the page cache of a memory filesystem is its storage: nothing can leave it")
    return Storage(tmp_path / "storage")


def message(seed: int) -> bytes:
    return build_mail("a@b.cn", "防汛演练", [("现场.jpg", make_photo(800, 600, seed=seed))])


def test_a_recorded_raw_message_leaves_the_page_cache(storage: Storage) -> None:
    raw = message(1)
    _digest, rel, _size = storage.put_message(raw)
    path = storage.root / rel
    assert resident_pages(path) > 0  # just written: cached
    storage.let_go(rel)
    assert resident_pages(path) == 0
    assert storage.get(rel) == raw  # only the cache: the file is whole, read from disk


def test_adopted_files_go_once_written_back(storage: Storage) -> None:
    staging = storage.staging(7)
    staging.mkdir(parents=True)
    first = storage.root / storage.adopt(7, stage(staging, make_photo(900, 700, seed=2)))
    _d, raw, _s = storage.put_message(message(2))
    storage.let_go(raw)  # starts the write-back of `first`
    os.sync()
    second = storage.root / storage.adopt(7, stage(staging, make_photo(900, 700, seed=3)))
    _d, raw, _s = storage.put_message(message(3))
    storage.let_go(raw)
    assert resident_pages(first) == 0
    os.sync()
    storage.let_go(raw)  # a later message's call
    assert resident_pages(second) == 0


def test_a_file_that_is_gone_changes_nothing(storage: Storage) -> None:
    _digest, rel, _size = storage.put_message(message(4))
    (storage.root / rel).unlink()
    storage.let_go(rel)  # advice about a file no longer there: no error
