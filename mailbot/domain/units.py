"""Which registered unit a drafter's written unit means ("市应急局（宣教科）" -> 宣教科)."""

from __future__ import annotations

import re
from collections.abc import Iterable


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text.replace("(", "（").replace(")", "）"))


def match_unit(written: str | None, units: Iterable[tuple[int, Iterable[str]]]) -> int | None:
    """The unit whose name or alias appears in what was written; the longest, most specific wins."""
    if not written:
        return None
    text = _norm(written)
    best: tuple[int, int] | None = None
    for unit_id, names in units:
        for name in names:
            n = _norm(name)
            if n and (n in text or text.split("（", 1)[0] == n) and (best is None or len(n) > best[0]):
                best = (len(n), unit_id)
    return best[1] if best else None
