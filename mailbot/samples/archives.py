"""Archives as liaisons' tools write them, and as attackers craft them, built in memory.

The zip and rar writers are hand-rolled on purpose: zipfile always re-encodes
non-ASCII names as flagged UTF-8 and no rar encoder exists for Python, yet the
reader must be tested against GBK names without the UTF-8 flag, the 0x7075
extra field, WinRAR's name encoding and hostile headers (encrypted flags,
symlinks, overlapping entries) that no well-behaved writer produces.
"""

from __future__ import annotations

import io
import stat
import struct
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "ZIP_FLAG_ENCRYPTED",
    "ZIP_FLAG_UTF8",
    "ZipEntry",
    "build_7z",
    "build_rar",
    "build_zip",
    "rar_symlink",
    "sample_members",
    "unicode_path_extra",
    "write_zip",
    "zip_bomb",
    "zip_overlapping_bomb",
    "zip_symlink",
]

ZIP_FLAG_ENCRYPTED = 0x0001
ZIP_FLAG_UTF8 = 0x0800

# Fixed timestamp (2024-06-01 12:00:00) so that builds are byte-for-byte reproducible.
_DOS_TIME = (12 << 11) | (0 << 5) | 0
_DOS_DATE = ((2024 - 1980) << 9) | (6 << 5) | 1

_LOCAL = struct.Struct("<4s5H3L2H")
_CENTRAL = struct.Struct("<4s6H3L5H2L")
_END = struct.Struct("<4s4H2LH")


@dataclass(frozen=True)
class ZipEntry:
    """One zip record with every header field a hostile or legacy writer might set."""

    raw_name: bytes
    data: bytes = field(default=b"", repr=False)
    flags: int = 0
    extra: bytes = b""
    external_attr: int = 0x20  # MS-DOS "archive" bit, as Windows writers set it
    create_system: int = 0  # 0 = MS-DOS/Windows, 3 = Unix
    deflate: bool = True


@dataclass(frozen=True)
class _Packed:
    entry: ZipEntry
    payload: bytes = field(repr=False)
    crc: int
    size: int

    @property
    def method(self) -> int:
        return 8 if self.entry.deflate else 0


def _pack(entry: ZipEntry) -> _Packed:
    if entry.deflate:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        payload = compressor.compress(entry.data) + compressor.flush()
    else:
        payload = entry.data
    return _Packed(entry, payload, zlib.crc32(entry.data), len(entry.data))


def _local_record(packed: _Packed) -> bytes:
    e = packed.entry
    header = _LOCAL.pack(
        b"PK\x03\x04",
        20,
        e.flags,
        packed.method,
        _DOS_TIME,
        _DOS_DATE,
        packed.crc,
        len(packed.payload),
        packed.size,
        len(e.raw_name),
        len(e.extra),
    )
    return header + e.raw_name + e.extra + packed.payload


def _central_record(packed: _Packed, offset: int) -> bytes:
    e = packed.entry
    header = _CENTRAL.pack(
        b"PK\x01\x02",
        (e.create_system << 8) | 20,
        20,
        e.flags,
        packed.method,
        _DOS_TIME,
        _DOS_DATE,
        packed.crc,
        len(packed.payload),
        packed.size,
        len(e.raw_name),
        len(e.extra),
        0,
        0,
        0,
        e.external_attr,
        offset,
    )
    return header + e.raw_name + e.extra


def _end_record(count: int, central_size: int, central_offset: int) -> bytes:
    return _END.pack(b"PK\x05\x06", 0, 0, count, count, central_size, central_offset, 0)


def write_zip(entries: Iterable[ZipEntry]) -> bytes:
    """Write the entries exactly as given: no name re-encoding, no sanitising."""
    out = io.BytesIO()
    central = []
    for packed in map(_pack, entries):
        central.append(_central_record(packed, out.tell()))
        out.write(_local_record(packed))
    directory = b"".join(central)
    start = out.tell()
    out.write(directory)
    out.write(_end_record(len(central), len(directory), start))
    return out.getvalue()


def unicode_path_extra(name: str, raw_name: bytes) -> bytes:
    """Info-ZIP Unicode Path field (0x7075), bound to ``raw_name`` by its CRC as 7-Zip writes it."""
    body = b"\x01" + struct.pack("<L", zlib.crc32(raw_name)) + name.encode("utf-8")
    return struct.pack("<HH", 0x7075, len(body)) + body


def _zip_entry(name: str, data: bytes, names: str) -> ZipEntry:
    attr = 0x10 if name.endswith("/") else 0x20
    if names == "gbk":
        return ZipEntry(name.encode("gbk"), data, external_attr=attr)
    if names == "utf8":
        return ZipEntry(name.encode("utf-8"), data, flags=ZIP_FLAG_UTF8, external_attr=attr)
    if names == "utf8-noflag":
        return ZipEntry(name.encode("utf-8"), data, external_attr=attr)
    if names == "unicode-extra":
        raw = name.encode("gbk")
        return ZipEntry(raw, data, extra=unicode_path_extra(name, raw), external_attr=attr)
    raise ValueError(f"unknown name encoding {names!r}")


def build_zip(members: Iterable[tuple[str, bytes]], *, names: str = "gbk") -> bytes:
    """Zip as a given tool writes it; a name ending in '/' becomes a directory entry.

    names: "gbk" (Chinese Windows tools: GBK bytes, no UTF-8 flag), "utf8" (flag set),
    "utf8-noflag" (UTF-8 bytes, flag missing), "unicode-extra" (GBK bytes plus the
    0x7075 field, as 7-Zip >= 21.02 writes).
    """
    return write_zip(_zip_entry(name, data, names) for name, data in members)


def zip_symlink(name: str, target: str) -> bytes:
    """A Unix symlink entry: extracting it naively lets later members write through it."""
    mode = stat.S_IFLNK | 0o777
    entry = ZipEntry(
        name.encode("utf-8"), target.encode("utf-8"), flags=ZIP_FLAG_UTF8, external_attr=mode << 16, create_system=3
    )
    return write_zip([entry])


def _deflated_zeros(size: int) -> _Packed:
    """Compress ``size`` zero bytes a megabyte at a time so building a bomb never holds it."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    parts = []
    crc = 0
    left = size
    while left > 0:
        piece = chunk[: min(left, len(chunk))]
        parts.append(compressor.compress(piece))
        crc = zlib.crc32(piece, crc)
        left -= len(piece)
    parts.append(compressor.flush())
    return _Packed(ZipEntry("报道.docx".encode("gbk")), b"".join(parts), crc, size)


def zip_bomb(size: int = 50 * 1024 * 1024) -> bytes:
    """One member of ``size`` zeros: about 1000:1, honest headers, only the ratio gives it away."""
    packed = _deflated_zeros(size)
    local = _local_record(packed)
    central = _central_record(packed, 0)
    return local + central + _end_record(1, len(central), len(local))


def zip_overlapping_bomb(copies: int = 20, size: int = 2 * 1024 * 1024) -> bytes:
    """Many directory records sharing one compressed body (CVE-2024-0450's overlap)."""
    packed = _deflated_zeros(size)
    local = _local_record(packed)
    central = b"".join(_central_record(packed, 0) for _ in range(copies))
    return local + central + _end_record(copies, len(central), len(local))


def build_7z(
    members: Iterable[tuple[str, bytes]],
    *,
    password: str | None = None,
    encrypt_headers: bool = False,
) -> bytes:
    """7z via py7zr; ``encrypt_headers`` hides even the names, as 7-Zip's "encrypt file names" does."""
    if encrypt_headers and password is None:
        raise ValueError("encrypt_headers needs a password")
    import py7zr  # ~16 MB: not for the analysis worker, whose warm-up builds a zip from this module

    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", password=password, header_encryption=encrypt_headers) as archive:
        for name, data in members:
            archive.writestr(data, name)
    return out.getvalue()


# --- RAR 4.x, stored members only -------------------------------------------------------

_RAR_MARKER = b"Rar!\x1a\x07\x00"
_RAR_MAIN, _RAR_FILE, _RAR_END = 0x73, 0x74, 0x7B
_RAR_LONG_BLOCK = 0x8000
_RAR_MAIN_PASSWORD = 0x0080
_RAR_FILE_PASSWORD = 0x0004
_RAR_FILE_DIRECTORY = 0x00E0
_RAR_FILE_UNICODE = 0x0200
_RAR_FILE_SALT = 0x0400
_RAR_OS_WIN32, _RAR_OS_UNIX = 2, 3
_RAR_STORED = 0x30


def _rar_block(kind: int, flags: int, body: bytes) -> bytes:
    """HEAD_CRC is the low 16 bits of the CRC32 of everything after it in the header."""
    header = struct.pack("<BHH", kind, flags, 7 + len(body)) + body
    return struct.pack("<H", zlib.crc32(header) & 0xFFFF) + header


def _winrar_unicode(name: str) -> bytes:
    """WinRAR's compressed UTF-16 name, using only the verbatim 8- and 16-bit modes."""
    units = name.encode("utf-16-le")
    out = bytearray([0])  # high byte for mode 1, unused here
    for start in range(0, len(units), 8):
        group = [units[i : i + 2] for i in range(start, min(start + 8, len(units)), 2)]
        flags = 0
        payload = bytearray()
        for position, unit in enumerate(group):
            mode = 0 if unit[1] == 0 else 2
            flags |= mode << (6 - 2 * position)
            payload += unit[:1] if mode == 0 else unit
        out.append(flags)
        out += payload
    return bytes(out)


def _rar_name(name: str, legacy: bool) -> tuple[bytes, int]:
    """Plain OEM (GBK) bytes for ASCII or legacy names; else OEM bytes, NUL, WinRAR's Unicode form."""
    stored = name.replace("/", "\\").rstrip("\\")
    if stored.isascii() or legacy:
        return stored.encode("gbk"), 0
    return stored.encode("gbk", "replace") + b"\0" + _winrar_unicode(stored), _RAR_FILE_UNICODE


def _rar_file(
    name: str, data: bytes, *, host_os: int, attr: int, encrypted: bool = False, legacy: bool = False
) -> bytes:
    raw, flags = _rar_name(name, legacy)
    flags |= _RAR_LONG_BLOCK
    if name.endswith("/"):
        flags |= _RAR_FILE_DIRECTORY
    extra = b""
    if encrypted:
        flags |= _RAR_FILE_PASSWORD | _RAR_FILE_SALT
        extra = bytes(range(8))
    body = (
        struct.pack(
            "<LLBLLBBHL",
            len(data),
            len(data),
            host_os,
            zlib.crc32(data),
            (_DOS_DATE << 16) | _DOS_TIME,
            29,
            _RAR_STORED,
            len(raw),
            attr,
        )
        + raw
        + extra
    )
    return _rar_block(_RAR_FILE, flags, body) + data


def _rar_archive(files: Iterable[bytes], *, main_flags: int = 0) -> bytes:
    main = _rar_block(_RAR_MAIN, main_flags, bytes(6))
    return _RAR_MARKER + main + b"".join(files) + _rar_block(_RAR_END, 0x4000, b"")


def build_rar(
    members: Iterable[tuple[str, bytes]],
    *,
    encrypted: bool = False,
    encrypt_headers: bool = False,
    legacy_names: bool = False,
) -> bytes:
    """RAR 4.x with stored members as WinRAR on Chinese Windows writes them.

    ``encrypted`` sets the per-file password flag (and a salt), ``encrypt_headers``
    the archive's header-encryption flag (WinRAR -hp), without encrypting any bytes:
    enough for every reader to refuse it as password-protected. ``legacy_names``
    writes bare GBK names without the Unicode flag, as WinRAR 2.x did.
    """
    files = (
        _rar_file(
            name,
            data,
            host_os=_RAR_OS_WIN32,
            attr=0x10 if name.endswith("/") else 0x20,
            encrypted=encrypted,
            legacy=legacy_names,
        )
        for name, data in members
    )
    return _rar_archive(files, main_flags=_RAR_MAIN_PASSWORD if encrypt_headers else 0)


def rar_symlink(name: str, target: str) -> bytes:
    """A RAR 4.x Unix symlink entry (the shape behind rarfile #114)."""
    return _rar_archive(
        [
            _rar_file(name, target.encode("utf-8"), host_os=_RAR_OS_UNIX, attr=stat.S_IFLNK | 0o777),
        ]
    )


def sample_members() -> Sequence[tuple[str, bytes]]:
    """A typical submission: the manuscript and two photos in a folder named after the unit."""
    return (
        ("盘山县应急局/关于开展安全生产月活动的报道.docx", b"PK\x03\x04 docx stand-in"),
        ("盘山县应急局/现场照片1.jpg", b"\xff\xd8\xff\xe0 photo 1"),
        ("盘山县应急局/现场照片2.jpg", b"\xff\xd8\xff\xe0 photo 2"),
    )
