"""Text as every sink can hold it: the sender's file names and subjects travel into reasons, the
database, XML (docx, xlsx) and mail, and some of those refuse control characters outright."""

from __future__ import annotations

import re

# XML 1.0 allows tab, newline and carriage return below U+0020, nothing in the surrogate block,
# and not U+FFFE/U+FFFF; C1 controls and DEL are legal XML but mean nothing to a reader.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def printable(text: str) -> str:
    """`text` without characters XML, a workbook cell or a reader cannot hold: each becomes "?".

    >>> printable("照片\\x01.jpg")
    '照片?.jpg'
    """
    return _UNPRINTABLE.sub("?", text)
