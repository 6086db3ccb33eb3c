"""Is the sender who the From header says? Read from the receiving server's Authentication-Results.

Anyone can write `From: liaison@163.com`. The bureau's own mail server checks SPF, DKIM and DMARC on
arrival and records the outcome in an Authentication-Results header (RFC 8601). Only headers whose
authserv-id is one of ours are trusted: a sender can add a forged one of its own.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

_METHOD = re.compile(r"\b(spf|dkim|dmarc)\s*=\s*([a-z]+)", re.IGNORECASE)
_PROPERTY = re.compile(r"\b(smtp\.mailfrom|header\.d|header\.i|header\.from)\s*=\s*([^\s;()]+)", re.IGNORECASE)


def _aligned(value: str, domain: str) -> bool:
    found = value.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    return found == domain or found.endswith("." + domain) or domain.endswith("." + found)


def authenticated(results: Sequence[str], sender: str, trusted: Collection[str]) -> bool:
    """True when a trusted server saw SPF, DKIM or DMARC pass for the sender's own domain."""
    domain = sender.rsplit("@", 1)[-1].lower()
    trusted_ids = {t.lower() for t in trusted}
    for header in results:
        authserv, _, rest = header.partition(";")
        words = authserv.split()
        if not words or words[0].lower() not in trusted_ids:
            continue
        for clause in rest.split(";"):
            method = _METHOD.search(clause)
            if not method or method.group(2).lower() != "pass":
                continue
            if any(_aligned(value, domain) for _name, value in _PROPERTY.findall(clause)):
                return True
    return False
