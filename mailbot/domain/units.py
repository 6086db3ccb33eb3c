"""The registered units and their liaisons, and which unit a drafter's written unit means
("市应急局（宣教科）" -> 宣教科). The config and the registry import build these values."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Liaison:
    """A unit's 信息宣传员: whose mail is accepted as the unit's submissions."""

    name: str
    email: str
    phone: str = ""
    wechat: str = ""


@dataclass(frozen=True)
class Unit:
    """A submitting unit; aliases are other ways drafters write its name."""

    name: str
    kind: str = "科室"
    liaisons: tuple[Liaison, ...] = ()
    aliases: tuple[str, ...] = ()


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


GROUPS = {
    "各科室": "科室",
    "局机关各科室": "科室",
    "各县(区)应急管理局": "县区",
    "各县（区）应急管理局": "县区",
    "各县区应急管理局": "县区",
}


def resolve_units(
    written: Iterable[str], units: Iterable[tuple[int, str, str, Iterable[str]]]
) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Responsible units as the annexes write them -> registered unit ids, and the names not found.

    "*" is every unit; "各科室" every unit of kind 科室; otherwise a name or alias, exact first.
    """
    table = [(uid, name, kind, [name, *aliases]) for uid, name, kind, aliases in units]
    found: list[int] = []
    missing: list[str] = []
    for text in written:
        if text == "*":
            found.extend(uid for uid, *_ in table)
            continue
        if text in GROUPS:
            found.extend(uid for uid, _n, kind, _a in table if kind == GROUPS[text])
            continue
        exact = [uid for uid, _n, _k, names in table if _norm(text) in {_norm(n) for n in names if n}]
        uid = exact[0] if exact else match_unit(text, [(u, names) for u, _n, _k, names in table])
        if uid is None:
            missing.append(text)
        else:
            found.append(uid)
    return tuple(dict.fromkeys(found)), tuple(missing)
