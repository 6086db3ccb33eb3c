"""Is the sender who the From header says? Read from the receiving server's Authentication-Results.

Anyone can write `From: liaison@163.com`, and anyone can add an Authentication-Results header of
their own naming our server. RFC 8601 section 5 says what may be believed: only the header(s) our
receiving server put on top of the message when it took it in. A header further down was already
there when the mail arrived, so it is the sender's word, whatever authserv-id it claims. Comments
are removed before anything is read (`dkim=pass (header.d=ours) header.d=evil` proves nothing about
ours), and a pass counts only for the exact domain of the From address.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

# Added at final delivery, above whatever the receiving server wrote; they say nothing about the sender.
DELIVERY_HEADERS = frozenset({"return-path", "delivered-to", "x-original-to"})


@dataclass(frozen=True)
class Result:
    """One resinfo of an Authentication-Results header: `dkim=pass header.d=example.com`."""

    method: str
    result: str
    properties: tuple[tuple[str, str], ...]


def strip_comments(value: str) -> str:
    """The header without its (comments), nested ones too; quoted strings are kept as they are."""
    out: list[str] = []
    depth, quoted, escaped = 0, False, False
    for ch in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(ch)
            continue
        if ch == "\\":
            escaped = True
            if depth == 0:
                out.append(ch)
            continue
        if quoted:
            quoted = ch != '"'
            out.append(ch)
            continue
        if ch == "(":
            depth += 1
            out.append(" ")
        elif ch == ")" and depth:
            depth -= 1
        elif depth == 0:
            quoted = ch == '"'
            out.append(ch)
    return "".join(out)


def parse_results(value: str) -> tuple[str, tuple[Result, ...]]:
    """(authserv-id, the results) of one Authentication-Results header, comments removed."""
    parts = [p.strip() for p in strip_comments(value).split(";")]
    head = parts[0].split()
    authserv = head[0].lower() if head else ""
    results = []
    for part in parts[1:]:
        words = part.split()
        if not words or "=" not in words[0]:
            continue  # "none": no result at all
        method, _, result = words[0].partition("=")
        props = []
        for word in words[1:]:
            name, eq, prop = word.partition("=")
            if eq and "." in name:  # ptype.property=value; reason= and others are not properties
                props.append((name.lower(), prop.strip('"').lower()))
        results.append(Result(method.split("/")[0].lower(), result.lower(), tuple(props)))
    return authserv, tuple(results)


def topmost(headers: Sequence[tuple[str, str]], trusted: Collection[str]) -> list[str]:
    """The Authentication-Results values our server added: the run of them at the top of the
    message (after delivery headers only). The first other header ends the run."""
    trusted_ids = {t.lower() for t in trusted}
    found: list[str] = []
    for name, value in headers:
        lname = name.lower()
        if lname in DELIVERY_HEADERS and not found:
            continue
        if lname != "authentication-results":
            break
        authserv, _results = parse_results(value)
        if authserv not in trusted_ids:
            break
        found.append(value)
    return found


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().lower().rstrip(".")


def _about(result: Result, domain: str) -> bool:
    """Whether the result is about exactly `domain` (the From address's domain)."""
    props = dict(result.properties)
    keys = {"dmarc": ("header.from",), "dkim": ("header.d", "header.i"), "spf": ("smtp.mailfrom",)}
    return any(_domain(props[k]) == domain for k in keys.get(result.method, ()) if k in props)


def authenticated(headers: Sequence[tuple[str, str]], sender: str, trusted: Collection[str]) -> bool:
    """True when our receiving server saw DMARC, DKIM or SPF pass for the From address's own domain.

    `headers` is the message's whole header list, top first. The first result about the From domain
    decides for each method: a pass written under a genuine fail is not believed.
    """
    if "@" not in sender:
        return False
    domain = _domain(sender)
    decided: dict[str, bool] = {}
    for value in topmost(headers, trusted):
        for result in parse_results(value)[1]:
            if result.method not in decided and _about(result, domain):
                decided[result.method] = result.result == "pass"
    return any(decided.values())
