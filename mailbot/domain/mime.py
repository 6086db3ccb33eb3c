"""Raw message bytes -> the facts mailbot needs, decoding the charsets Chinese mail really uses.

The standard library's `email` (compat32) is used rather than mail-parser: both decode an encoded-word
or RFC 2231 value labelled gb2312 with the gb2312 codec and turn every GBK-only character (镕, 堃, many
names) into U+FFFD, and mail-parser adds its own attachment-name bugs (its issues #26, #73). Working
from the raw header values lets us decode gb2312/gbk as GB18030, which is what Windows clients mean.
"""

from __future__ import annotations

import email
import email.utils
import re
from dataclasses import dataclass
from datetime import datetime
from email.header import decode_header
from email.message import Message

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
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    message_id: str
    sender: str
    sender_name: str
    subject: str
    date: datetime | None
    references: tuple[str, ...]
    headers: dict[str, str]
    content_type: str
    text: str
    attachments: tuple[Attachment, ...]


def _codec(charset: str) -> str | None:
    """A Python codec for a MIME label, or None when the label means nothing to us."""
    name = charset.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return None
    return name


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Labelled charset first; unlabelled 8-bit text is UTF-8 or, failing that, GB18030."""
    codec = _codec(charset) if charset else None
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
    raw = _FOLD.sub("", str(value))
    parts: list[str] = []
    try:
        chunks = decode_header(raw)
    except Exception:  # email.errors.HeaderParseError and binascii errors on broken words
        chunks = [(raw, None)]
    for chunk, charset in chunks:
        if isinstance(chunk, str):  # raw 8-bit header bytes arrive as surrogate escapes
            chunk = chunk.encode("utf-8", "surrogateescape")
        parts.append(decode_bytes(chunk, charset))
    return _CONTROL.sub(" ", "".join(parts)).strip()


def _params(part: Message, header: str) -> Message:
    """A header's parameters with raw 8-bit bytes (GBK names some clients send) decoded first."""
    holder = Message()
    for name, value in part.raw_items():
        if name.lower() == header and isinstance(value, str):
            holder[header] = decode_bytes(value.encode("utf-8", "surrogateescape"))
            break
    return holder


def _filename(part: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = _params(part, header).get_param(param, header=header)
        if value is None:
            continue
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded latin-1 text)
            charset, _lang, text = value
            return _CONTROL.sub("", decode_bytes(text.encode("latin-1", "replace"), charset)).strip()
        return decode_header_value(email.utils.unquote(value))
    return ""


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() in ("application", "image")


def _html_to_text(html: str) -> str:
    text = re.sub(r"(?is)<(script|style).*?</\1>", " ", html)
    text = re.sub(r"(?s)<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", text.replace("&nbsp;", " ")).strip()


def _address(value: str) -> tuple[str, str]:
    name, addr = email.utils.parseaddr(value)
    return decode_header_value(name), addr.strip().lower()


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<[^<>\s]+>", value or ""))


def parse_message(raw: bytes) -> ParsedMail:
    msg = email.message_from_bytes(raw)
    headers = {k.lower(): decode_header_value(v) for k, v in reversed(msg.items())}
    sender_name, sender = _address(headers.get("from", ""))
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        if _is_attachment(part):
            attachments.append(Attachment(name=_filename(part) or "未命名附件",
                                          content_type=part.get_content_type(), data=data))
        elif part.get_content_type() == "text/plain":
            plain.append(decode_bytes(data, part.get_content_charset()))
        elif part.get_content_type() == "text/html":
            html.append(_html_to_text(decode_bytes(data, part.get_content_charset())))
    try:
        date = email.utils.parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except (TypeError, ValueError, IndexError):
        date = None
    message_id = message_ids(headers.get("message-id", ""))
    return ParsedMail(
        message_id=message_id[0] if message_id else "",
        sender=sender,
        sender_name=sender_name,
        subject=headers.get("subject", ""),
        date=date,
        references=message_ids(headers.get("references", "")) or message_ids(headers.get("in-reply-to", "")),
        headers=headers,
        content_type=msg.get_content_type(),
        text="\n".join(plain) if plain else "\n".join(html),
        attachments=tuple(attachments),
    )
