"""Zip entry names as Chinese Windows tools write them, and the central directory counted cheaply.

zipfile decodes names without the UTF-8 flag as cp437; tools in China write GBK there, and 7-Zip adds
the Info-ZIP Unicode Path field (0x7075), which Python 3.11 ignores: read it ourselves, trusting it
only while its CRC still matches the raw name.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import BinaryIO

ZIP_UTF8 = 0x0800  # general-purpose flag bit 11: the name is UTF-8
ZIP_UNICODE_PATH = 0x7075


def decode_legacy(raw: bytes) -> str:
    """Unflagged names: UTF-8 if they are valid UTF-8 (some tools forget the flag), else GB18030."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030", "replace")


# --- zip ---------------------------------------------------------------------------------


def unicode_path(extra: bytes, raw_name: bytes) -> str | None:
    """Info-ZIP Unicode Path (0x7075), trusted only while its CRC still matches the raw name."""
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == ZIP_UNICODE_PATH and len(body) >= 5 and body[0] == 1:
            if struct.unpack_from("<L", body, 1)[0] == zlib.crc32(raw_name):
                try:
                    return body[5:].decode("utf-8")
                except UnicodeDecodeError:
                    return None
        pos += 4 + size
    return None


def zip_name(info: zipfile.ZipInfo) -> str:
    """The name as the writer meant it; orig_filename keeps any NUL for _clean_path to refuse."""
    if info.flag_bits & ZIP_UTF8:
        return info.orig_filename
    raw = info.orig_filename.encode("cp437")  # zipfile decoded the raw bytes as cp437
    return unicode_path(info.extra, raw) or decode_legacy(raw)


_END_RECORDS = 22 + 0xFFFF + 20 + 56  # end record and its comment, zip64 locator and end record


def _directory_span(data: bytes) -> tuple[int, int] | None:
    """Where the central directory ends and its declared size, from the end records in `data`."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF))
    if end < 0 or end + 22 > len(data):
        return None  # not a zip zipfile can open; it will say so
    stop = end
    size = struct.unpack_from("<L", data, end + 12)[0]
    if data[end - 20 : end - 16] == b"PK\x06\x07":  # zip64: its end record sits before the locator
        stop = end - 20 - 56
        if stop >= 0 and data[stop : stop + 4] == b"PK\x06\x06":
            size = struct.unpack_from("<Q", data, stop + 40)[0]
    return stop, size


def zip_directory_entries(data: bytes) -> int:
    """Central-directory records, counted before zipfile builds an object for each one."""
    span = _directory_span(data)
    if span is None:
        return 0
    stop, size = span
    return data.count(b"PK\x01\x02", max(0, stop - size), max(0, stop))


def directory_tail(source: BinaryIO) -> bytes:
    """The end of a zip file that holds its central directory and end records: all that
    `zip_directory_entries` reads, without reading the members before them."""
    total = source.seek(0, io.SEEK_END)
    tail_size = min(total, _END_RECORDS)
    source.seek(total - tail_size)
    tail = source.read(tail_size)
    span = _directory_span(tail)
    if span is None:
        return tail
    wanted = min(total, span[1] + tail_size)
    source.seek(total - wanted)
    return source.read(wanted)
