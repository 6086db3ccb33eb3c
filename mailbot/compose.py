"""Building the MIME of what mailbot sends: UTF-8 text + HTML, RFC 2047 headers, loop guards.

Nothing a sender wrote reaches a header unsanitised (CVE-2024-6923): subjects lose control
characters and are cut to a sane length before the email package encodes them.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")
_REPLY_PREFIX = re.compile(r"^\s*(re|回复|答复)\s*[:：]", re.IGNORECASE)


def clean_header_text(text: str, limit: int = 120) -> str:
    """One safe line; a sender's "=?" is broken with a word joiner so the email package never decodes
    their text as an encoded word a second time (it would fail to fold a lone surrogate)."""
    text = re.sub(r"\s+", " ", _UNSAFE.sub(" ", text)).strip().replace("=?", "=\u2060?")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def reply_subject(subject: str) -> str:
    subject = clean_header_text(subject) or "(无主题)"
    return subject if _REPLY_PREFIX.match(subject) else f"Re: {subject}"


@dataclass(frozen=True)
class Envelope:
    from_address: str
    from_name: str
    to: tuple[str, ...]
    subject: str
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    auto_submitted: str = "auto-replied"


def new_message_id(from_address: str) -> str:
    """A Message-ID unique by construction: 128 bits from `secrets`, never the global `random`
    (which `email.utils.make_msgid` uses and which test frameworks reseed), plus the time."""
    domain = from_address.rsplit("@", 1)[-1].strip() or "mailbot.local"
    return f"<{time.time_ns():x}.{secrets.token_hex(16)}@{domain}>"


def compose(
    env: Envelope,
    text: str,
    html: str,
    message_id: str,
    date: object,
    *,
    inline: tuple[tuple[str, bytes, str], ...] = (),
    attachments: tuple[tuple[str, bytes, str], ...] = (),
) -> EmailMessage:
    """`inline` parts (cid, bytes, type) are shown inside the HTML; `attachments` (file name, bytes,
    type) travel as files, their names RFC 2231-encoded."""
    msg = EmailMessage(policy=SMTP)
    local, _, domain = env.from_address.partition("@")
    msg["From"] = Address(display_name=clean_header_text(env.from_name, 60), username=local, domain=domain)
    msg["To"] = ", ".join(env.to)
    msg["Subject"] = clean_header_text(env.subject, 200)
    msg["Date"] = format_datetime(date)  # type: ignore[arg-type]
    msg["Message-ID"] = message_id
    if env.in_reply_to:
        msg["In-Reply-To"] = env.in_reply_to
        msg["References"] = " ".join(dict.fromkeys((*env.references, env.in_reply_to)))
    msg["Auto-Submitted"] = env.auto_submitted
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Precedence"] = "auto_reply" if env.auto_submitted == "auto-replied" else "bulk"
    msg.set_content(text, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    if inline:
        html_part = msg.get_payload()[1]  # type: ignore[index]
        assert isinstance(html_part, EmailMessage)  # the alternative just added
        for cid, data, mime in inline:
            maintype, subtype = mime.split("/", 1)
            html_part.add_related(data, maintype, subtype, cid=f"<{cid}>", disposition="inline")
    for filename, data, mime in attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype, subtype, filename=filename)
    return msg
