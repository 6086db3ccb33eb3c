"""Incoming email as real clients write it, including their encoding habits.

- "foxmail": GB2312-labelled RFC 2047 subject and names (with GBK-only characters inside) and
  RFC 2047 words inside quoted filenames (illegal, common);
- "outlook": UTF-8 subject, RFC 2231 `filename*=utf-8''...` names;
- "webmail": UTF-8 everywhere, base64 words in `filename="..."`.
"""

from __future__ import annotations

import base64
import urllib.parse
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime, make_msgid

_CONTENT_TYPES = {
    ".zip": "application/x-zip-compressed",
    ".7z": "application/x-7z-compressed",
    ".rar": "application/x-rar-compressed",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}
# Outlook in rich-text mode sends every attachment inside this one file.
_NAMED_TYPES = {"winmail.dat": "application/ms-tnef"}


def _word(text: str, charset: str) -> str:
    if text.isascii():
        return text
    codec = "gb18030" if charset == "gb2312" else charset
    return f"=?{charset}?B?{base64.b64encode(text.encode(codec)).decode()}?="


def _disposition(name: str, style: str) -> str:
    if style == "outlook":
        return f"attachment;\r\n filename*=utf-8''{urllib.parse.quote(name)}"
    charset = "gb2312" if style == "foxmail" else "utf-8"
    return f'attachment;\r\n filename="{_word(name, charset)}"'


def _b64(data: bytes) -> str:
    return base64.encodebytes(data).decode("ascii").rstrip("\n").replace("\n", "\r\n")


def build_mail(
    sender: str,
    subject: str,
    attachments: Sequence[tuple[str, bytes]] = (),
    *,
    sender_name: str = "",
    to: str = "pjyjjbgs@163.com",
    body: str = "请审阅，谢谢！",
    style: str = "foxmail",
    message_id: str = "",
    date: datetime | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> bytes:
    charset = "gb2312" if style == "foxmail" else "utf-8"
    codec = "gb18030" if charset == "gb2312" else "utf-8"
    boundary = "----=_NextPart_mailbot_sample_0001"
    lines = [
        f"From: {_word(sender_name, charset) + ' ' if sender_name else ''}<{sender}>",
        f"To: {to}",
        f"Subject: {_word(subject, charset)}",
        f"Date: {format_datetime(date or datetime.now(UTC))}",
        f"Message-ID: {message_id or make_msgid(domain='sample.test')}",
        "MIME-Version: 1.0",
        *(f"{k}: {v}" for k, v in headers),
    ]
    text_part = [
        f"Content-Type: text/plain; charset={charset}",
        "Content-Transfer-Encoding: base64",
        "",
        _b64(body.encode(codec)),
    ]
    if not attachments:
        return "\r\n".join([*lines, *text_part, ""]).encode("ascii")
    parts = [
        *lines,
        f'Content-Type: multipart/mixed; boundary="{boundary}"',
        "",
        "This is a multi-part message in MIME format.",
        "",
        f"--{boundary}",
        *text_part,
    ]
    for name, data in attachments:
        suffix = name[name.rfind(".") :].lower() if "." in name else ""
        ctype = _NAMED_TYPES.get(name.lower()) or _CONTENT_TYPES.get(suffix, "application/octet-stream")
        parts += [
            "",
            f"--{boundary}",
            f'Content-Type: {ctype};\r\n name="{_word(name, charset)}"',
            "Content-Transfer-Encoding: base64",
            f"Content-Disposition: {_disposition(name, style)}",
            "",
            _b64(data),
        ]
    parts += ["", f"--{boundary}--", ""]
    return "\r\n".join(parts).encode("ascii")
