"""Text as Chinese mail clients really encode it: charset labels that mean a superset (gb2312 for
GBK/GB18030), RFC 2047 encoded words, also illegal ones inside quoted file names, and raw 8-bit
headers. Pure functions over str and bytes, in linear time on hostile input.
"""

from __future__ import annotations

import binascii
import re

# Labels that clients write but mean the superset; decoding them as the superset loses nothing.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "ks_c_5601-1987": "cp949",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
FOLD = re.compile(r"\r?\n(?=[ \t])")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# RFC 2047 words. The encoded text stops at the first "?": the standard library's lazy ".*?" up to
# the next "?=" makes decode_header quadratic (a 200 KB subject of "=?utf-8?q?a" took a minute).
_ENCODED_WORD = re.compile(r"=\?([^?]*)\?([bBqQ])\?([^?]*)\?=")
_QP_ESCAPE = re.compile(rb"=([0-9A-Fa-f]{2})")
_NOT_BASE64 = re.compile(rb"[^A-Za-z0-9+/]")


def codec_for(charset: str) -> str | None:
    """A Python codec for a MIME label, or None when the label means nothing to us."""
    name = charset.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
    except (LookupError, ValueError):  # ValueError: a NUL inside the label
        return None
    return name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Labelled charset first; unlabelled 8-bit text is UTF-8 or, failing that, GB18030."""
    codec = codec_for(charset) if charset else None
    if codec:
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    try:
        text = data.decode("utf-8")
        if text.isascii() or _CJK.search(text):
            return text
    except UnicodeDecodeError:
        text = ""
    # Short GBK runs can also be valid UTF-8 (原始 -> ԭʼ): the reading that is Chinese wins.
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        return text or data.decode("utf-8", errors="replace")


def decode_header_value(value: str | None) -> str:
    """RFC 2047 words (also the illegal ones inside quoted filenames) and raw 8-bit headers."""
    if value is None:
        return ""
    raw = FOLD.sub("", str(value))
    return CONTROL.sub(" ", _decode_words(raw)).strip()


def _decode_words(raw: str) -> str:
    """Like email.header.decode_header joined up, in linear time.

    Adjacent words in one charset are decoded together (clients split a character's bytes
    across words); whitespace between two words is dropped (RFC 2047 §6.2); a word that does
    not decode stays as written. Raw 8-bit bytes arrive as surrogate escapes.
    """
    out: list[str] = []
    run: list[bytes] = []
    run_charset: str | None = None
    pos = 0

    def flush() -> None:
        if run:
            out.append(decode_bytes(b"".join(run), run_charset))
            run.clear()

    for match in _ENCODED_WORD.finditer(raw):
        between = raw[pos : match.start()]
        data = _word_bytes(match.group(2), match.group(3))
        if data is None:
            continue  # left as literal text: it is part of the next "between"
        charset = match.group(1).split("*", 1)[0]  # RFC 2231 adds *language
        if between and not (run and between.isspace()):
            flush()
            out.append(decode_bytes(between.encode("utf-8", "surrogateescape")))
        elif run and charset.lower() != (run_charset or "").lower():
            flush()
        run_charset = charset
        run.append(data)
        pos = match.end()
    flush()
    if pos < len(raw):
        out.append(decode_bytes(raw[pos:].encode("utf-8", "surrogateescape")))
    return "".join(out)


def _word_bytes(encoding: str, text: str) -> bytes | None:
    try:
        data = text.encode("ascii")
    except UnicodeEncodeError:
        return None
    if encoding in "bB":  # as leniently as the email package: stray characters and padding ignored
        data = _NOT_BASE64.sub(b"", data)
        data = data[: len(data) - len(data) % 4] if len(data) % 4 == 1 else data
        try:
            return binascii.a2b_base64(data + b"=" * (-len(data) % 4))
        except binascii.Error:
            return None
    return _QP_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data.replace(b"_", b" "))
