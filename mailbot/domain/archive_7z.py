"""7z archives (py7zr), imported only by a process that opens one: the analysis worker, as a rule.

Every byte py7zr writes is charged to the message's budget as it comes; the library's own errors for
a password or a compression method it lacks become the archive codes the liaison is answered with.
"""

from __future__ import annotations

import io

import py7zr
from py7zr.exceptions import PasswordRequired, UnsupportedCompressionMethodError
from py7zr.io import Py7zIO, WriterFactory

from mailbot.domain.archive import (
    ARCHIVE_ENCRYPTED,
    ARCHIVE_UNSAFE_PATH,
    ArchiveError,
    Member,
    _Budget,
    _clean_path,
    _is_junk,
)

ENCRYPTED: tuple[type[Exception], ...] = (PasswordRequired,)
UNSUPPORTED: tuple[type[Exception], ...] = (UnsupportedCompressionMethodError,)  # a method py7zr lacks


class _Sink(Py7zIO):
    """In-memory output for one 7z member that charges the budget as py7zr writes."""

    def __init__(self, name: str, budget: _Budget) -> None:
        self.name = name
        self._budget = budget
        self._chunks: list[bytes] = []
        self._size = 0

    def write(self, s: bytes | bytearray) -> int:
        self._budget.charge(len(s))
        self._chunks.append(bytes(s))
        self._size += len(s)
        return len(s)

    def read(self, size: int | None = None) -> bytes:
        return b"".join(self._chunks)

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def flush(self) -> None:
        return None

    def size(self) -> int:
        return self._size


class _SinkFactory(WriterFactory):
    def __init__(self, budget: _Budget) -> None:
        self._budget = budget
        self.sinks: list[_Sink] = []

    def create(self, filename: str) -> Py7zIO:
        sink = _Sink(filename, self._budget)
        self.sinks.append(sink)
        return sink


def read(data: bytes, label: str, prefix: str, budget: _Budget) -> list[Member]:
    with py7zr.SevenZipFile(io.BytesIO(data)) as archive:
        if archive.needs_password():
            raise ArchiveError(ARCHIVE_ENCRYPTED, label)
        files = list(archive.files)
        budget.count(len(files))
        declared = 0
        for entry in files:
            path = _clean_path(entry.filename, prefix)
            if entry.is_symlink or entry.is_junction:
                raise ArchiveError(ARCHIVE_UNSAFE_PATH, prefix + path)
            if not entry.is_directory:
                declared += entry.uncompressed or 0
        # py7zr hands over output in blocks of up to 128 MB, so the charge in _Sink can
        # come late; the declared sizes it decodes to are the bound that holds in time.
        budget.expect(declared)
        factory = _SinkFactory(budget)
        archive.extractall(factory=factory)
    members = []
    for sink in factory.sinks:
        path = _clean_path(sink.name, prefix)
        if not _is_junk(path):
            members.append(Member(prefix + path, sink.read()))
    return members
