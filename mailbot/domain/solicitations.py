"""Which 约稿 (solicited piece) a submission answers: liaisons name it in the subject."""

from __future__ import annotations

import re
from collections.abc import Sequence

_TAG = re.compile(r"[【\[]\s*约稿\s*[】\]]|约稿\s*[:：]")


def names_solicitation(subject: str) -> bool:
    return bool(_TAG.search(subject))


def _norm(text: str) -> str:
    return re.sub(r"[\s《》“”\"'【】\[\]:：]", "", text)


def match_solicitation(subject: str, title: str, open_topics: Sequence[tuple[int, str]]) -> int | None:
    """The open solicitation whose topic the subject or title contains (or that contains them)."""
    named = _norm(_TAG.sub("", subject))
    for text in (named, _norm(title)):
        if not text:
            continue
        hits = [sid for sid, topic in open_topics if _norm(topic) and (_norm(topic) in text or text in _norm(topic))]
        if hits:
            return hits[-1]  # the most recent of several matching requests
    return None
