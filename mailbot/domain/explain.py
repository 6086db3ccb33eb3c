"""`mailbot explain`: the ledger lines behind one unit's total, in the office's words, adding up to it.

Pure: the caller passes the ledger (mailbot.ledger) and the names; the lines printed here are the
entries the bulletin summed, so the office can check a figure line by line and see it add up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from mailbot.domain import scoring
from mailbot.domain.calendar import Period
from mailbot.domain.formats import fmt_points

NO_DRAFTER = "（未署名）"  # entries credited to the unit itself: no drafter named, or a unit-level deduction


@dataclass(frozen=True)
class ExplainLine:
    day: str  # "10月12日"
    number: str  # item number, "—" for a deduction
    person: str  # drafter, or NO_DRAFTER
    points: float
    note: str  # "报送 0.3 分 ÷ 2 人", "扣分：栏目《…》少报 1 条（三(二)2）"


@dataclass(frozen=True)
class Explanation:
    lines: tuple[ExplainLine, ...]
    total: float  # what the bulletin prints for the unit: scoring.totals of the same entries
    people: tuple[tuple[str, float], ...]  # subtotal per drafter, NO_DRAFTER last

    @property
    def adds_up(self) -> bool:
        """The printed lines add up to the printed total (to the 4 decimals shares are kept to)."""
        return round(math.fsum(line.points for line in self.lines), 4) == round(self.total, 4)


def explain(entries: Sequence[scoring.Entry], period: Period, unit_id: int, numbers: Mapping[int, str]) -> Explanation:
    """The unit's entries dated in the period, oldest first, with the total the bulletin shows."""
    mine = [e for e in entries if e.unit_id == unit_id and period.contains(e.on)]
    mine.sort(key=lambda e: (e.on, numbers.get(e.item_id or 0, ""), e.person or ""))
    lines = tuple(
        ExplainLine(
            f"{e.on.month}月{e.on.day}日",
            numbers.get(e.item_id, "?") if e.item_id is not None else "—",
            e.person or NO_DRAFTER,
            e.points,
            _note(e),
        )
        for e in mine
    )
    people: dict[str, list[float]] = {}
    for line in lines:
        people.setdefault(line.person, []).append(line.points)
    order = sorted(people, key=lambda name: (name == NO_DRAFTER, name))
    return Explanation(
        lines,
        scoring.totals(mine, period, "unit").get(unit_id, 0.0),
        tuple((name, round(math.fsum(people[name]), 4) + 0.0) for name in order),
    )


def _note(entry: scoring.Entry) -> str:
    rule = entry.deduction.rule if entry.deduction is not None else ""
    return f"{entry.note}（{rule}）" if rule else entry.note


def signed(points: float) -> str:
    """ "+0.3", "-0.15", "0": a ledger line's sign is what the office checks first."""
    text = fmt_points(points)
    return text if points <= 0 or text == "0" else f"+{text}"
