"""Unpack an emailed archive into checked members, in memory.

Liaisons' archives come from Chinese Windows tools (GBK names without the
UTF-8 flag), 7-Zip and WinRAR, and some are hostile. Every byte produced is
counted against `Limits`, and every failure, whatever library raised it, leaves
as an `ArchiveError` with a stable code so the caller can answer the liaison
without knowing the libraries.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from types import ModuleType
from typing import BinaryIO

from mailbot.domain.zip_names import directory_tail, zip_directory_entries, zip_name

__all__ = [
    "ARCHIVE_BOMB",
    "ARCHIVE_CORRUPT",
    "ARCHIVE_ENCRYPTED",
    "ARCHIVE_EXTENSIONS",
    "ARCHIVE_NESTED_TOO_DEEP",
    "ARCHIVE_TOO_LARGE",
    "ARCHIVE_TOO_MANY_MEMBERS",
    "ARCHIVE_UNSAFE_PATH",
    "ARCHIVE_UNSUPPORTED",
    "ArchiveError",
    "Limits",
    "Member",
    "archive_kind",
    "read_archive",
]

ARCHIVE_CORRUPT = "archive_corrupt"
ARCHIVE_ENCRYPTED = "archive_encrypted"
ARCHIVE_UNSAFE_PATH = "archive_unsafe_path"
ARCHIVE_TOO_LARGE = "archive_too_large"
ARCHIVE_TOO_MANY_MEMBERS = "archive_too_many_members"
ARCHIVE_BOMB = "archive_bomb"
ARCHIVE_NESTED_TOO_DEEP = "archive_nested_too_deep"
ARCHIVE_UNSUPPORTED = "archive_unsupported"

ARCHIVE_EXTENSIONS: frozenset[str] = frozenset({".zip", ".7z", ".rar"})

_MIB = 1024 * 1024
_CHUNK = 64 * 1024
_RATIO_FLOOR = _MIB  # below this, small highly compressible files are normal, not bombs

_MAGIC_BYTES = 8  # enough of a file's start for every signature below
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),  # empty zip
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!\x1a\x07\x00", "rar"),  # RAR 1.5-4.x
    (b"Rar!\x1a\x07\x01\x00", "rar"),  # RAR 5
)
# Zip containers that are documents, not archives: a .docx has zip magic but must
# reach the manuscript checks whole.
_ZIP_DOCUMENTS = frozenset(
    ".docx .docm .dotx .dotm .xlsx .xlsm .pptx .ppsx .odt .ods .odp .ofd .epub .xps .oxps .jar .apk".split()
)
_JUNK_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")

_ZIP_ENCRYPTED = 0x0001
_DOS_DIRECTORY = 0x10


@dataclass(frozen=True)
class Limits:
    """Bounds on what one emailed archive may cost, nested archives included.

    ``max_members`` counts every entry listed (directories and skipped junk too),
    because listing is what costs memory before a single byte is unpacked.
    """

    max_total_bytes: int = 200 * 1024 * 1024
    max_members: int = 500
    max_ratio: float = 100.0
    max_depth: int = 1


@dataclass(frozen=True)
class Member:
    path: str
    data: bytes = field(repr=False)  # megabytes do not belong in logs and tracebacks


class ArchiveError(Exception):
    """The one exception read_archive raises; ``code`` picks the reply, ``detail`` fills it in.

    ``detail`` is the offending member's decoded path for per-member problems,
    the archive's own name for whole-archive ones (corrupt, encrypted headers,
    unsupported), and the exceeded limit as a number for too_large,
    too_many_members and bomb.
    """

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code, detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}" if self.detail else self.code


def _extension(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def archive_kind(name: str, data: bytes) -> str | None:
    """Magic bytes first, since liaisons rename files; the extension only when magic says nothing."""
    extension = _extension(name)
    if extension in _ZIP_DOCUMENTS:
        return None
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    return extension[1:] if extension in ARCHIVE_EXTENSIONS else None


def read_archive(data: bytes | BinaryIO, name: str, limits: Limits = Limits()) -> tuple[Member, ...]:
    """Unpack ``data`` (attachment ``name``: its bytes, or a seekable file of them, which a zip is
    read from as it is needed) in memory; members of nested archives are flattened in."""
    source = io.BytesIO(data) if isinstance(data, bytes) else data  # shares the bytes, no copy
    source.seek(0)
    kind = archive_kind(name, source.read(_MAGIC_BYTES))
    if kind is None:
        raise ArchiveError(ARCHIVE_UNSUPPORTED, name)
    budget = _Budget(limits, source.seek(0, io.SEEK_END))
    source.seek(0)
    return tuple(_unpack(kind, source, name, "", 0, budget))


class _Budget:
    """Running totals shared by an archive and every archive nested in it."""

    def __init__(self, limits: Limits, packed_size: int) -> None:
        self.limits = limits
        self._packed = max(packed_size, 1)
        self._members = 0
        self._total = 0

    def admit(self, entries: int) -> None:
        if self._members + entries > self.limits.max_members:
            raise ArchiveError(ARCHIVE_TOO_MANY_MEMBERS, str(self.limits.max_members))

    def count(self, entries: int) -> None:
        self.admit(entries)
        self._members += entries

    def expect(self, declared: int) -> None:
        """Refuse before unpacking what the headers already admit would break the limits."""
        self._check(self._total + declared)

    def charge(self, produced: int) -> None:
        self._total += produced
        self._check(self._total)

    def _check(self, total: int) -> None:
        if total > self.limits.max_total_bytes:
            raise ArchiveError(ARCHIVE_TOO_LARGE, str(self.limits.max_total_bytes))
        if total > _RATIO_FLOOR and total / self._packed > self.limits.max_ratio:
            raise ArchiveError(ARCHIVE_BOMB, f"{self.limits.max_ratio:g}")


_Reader = Callable[[BinaryIO, str, str, _Budget], list[Member]]


def _unpack(kind: str, data: BinaryIO, label: str, prefix: str, depth: int, budget: _Budget) -> list[Member]:
    """The single boundary where library exceptions become ArchiveError."""
    try:
        members = _READERS[kind](data, label, prefix, budget)
    except ArchiveError:
        raise
    except MemoryError as exc:
        raise ArchiveError(ARCHIVE_TOO_LARGE, str(budget.limits.max_total_bytes)) from exc
    except NotImplementedError as exc:  # a zip compression method zipfile lacks (the 7z and rar readers
        raise ArchiveError(ARCHIVE_UNSUPPORTED, label) from exc  # name their libraries' own errors)
    except Exception as exc:  # zlib.error, EOFError, struct.error, BadZipFile, Bad7zFile, ...
        raise ArchiveError(ARCHIVE_CORRUPT, label) from exc
    result: list[Member] = []
    for member in members:
        inner = archive_kind(member.path, member.data)
        if inner is None:
            result.append(member)
        elif depth >= budget.limits.max_depth:
            raise ArchiveError(ARCHIVE_NESTED_TOO_DEEP, member.path)
        else:
            result.extend(_unpack(inner, io.BytesIO(member.data), member.path, member.path + "/", depth + 1, budget))
    return result


def _clean_path(name: str, prefix: str) -> str:
    """Normalise to '/'-separated relative form, refusing anything that could leave a directory.

    Backslashes count as separators because Windows tools write them and Windows
    extractors honour them.
    """
    unified = name.replace("\\", "/")
    if "\0" in unified or unified.startswith("/") or _DRIVE.match(unified):
        raise ArchiveError(ARCHIVE_UNSAFE_PATH, prefix + name)
    parts = [part for part in unified.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(ARCHIVE_UNSAFE_PATH, prefix + name)
    return "/".join(parts)


def _is_junk(path: str) -> bool:
    """Finder, Explorer and Word droppings: never content, often confusing to the checks."""
    parts = path.split("/")
    base = parts[-1]
    return not path or "__MACOSX" in parts or base.lower() in _JUNK_FILES or base.startswith(("~$", "._"))


def _refuse_overlaps(data: BinaryIO, infos: list[zipfile.ZipInfo], prefix: str) -> None:
    """Entries sharing compressed bytes amplify a small file without any ratio per entry.

    CPython refuses them only from 3.11.8/3.12.2 (CVE-2024-0450); this runs on 3.11.7.
    """
    spans = []
    for info in infos:
        start = info.header_offset
        data.seek(start)
        header = data.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise ArchiveError(ARCHIVE_CORRUPT, prefix + zip_name(info))
        name_len, extra_len = struct.unpack_from("<HH", header, 26)
        spans.append((start, start + 30 + name_len + extra_len + info.compress_size, info))
    spans.sort(key=lambda span: span[0])
    previous_end = 0
    for start, end, info in spans:
        if start < previous_end:
            raise ArchiveError(ARCHIVE_CORRUPT, prefix + zip_name(info))
        previous_end = end


def _read_zip(data: BinaryIO, label: str, prefix: str, budget: _Budget) -> list[Member]:
    budget.admit(zip_directory_entries(directory_tail(data)))
    data.seek(0)
    with zipfile.ZipFile(data) as archive:
        infos = archive.infolist()
        budget.count(len(infos))
        _refuse_overlaps(data, infos, prefix)
        wanted: list[tuple[str, zipfile.ZipInfo]] = []
        for info in infos:
            name = zip_name(info)
            path = _clean_path(name, prefix)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise ArchiveError(ARCHIVE_UNSAFE_PATH, prefix + path)
            directory = info.is_dir() or name.endswith("\\") or bool(info.external_attr & _DOS_DIRECTORY)
            if directory or _is_junk(path):
                continue
            if info.flag_bits & _ZIP_ENCRYPTED:
                raise ArchiveError(ARCHIVE_ENCRYPTED, prefix + path)
            wanted.append((path, info))
        members = []
        for path, info in wanted:
            with archive.open(info) as stream:
                members.append(Member(prefix + path, _drain(stream.read, budget)))
    return members


def _drain(read: Callable[[int], bytes], budget: _Budget) -> bytes:
    """Charge every chunk as it appears: declared sizes lie (cpython #83522)."""
    chunks = []
    while chunk := read(_CHUNK):
        budget.charge(len(chunk))
        chunks.append(chunk)
    return b"".join(chunks)


# --- 7z and rar: their libraries load only in a process that opens such an archive -------


def _read_7z(data: BinaryIO, label: str, prefix: str, budget: _Budget) -> list[Member]:
    from mailbot.domain import archive_7z  # py7zr and its codecs: ~16 MB the daemon need not carry

    data.seek(0)
    return _read_with(archive_7z, data.read(), label, prefix, budget)


def _read_rar(data: BinaryIO, label: str, prefix: str, budget: _Budget) -> list[Member]:
    from mailbot.domain import archive_rar

    data.seek(0)
    return _read_with(archive_rar, data.read(), label, prefix, budget)


def _read_with(reader: ModuleType, data: bytes, label: str, prefix: str, budget: _Budget) -> list[Member]:
    """The reader module's own errors for a password, or for a valid archive it cannot read, as codes."""
    try:
        members: list[Member] = reader.read(data, label, prefix, budget)
    except reader.ENCRYPTED as exc:
        raise ArchiveError(ARCHIVE_ENCRYPTED, label) from exc
    except reader.UNSUPPORTED as exc:
        raise ArchiveError(ARCHIVE_UNSUPPORTED, label) from exc
    return members


_READERS: dict[str, _Reader] = {"zip": _read_zip, "7z": _read_7z, "rar": _read_rar}
