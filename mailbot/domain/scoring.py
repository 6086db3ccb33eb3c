"""Points an item earns on arrival (seed 000 section 三); adoption and deductions come later."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PointTable:
    routine: float = 0.3
    research: float = 1.0
    experience: float = 1.0


def submission_points(kind: str, table: PointTable) -> float:
    return {"research": table.research, "experience": table.experience}.get(kind, table.routine)


def split_evenly(points: float, people: int) -> tuple[float, ...]:
    """Several drafters share an item's points equally (三(一)2); shares add up to the total exactly."""
    if people <= 0:
        return ()
    cents = round(points * 10000)
    base, extra = divmod(cents, people)
    return tuple((base + (1 if i < extra else 0)) / 10000 for i in range(people))
