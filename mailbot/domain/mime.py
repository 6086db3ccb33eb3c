"""Raw message bytes -> the facts mailbot needs, decoding the charsets Chinese mail really uses.

The standard library's `email` (compat32) is used rather than mail-parser: both decode an encoded-word
or RFC 2231 value labelled gb2312 with the gb2312 codec and turn every GBK-only character (镕, 堃, many
names) into U+FFFD, and mail-parser adds its own attachment-name bugs (its issues #26, #73). Working
from the raw header values lets us decode gb2312/gbk as GB18030, which is what Windows clients mean.
"""

from __future__ import annotations

import binascii
import email
import email.parser
import email.utils
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.message import Message
from html import unescape

from mailbot.domain.charsets import CONTROL, FOLD, decode_bytes, decode_header_value
from mailbot.domain.lift import Raw, Spill, Spilled, lift_base64

_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')
# Parameter headers longer than this are hostile: RFC 2231 names of 200 CJK characters take 4 KB.
_MAX_PARAM_HEADER = 64 * 1024
# An address header is a few hundred characters; parseaddr recurses on "(((" and "a:a:a:".
_MAX_ADDRESS_HEADER = 4096


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes = field(repr=False)
    size: int = -1  # of the bytes; -1: len(data)
    # Set when the bytes were handed over as a file named by this digest (`data` is then empty), so
    # that a process which needs only the facts never holds megabytes of them.
    sha256: str = ""
    file: str = ""  # in the analysis worker: the file the bytes were decoded to (`data` is then empty)

    def __post_init__(self) -> None:
        if self.size < 0:
            object.__setattr__(self, "size", len(self.data))


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
    unreadable: str = ""  # why only the headers could be read; "" when the whole message was


class _Message(Message):
    """compat32 Message whose parameter parsing is linear and never raises.

    The standard library's ``_parseparam`` copies the rest of the header per ";" and recounts
    quotes per candidate (gh-136063: a 1 MB Content-Type takes minutes), and ``decode_params``
    raises TypeError on "name*=..; name*0=.." and ValueError on a 5000-digit continuation
    number. The feedparser asks for the boundary while parsing, so this must be the class.
    """

    def _get_params_preserve(self, failobj: object, header: str) -> object:
        missing = object()
        value = self.get(header, missing)
        if value is missing:
            return failobj
        params = []
        for piece in _split_params(str(value)[:_MAX_PARAM_HEADER]):
            name, sep, val = piece.partition("=")
            params.append((name.strip().lower(), val.strip()) if sep else (piece.strip(), ""))
        try:
            return email.utils.decode_params(params)
        except (TypeError, ValueError):  # RFC 2231 continuations that cannot be put in order
            return [params[0], *((n, v) for n, v in params[1:] if "*" not in n)]


def _split_params(value: str) -> list[str]:
    """Split at each ";" outside double quotes, as email.message._parseparam does."""
    quotes = [m.start() for m in _UNESCAPED_QUOTE.finditer(value)]
    pieces: list[str] = []
    start = seen = 0
    for semicolon in (m.start() for m in re.finditer(";", value)):
        while seen < len(quotes) and quotes[seen] < semicolon:
            seen += 1
        if seen % 2 == 0:
            pieces.append(value[start:semicolon])
            start = semicolon + 1
    pieces.append(value[start:])
    return [piece.strip() for piece in pieces]


def _params(part: Message, header: str) -> Message:
    """A header's parameters with raw 8-bit bytes (GBK names some clients send) decoded first."""
    holder = _Message()
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
            return CONTROL.sub("", decode_bytes(text.encode("latin-1", "replace"), charset)).strip()
        return decode_header_value(email.utils.unquote(value))
    return ""


def _is_attachment(part: Message) -> bool:
    if part.is_multipart():
        return False
    disposition = (part.get_content_disposition() or "").lower()
    if disposition == "attachment" or _filename(part):
        return True
    return part.get_content_maintype() in ("application", "image")


_UU_BEGIN = re.compile(r"^begin [0-7]{3,4} ([^\r\n]*\S)[ \t\r]*$", re.MULTILINE)
_UU_END = re.compile(r"^end[ \t\r]*$", re.MULTILINE)


def _uudecoded(text: str) -> tuple[str, list[Attachment]]:
    """Files some clients and gateways put in the body as uuencode blocks (mail-parser #80).

    A block counts only from "begin 644 name" to "end" with every line valid uuencode; the
    text keeps everything else. Each search starts after the last block, so this stays linear.
    """
    found: list[Attachment] = []
    kept: list[str] = []
    pos = 0
    while (begin := _UU_BEGIN.search(text, pos)) is not None:
        end = _UU_END.search(text, begin.end())
        if end is None:
            break
        data = _uu_data(text[begin.end() : end.start()])
        if data is None:
            kept.append(text[pos : end.end()])
        else:
            kept.append(text[pos : begin.start()])
            found.append(Attachment(begin.group(1).strip(), "application/octet-stream", data))
        pos = end.end()
    kept.append(text[pos:])
    return "".join(kept), found


def _uu_data(block: str) -> bytes | None:
    chunks = []
    for line in block.split("\n"):
        line = line.rstrip("\r")
        if not line or line == "`":
            continue
        try:
            raw = line.encode("ascii")
            length = (((raw[0] - 32) & 63) * 4 + 5) // 3  # trailing padding some encoders add
            chunks.append(binascii.a2b_uu(raw[:length]))
        except (UnicodeEncodeError, binascii.Error):
            return None
    return b"".join(chunks) or None


_BLOCK_START = re.compile(r"<(script|style)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^<>]*>")


def _html_to_text(html: str) -> str:
    """Visible text, in linear time: unclosed "<" or "<script" must not make it quadratic."""
    kept: list[str] = []
    lower = html.lower()
    pos = 0
    while (block := _BLOCK_START.search(html, pos)) is not None:
        kept.append(html[pos : block.start()])
        end = lower.find("</" + block.group(1).lower(), block.end())
        close = html.find(">", end) if end >= 0 else -1
        pos = close + 1 if close >= 0 else len(html)  # an unclosed script runs to the end
    kept.append(html[pos:])
    text = unescape(_TAG.sub(" ", " ".join(kept)))  # after the tags: "&lt;p&gt;" is text, not a tag
    return re.sub(r"\s+", " ", text).strip()


def _address(msg: Message) -> tuple[str, str]:
    """(display name, address) from the raw From header.

    The address is read before any RFC 2047 word is decoded: a display name that decodes to
    "liaison@unit.cn" must not become the sender (it would pass for a registered liaison
    while DKIM and DMARC vouch only for the real address).
    """
    raw = next((v for k, v in msg.raw_items() if k.lower() == "from" and isinstance(v, str)), "")
    try:
        name, addr = email.utils.parseaddr(FOLD.sub("", raw)[:_MAX_ADDRESS_HEADER])
    except Exception:  # RecursionError on "((((" or "a:a:a:"; nothing else is worth trusting either
        return decode_header_value(raw[:_MAX_ADDRESS_HEADER]), ""
    address = decode_bytes(addr.encode("utf-8", "surrogateescape"))  # raw 8-bit bytes, if any
    return decode_header_value(name), CONTROL.sub("", address).strip().lower()


def message_ids(value: str) -> tuple[str, ...]:
    return tuple(re.findall(r"<[^<>\s]+>", value or ""))


def parse_message(raw: Raw, spill: Spill | None = None) -> ParsedMail:
    """The facts of any bytes whatsoever: this never raises.

    Mail nested past the interpreter's recursion limit (a 2000-deep multipart) or otherwise
    beyond the standard library is read for its headers alone, with ``unreadable`` saying why.
    With a `spill`, large attachments are decoded to files and carry their `file`, not their bytes.
    """
    try:
        try:
            small, lifted = lift_base64(raw, spill)
        except binascii.Error:  # a body the strict decoder refuses: the email package copes with it
            small, lifted = b"", {}
        if lifted:
            try:
                return _facts(email.message_from_bytes(small, _class=_Message), lifted=lifted)
            except _NotLifted:
                pass
        return _facts(email.message_from_bytes(raw if isinstance(raw, bytes) else raw[:], _class=_Message))
    except (RecursionError, MemoryError) as exc:
        why = f"{type(exc).__name__}: the message structure is too deep or too large"
    except Exception as exc:  # noqa: BLE001 - one boundary for the standard library's surprises
        why = f"{type(exc).__name__}: {exc}"[:200]
    try:
        headers_only = email.parser.BytesHeaderParser(_class=_Message).parsebytes(header_block(raw))
        return _facts(headers_only, body=False, unreadable=why)
    except Exception:  # noqa: BLE001
        return ParsedMail("", "", "", "", None, (), {}, "text/plain", "", (), unreadable=why)


def header_end(raw: Raw) -> int:
    """Where the header block ends: the first blank line (CRLF or bare LF), else the end. The LF
    search stops there, so a CRLF message is not scanned to its last byte a second time."""
    crlf = raw.find(b"\r\n\r\n")
    lf = raw.find(b"\n\n", 0, len(raw) if crlf < 0 else crlf + 1)
    return min((i for i in (crlf, lf) if i >= 0), default=len(raw))


def header_block(raw: Raw) -> bytes:
    """The header block with its blank line: all that a header parser reads of a message (the
    email package would otherwise split the whole body into lines and keep it as the payload)."""
    return raw[: header_end(raw) + 4]


def parse_headers(raw: bytes, why: str = "") -> ParsedMail:
    """The facts of the header block alone: who sent it and what about, without touching a body.
    For deciding before anything is unpacked, and for a message whose analysis failed."""
    try:
        head = email.parser.BytesHeaderParser(_class=_Message).parsebytes(header_block(raw))
        return _facts(head, body=False, unreadable=why)
    except Exception:  # noqa: BLE001 - the header block of any bytes whatsoever
        return ParsedMail("", "", "", "", None, (), {}, "text/plain", "", (), unreadable=why)


class _NotLifted(Exception):
    """A lifted body did not come back where a base64 part was expected: parse the original bytes."""


def _payload(part: Message, lifted: dict[str, bytes | Spilled], claimed: set[str]) -> bytes | Spilled:
    raw = part.get_payload()
    if lifted and isinstance(raw, str) and raw.strip() in lifted:
        if part.get("content-transfer-encoding", "").strip().lower() != "base64":
            raise _NotLifted
        claimed.add(raw.strip())
        return lifted[raw.strip()]
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _facts(
    msg: Message, *, body: bool = True, unreadable: str = "", lifted: dict[str, bytes | Spilled] | None = None
) -> ParsedMail:
    headers = {k.lower(): decode_header_value(v) for k, v in reversed(msg.items())}
    sender_name, sender = _address(msg)
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    claimed: set[str] = set()
    for part in msg.walk() if body else ():
        if part.is_multipart():
            continue
        payload = _payload(part, lifted or {}, claimed)
        if _is_attachment(part):
            name, content_type = _filename(part) or "未命名附件", part.get_content_type()
            if isinstance(payload, Spilled):
                attachments.append(Attachment(name, content_type, b"", payload.size, payload.sha256, payload.file))
            else:
                attachments.append(Attachment(name, content_type, payload))
            continue
        data = payload.read() if isinstance(payload, Spilled) else payload
        if part.get_content_type() == "text/plain":
            text, inline = _uudecoded(decode_bytes(data, part.get_content_charset()))
            plain.append(text)
            attachments.extend(inline)
        elif part.get_content_type() == "text/html":
            html.append(_html_to_text(decode_bytes(data, part.get_content_charset())))
    if lifted and claimed != set(lifted):
        raise _NotLifted
    try:
        date = email.utils.parsedate_to_datetime(headers["date"]) if headers.get("date") else None
    except Exception:  # TypeError, ValueError, IndexError, OverflowError on "+99999999999999999999"
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
        unreadable=unreadable,
    )
