"""Mail that must never be answered: auto-replies, bounces, list mail, ourselves (RFC 3834 §2).

Answering any of these risks a mail loop with another robot, which on 163.com ends with both
accounts blocked as spam. Such mail is recorded and filed, never replied to.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from mailbot.domain.mime import ParsedMail

_SYSTEM_LOCALPART = re.compile(
    r"^(mailer-daemon|postmaster|listserv|majordomo|.*-request|owner-.*|no-?reply|do-?not-?reply|bounces?)(\+.*)?$"
)
_AUTO_SUBJECT = re.compile(
    r"^\s*[\[【]?\s*(自动回复|自动答复|auto(matic)?[ -]?reply|auto:|out of (the )?office|休假|undeliverable|"
    r"delivery status notification|退信|系统退信|邮件投递失败)",
    re.IGNORECASE,
)


def loop_reason(mail: ParsedMail, *, own_addresses: Collection[str]) -> str | None:
    """The reason this message must not be answered, or None when a reply is safe."""
    h = mail.headers
    if "return-path" in h and h["return-path"].strip() in ("<>", ""):
        return "null_return_path"
    auto = h.get("auto-submitted", "").strip().lower()
    if auto and auto != "no":
        return "auto_submitted"
    if h.get("precedence", "").strip().lower() in ("bulk", "junk", "list", "auto_reply"):
        return "precedence"
    if any(name.startswith("list-") for name in h):
        return "list_mail"
    if h.get("x-ack", "").strip().lower() == "no" or "x-autoreply" in h or "x-autorespond" in h:
        return "auto_submitted"
    if mail.content_type == "multipart/report" or "report-type=delivery-status" in h.get("content-type", ""):
        return "bounce"
    if not mail.sender or "@" not in mail.sender:
        return "no_sender"
    if mail.sender in {a.lower() for a in own_addresses}:
        return "own_address"
    if _SYSTEM_LOCALPART.match(mail.sender.split("@", 1)[0]):
        return "system_sender"
    if _AUTO_SUBJECT.match(mail.subject):
        return "auto_subject"
    return None
