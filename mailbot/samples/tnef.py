"""winmail.dat as Outlook writes it in rich-text mode, built from the TNEF format itself.

A TNEF stream is the signature 0x223E9F78, a 16-bit key, then attributes: a level byte (1 for the
message, 2 for an attachment), a 32-bit attribute id (16-bit name, 16-bit type), a 32-bit length,
the payload and a 16-bit checksum (the payload's bytes summed modulo 65536). Each attachment opens
with attAttachRendData and carries attAttachTitle (the name in the ANSI codepage), attAttachData
(the file) and attAttachment (MAPI properties, among them the long file name).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

SIGNATURE = 0x223E9F78
LEVEL_MESSAGE = 0x01
LEVEL_ATTACHMENT = 0x02

# Attribute ids: type << 16 | name.
ATT_TNEF_VERSION = 0x00089006  # atpDword
ATT_OEM_CODEPAGE = 0x00069007  # atpByte: two dwords, the primary codepage first
ATT_MESSAGE_CLASS = 0x00078008  # atpWord (a string in practice)
ATT_ATTACH_REND_DATA = 0x00069002
ATT_ATTACH_TITLE = 0x00018010  # atpString
ATT_ATTACH_DATA = 0x0006800F
ATT_ATTACHMENT = 0x00069005

PT_LONG = 0x0003
PT_STRING8 = 0x001E
PR_ATTACH_METHOD = 0x3705
PR_ATTACH_LONG_FILENAME = 0x3707
PR_ATTACH_EXTENSION = 0x3703
ATTACH_BY_VALUE = 1


def attribute(level: int, attribute_id: int, payload: bytes) -> bytes:
    checksum = sum(payload) & 0xFFFF
    return struct.pack("<BII", level, attribute_id, len(payload)) + payload + struct.pack("<H", checksum)


def _string8(tag: int, text: bytes) -> bytes:
    value = text + b"\x00"
    return struct.pack("<HHII", PT_STRING8, tag, 1, len(value)) + value + b"\x00" * (-len(value) % 4)


def mapi_properties(long_name: bytes) -> bytes:
    """attAttachment's payload: attach method, extension and long file name."""
    extension = b"." + long_name.rsplit(b".", 1)[-1] if b"." in long_name else b""
    properties = [
        struct.pack("<HHI", PT_LONG, PR_ATTACH_METHOD, ATTACH_BY_VALUE),
        _string8(PR_ATTACH_EXTENSION, extension),
        _string8(PR_ATTACH_LONG_FILENAME, long_name),
    ]
    return struct.pack("<I", len(properties)) + b"".join(properties)


def short_name(name: str) -> str:
    """The 8.3 name old Outlook put in attAttachTitle: "关于开展防灾减灾宣传周.docx" -> "关于开~1.DOC"."""
    stem, _, extension = name.rpartition(".")
    return f"{stem[:3]}~1.{extension[:3].upper()}" if len(stem) > 8 or len(extension) > 3 else name


def build_tnef(
    files: Sequence[tuple[str, bytes]], *, codepage: int = 936, long_names: bool = True, key: int = 0x4C2B
) -> bytes:
    """A winmail.dat holding ``files``; names are written in ``codepage`` (936: Chinese Windows' GBK).

    Without ``long_names`` the MAPI properties are left out and only attAttachTitle names a file, as
    in the oldest Outlook versions.
    """
    encoding = "gbk" if codepage == 936 else f"cp{codepage}"
    stream = [
        struct.pack("<IH", SIGNATURE, key),
        attribute(LEVEL_MESSAGE, ATT_TNEF_VERSION, struct.pack("<I", 0x00010000)),
        attribute(LEVEL_MESSAGE, ATT_OEM_CODEPAGE, struct.pack("<II", codepage, 0)),
        attribute(LEVEL_MESSAGE, ATT_MESSAGE_CLASS, b"IPM.Microsoft Mail.Note\x00"),
    ]
    for position, (name, data) in enumerate(files):
        encoded = name.encode(encoding)
        # atyp 1 (a file), position in the RTF body, rendering width and height, flags
        rendering = struct.pack("<HIhhI", 1, position, 32, 32, 0)
        title = (short_name(name) if long_names else name).encode(encoding) + b"\x00"
        stream += [
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_REND_DATA, rendering),
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_TITLE, title),
            attribute(LEVEL_ATTACHMENT, ATT_ATTACH_DATA, data),
        ]
        if long_names:
            stream.append(attribute(LEVEL_ATTACHMENT, ATT_ATTACHMENT, mapi_properties(encoded)))
    return b"".join(stream)
