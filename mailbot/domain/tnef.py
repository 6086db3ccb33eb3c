"""Outlook's winmail.dat (application/ms-tnef): the files it wraps, as if they had been attached.

Outlook in rich-text (RTF) mode sends every attachment inside one winmail.dat, so a liaison's .docx
and photos arrive as a single file that no other client opens. tnefparse reads the format; this
module bounds what it is given:

* tnefparse copies the rest of the stream for each attribute it reads, which is quadratic in a
  stream of many attributes. The stream is cut here into one small stream per attached file (the
  attributes from one attAttachRendData to the next), so each copy is one file long.
* its MAPI reader loops as many times as a property count says, even past the end of the bytes
  (a count of 2**32 runs for hours): every count is checked against the bytes left first.
* an attachment that is itself an Outlook item (an embedded message) is parsed recursively: its
  attAttachment is left out, since a forwarded mail is no manuscript or photo.

Checksums are not verified: tnefparse only logs a mismatch, and every file is judged by its own
reader (docx, photos) anyway.
"""

from __future__ import annotations

import struct
from pathlib import PurePosixPath
from typing import Any

from mailbot.domain.archive import ARCHIVE_TOO_LARGE, ARCHIVE_TOO_MANY_MEMBERS, ArchiveError, Limits, Member
from mailbot.domain.charsets import decode_bytes

OUTLOOK_TNEF = "outlook_tnef"
TNEF_CONTENT_TYPES = frozenset({"application/ms-tnef", "application/vnd.ms-tnef"})
SIGNATURE = struct.pack("<I", 0x223E9F78)

_LEVEL_MESSAGE = 0x01
_LEVEL_ATTACHMENT = 0x02
_HEADER = struct.Struct("<BHHI")  # level, attribute name, attribute type, payload length
_CHECKSUM_BYTES = 2
_ATT_OEM_CODEPAGE = 0x9007
_ATT_ATTACH_REND_DATA = 0x9002  # opens each attachment's attributes
_ATT_ATTACH_TITLE = 0x8010
_ATT_ATTACHMENT = 0x9005  # the attachment's MAPI properties (long file name, data object)
# The GUID (IID_IMessage) that starts an embedded Outlook item's data object.
_IMESSAGE = b"\x07\x03\x02\x00\x00\x00\x00\x00\xc0\x00\x00\x00\x00\x00\x00\x46"

# MAPI property types: the bytes one value takes, or None for length-prefixed values.
_MULTI_VALUE = 0x1000
_NAMED = 0x8000
_FIXED_SIZE = {0x0001: 0, 0x0002: 2, 0x000B: 2, 0x0003: 4, 0x0004: 4, 0x000A: 4}
_FIXED_SIZE |= {0x0005: 8, 0x0006: 8, 0x0007: 8, 0x0014: 8, 0x0040: 8, 0x0048: 16}
_VARIABLE = frozenset({0x0000, 0x000D, 0x001E, 0x001F, 0x0102})
_MAX_MAPI_PROPERTIES = 4096  # an attachment carries a few dozen


class TnefError(ArchiveError):
    """The winmail.dat cannot be read: it is the liaison's Outlook setting that must change."""

    def __init__(self, why: str) -> None:
        super().__init__(OUTLOOK_TNEF)
        self.why = why  # for logs; the reply names the attachment


def is_tnef(name: str, content_type: str, data: bytes) -> bool:
    """By type, by Outlook's fixed name, or by signature: gateways relabel it application/octet-stream."""
    return (
        content_type.lower() in TNEF_CONTENT_TYPES
        or PurePosixPath(name.replace("\\", "/")).name.lower() == "winmail.dat"
        or data.startswith(SIGNATURE)
    )


def unwrap_tnef(data: bytes, limits: Limits) -> tuple[Member, ...]:
    """The files a winmail.dat holds, in order; TnefError when it is not one, ArchiveError past ``limits``."""
    if len(data) > limits.max_total_bytes:
        raise ArchiveError(ARCHIVE_TOO_LARGE, str(limits.max_total_bytes))
    if not data.startswith(SIGNATURE) or len(data) < 6:
        raise TnefError("no TNEF signature")
    key = data[4:6]
    codepage = b""
    groups: list[list[bytes]] = []
    for level, name, start, end in _attributes(data):
        if level == _LEVEL_MESSAGE:
            if name == _ATT_OEM_CODEPAGE:
                codepage = data[start - _HEADER.size : end + _CHECKSUM_BYTES]
            continue
        if name == _ATT_ATTACH_REND_DATA:
            if len(groups) >= limits.max_members:
                raise ArchiveError(ARCHIVE_TOO_MANY_MEMBERS, str(limits.max_members))
            groups.append([])
        elif not groups:
            raise TnefError("attachment attribute before any attAttachRendData")
        if name == _ATT_ATTACHMENT and (not _mapi_fits(data, start, end) or _IMESSAGE in data[start:end]):
            continue
        groups[-1].append(data[start - _HEADER.size : end + _CHECKSUM_BYTES])
    charset = _codepage_name(codepage)
    members: list[Member] = []
    for group in groups:
        try:
            parsed = _tnef()(SIGNATURE + key + codepage + b"".join(group), do_checksum=False)
        except Exception as exc:  # noqa: BLE001 - tnefparse raises whatever struct and codecs raise
            raise TnefError(f"{type(exc).__name__}: {exc}") from exc
        for attachment in parsed.attachments:
            file_name = _file_name(attachment, group, charset)
            if isinstance(attachment.data, bytes) and file_name:
                members.append(Member(file_name, attachment.data))
    return tuple(members)


def _attributes(data: bytes) -> list[tuple[int, int, int, int]]:
    """(level, name, payload start, payload end) of every attribute, each checked to lie inside the bytes."""
    found: list[tuple[int, int, int, int]] = []
    offset = 6
    # A few bytes of padding after the last attribute are tolerated, as tnefparse does.
    while offset + _HEADER.size + _CHECKSUM_BYTES <= len(data):
        level, name, _type, length = _HEADER.unpack_from(data, offset)
        start = offset + _HEADER.size
        end = start + length
        if level not in (_LEVEL_MESSAGE, _LEVEL_ATTACHMENT) or end + _CHECKSUM_BYTES > len(data):
            raise TnefError(f"attribute {name:#06x} at {offset}: level {level}, {length} bytes")
        found.append((level, name, start, end))
        offset = end + _CHECKSUM_BYTES
    if not found:
        raise TnefError("no attributes")
    return found


def _mapi_fits(data: bytes, start: int, end: int) -> bool:
    """Whether every count in a MAPI property list fits in the bytes after it (see the module doc)."""
    try:
        (count,) = struct.unpack_from("<I", data, start)
        offset = start + 4
        if count > min(_MAX_MAPI_PROPERTIES, (end - offset) // 8):  # a property takes at least 8 bytes
            return False
        for _ in range(count):
            kind, name = struct.unpack_from("<HH", data, offset)
            offset += 4
            if name >= _NAMED:  # GUID, then a number or a length-prefixed name
                (named_by,) = struct.unpack_from("<I", data, offset + 16)
                offset += 20
                offset += 4 if named_by == 0 else 4 + _padded(struct.unpack_from("<I", data, offset)[0])
            base = kind & ~_MULTI_VALUE
            size = _FIXED_SIZE.get(base)
            if size is None and base not in _VARIABLE:
                return False
            values = 1
            if kind & _MULTI_VALUE or size is None:
                (values,) = struct.unpack_from("<I", data, offset)
                offset += 4
            if values > (end - offset) // max(size or 4, 1):
                return False
            for _ in range(values):
                offset += size if size is not None else 4 + _padded(struct.unpack_from("<I", data, offset)[0])
            if base in (0x0002, 0x000B) and values % 2:
                offset += 2  # 16-bit values are padded to four bytes
            if offset > end:
                return False
    except struct.error:
        return False
    return True


def _padded(length: int) -> int:
    return length + (-length % 4)


def _codepage_name(attribute: bytes) -> str | None:
    """attOemCodepage's number as a charset label: 936 (Simplified Chinese Windows) reads as GB18030."""
    if len(attribute) < _HEADER.size + 4:
        return None
    (number,) = struct.unpack_from("<I", attribute, _HEADER.size)
    return "gb18030" if number == 936 else "utf-8" if number == 65001 else f"cp{number}"


def _file_name(attachment: object, group: list[bytes], charset: str | None) -> str:
    """The long file name from the MAPI properties, else attAttachTitle (an 8.3 name in old Outlook)."""
    long_name = ""
    try:
        long_name = attachment.long_filename()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - a title that is not UTF-8: read from the raw attribute below
        pass
    if isinstance(long_name, list):
        long_name = long_name[0] if long_name else ""
    if isinstance(long_name, bytes):
        long_name = decode_bytes(long_name, charset)
    if not long_name:
        titles = [a for a in group if struct.unpack_from("<H", a, 1)[0] == _ATT_ATTACH_TITLE]
        long_name = decode_bytes(titles[0][_HEADER.size : -_CHECKSUM_BYTES], charset) if titles else ""
    name = PurePosixPath(str(long_name).replace("\\", "/").strip("\x00").strip()).name
    return "".join(ch for ch in name if ch.isprintable())


def _tnef() -> type[Any]:
    """tnefparse, loaded by the first winmail.dat a process reads (the analysis worker's)."""
    from tnefparse import TNEF

    return TNEF
