"""Points for the bulletin (the rules' section 三, 计分标准), as a ledger of dated entries the office can audit.

Every figure in a bulletin is a sum of ledger entries, so any total can be explained line by line
("报送 0.3 分 ÷ 2 人", "省级采用 3 分"). The engine works on plain values the caller reads from its database:
no I/O here, so the rules can be checked by hand in tests.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Literal, overload

from mailbot.domain.calendar import Period
from mailbot.domain.formats import fmt_points
from mailbot.domain.vocabulary import ItemKind, ItemStatus, Level

KINDS = tuple(ItemKind)
LEVELS = tuple(Level)
STATUSES = tuple(ItemStatus)
MAX_GRADE = 3

_KIND_NOTE: dict[str, str] = {ItemKind.ROUTINE: "报送", ItemKind.RESEARCH: "报送调研", ItemKind.EXPERIENCE: "报送经验"}
_LEVEL_NOTE: dict[str, str] = {Level.CITY: "市级采用", Level.PROVINCE: "省级采用", Level.NATIONAL: "国家级采用"}


@dataclass(frozen=True)
class PointTable:
    routine: float = 0.3
    research: float = 1.0
    experience: float = 1.0
    adopted_city: float = 1.0
    adopted_province: float = 3.0
    adopted_national: float = 5.0
    # 三(二)1 scores a 约稿 "根据完成质量及采用情况" 0-3: "grade" = the grade is the piece's whole score;
    # "sum" = the grade on top of the submission and adoption points.
    solicitation: str = "grade"
    # One item adopted at several levels: "highest" = its highest level only; "sum" = every level reached.
    adoption_levels: str = "highest"

    def adoption(self, level: str) -> float:
        return {"city": self.adopted_city, "province": self.adopted_province, "national": self.adopted_national}[level]


def submission_points(kind: str, table: PointTable) -> float:
    return {"research": table.research, "experience": table.experience}.get(kind, table.routine)


@lru_cache(maxsize=4096)  # a year asks for the same few splits 100,000 times
def split_evenly(points: float, people: int) -> tuple[float, ...]:
    """Several drafters share an item's points equally (三(一)2); shares add up to the total exactly."""
    if people <= 0:
        return ()
    cents = round(points * 10000)
    base, extra = divmod(cents, people)
    return tuple((base + (1 if i < extra else 0)) / 10000 for i in range(people))


@dataclass(frozen=True)
class ScoredItem:
    """An item as the ledger needs it; a returned item (终审退回) earns nothing, adoptions included."""

    item_id: int
    unit_id: int  # the submitting unit, credited when the item names no drafter
    kind: str  # routine | research | experience
    received: date  # local date of arrival
    drafters: tuple[tuple[str, int], ...]  # (name, unit id credited for that drafter)
    status: str = "received"  # received | approved | returned
    column: str = ""  # 栏目 a routine item was filed under; it then earns `column_points` instead of 0.3
    column_points: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"item {self.item_id}: kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.status not in STATUSES:
            raise ValueError(f"item {self.item_id}: status {self.status!r} is not one of {', '.join(STATUSES)}")
        object.__setattr__(self, "drafters", tuple(tuple(d) for d in self.drafters))


@dataclass(frozen=True)
class Adoption:
    """采用: each level counts once per item, so an adoption recorded twice is not paid twice."""

    item_id: int
    level: str  # city | province | national
    on: date

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"item {self.item_id}: adoption level {self.level!r} is not one of {', '.join(LEVELS)}")


@dataclass(frozen=True)
class SolicitationGrade:
    """约稿 answered by an item, graded 0..3 by the office; received after the deadline it scores 0."""

    item_id: int
    grade: int
    deadline: date

    def __post_init__(self) -> None:
        if isinstance(self.grade, bool) or not isinstance(self.grade, int) or not 0 <= self.grade <= MAX_GRADE:
            raise ValueError(f"item {self.item_id}: solicitation grade must be 0, 1, 2 or 3, not {self.grade!r}")


@dataclass(frozen=True)
class Deduction:
    """扣分 against a unit and optionally one of its people: by the office, or for a duty not done.

    `rule`, `duty`, `cycle` and `by` say where the deduction comes from, so the 扣分明细 sheet and
    `mailbot explain` can name the rule, the column or piece owed, the cycle it belongs to and who
    recorded it.
    """

    unit_id: int
    points: float  # positive number to subtract
    on: date
    reason: str
    person: str | None = None
    rule: str = ""  # 三(二)2, 三(二)3, or 办公室扣分
    duty: str = ""  # the column (栏目《…》) or the piece owed (调研类信息)
    cycle: str = ""  # "10月5日至10月11日", "2026年"
    by: str = ""

    def __post_init__(self) -> None:
        if not self.points > 0:
            raise ValueError(f"deduction for unit {self.unit_id} must be a positive number, not {self.points!r}")


@dataclass(frozen=True)
class Entry:
    """One line of the points ledger."""

    on: date
    unit_id: int
    person: str | None
    points: float
    source: str  # submission | column | adoption | solicitation | deduction
    item_id: int | None
    note: str
    # The deduction this line comes from, for its rule, cycle and who; the line's own fields say the rest.
    deduction: Deduction | None = field(default=None, compare=False)


def ledger(
    items: Iterable[ScoredItem],
    adoptions: Iterable[Adoption],
    grades: Iterable[SolicitationGrade],
    deductions: Iterable[Deduction],
    table: PointTable,
) -> list[Entry]:
    """All entries, sorted by date; pass every item adoptions or grades refer to, whatever its date.

    A graded 约稿 is scored by its grade alone (三(二)1: the grade already weighs quality and adoption), unless
    table.solicitation = "sum". An item adopted at several levels earns its highest level (三(一)2 pays per
    adopted piece by the level that adopted it), unless table.adoption_levels = "sum". Until the office grades
    a 约稿, it earns the submission points like any item.
    """
    by_id: dict[int, ScoredItem] = {}
    for item in items:
        if item.item_id in by_id:
            raise ValueError(f"item {item.item_id} is listed twice")
        by_id[item.item_id] = item
    grades = list(grades)
    # Items whose grade is their whole score: no submission or adoption points besides it.
    by_grade = {g.item_id for g in grades} if table.solicitation == "grade" else set()

    entries: list[Entry] = []
    for item in by_id.values():
        if item.item_id in by_grade:
            continue
        if item.column and item.kind == ItemKind.ROUTINE:
            entries += _credit(item, item.received, item.column_points, "column", _column_note(item))
            continue
        points = submission_points(item.kind, table)
        entries += _credit(item, item.received, points, "submission", _submission_note(item.kind, points))

    first_adoption: dict[tuple[int, str], Adoption] = {}
    for adoption in adoptions:
        _known(by_id, adoption.item_id, "adoption")
        key = (adoption.item_id, adoption.level)
        if key not in first_adoption or adoption.on < first_adoption[key].on:
            first_adoption[key] = adoption
    reached: dict[int, float] = {}  # per item, the adoption points paid so far ("highest")
    for adoption in sorted(first_adoption.values(), key=lambda a: (a.on, table.adoption(a.level))):
        if adoption.item_id in by_grade:
            continue
        points = table.adoption(adoption.level)
        note = f"{_LEVEL_NOTE[adoption.level]} {fmt_points(points)} 分"
        if table.adoption_levels == "highest":
            # A higher level later tops the item up to that level; a lower or equal one adds nothing, so a
            # bulletin already sent never changes and the item ends with its highest level.
            before = reached.get(adoption.item_id, 0.0)
            if points <= before:
                continue
            reached[adoption.item_id] = points
            if before:
                topped = fmt_points(points - before)
                note = f"{_LEVEL_NOTE[adoption.level]} {fmt_points(points)} 分（按最高级别计，补 {topped} 分）"
                points = round(points - before, 4)
        entries += _credit(by_id[adoption.item_id], adoption.on, points, "adoption", note)

    graded: set[int] = set()
    for grade in grades:
        item = _known(by_id, grade.item_id, "solicitation grade")
        if grade.item_id in graded:
            raise ValueError(f"item {grade.item_id} has two solicitation grades")
        graded.add(grade.item_id)
        late = item.received > grade.deadline
        points = 0 if late else grade.grade
        note = f"约稿逾期 {points} 分" if late else f"约稿评 {points} 分"
        entries += _credit(item, item.received, float(points), "solicitation", note)

    for deduction in deductions:
        entries.append(
            Entry(
                deduction.on,
                deduction.unit_id,
                deduction.person,
                -deduction.points,
                "deduction",
                None,
                f"扣分：{deduction.reason}",
                deduction,
            )
        )
    entries.sort(key=lambda e: e.on)
    return entries


@lru_cache(maxsize=256)
def _submission_note(kind: str, points: float) -> str:
    return f"{_KIND_NOTE[kind]} {fmt_points(points)} 分"


def _column_note(item: ScoredItem) -> str:
    return _column_text(item.column, item.column_points)


@lru_cache(maxsize=256)
def _column_text(column: str, points: float) -> str:
    return f"栏目《{column}》 {fmt_points(points)} 分"


def _known(by_id: Mapping[int, ScoredItem], item_id: int, what: str) -> ScoredItem:
    """An orphan adoption or grade means the caller left its item out; failing beats a silently wrong bulletin."""
    if item_id not in by_id:
        raise ValueError(f"{what} refers to item {item_id}, which was not passed to ledger()")
    return by_id[item_id]


def _credit(item: ScoredItem, on: date, points: float, source: str, note: str) -> list[Entry]:
    """Split between the drafters and their units (三(一)2); no drafter credits the submitting unit."""
    if item.status == ItemStatus.RETURNED:
        return []
    if not item.drafters:
        return [Entry(on, item.unit_id, None, points, source, item.item_id, note)]
    people = len(item.drafters)
    suffix = f" ÷ {people} 人" if people > 1 else ""
    return [
        Entry(on, unit_id, name, share, source, item.item_id, note + suffix)
        for (name, unit_id), share in zip(item.drafters, split_evenly(points, people), strict=True)
    ]


@overload
def totals(entries: Iterable[Entry], period: Period, key: Literal["unit"]) -> dict[int, float]: ...
@overload
def totals(entries: Iterable[Entry], period: Period, key: Literal["person"]) -> dict[tuple[str, int], float]: ...


def totals(
    entries: Iterable[Entry], period: Period, key: Literal["unit", "person"]
) -> dict[int, float] | dict[tuple[str, int], float]:
    """Points per unit or per (person, unit) for entries dated in the period, rounded to 4 decimals.

    Entries without a person (items with no drafter, unit-level deductions) count for units only; units or
    people with no entry in the period are absent, so the caller adds the zeros it wants to rank.
    """
    sums: dict[Hashable, list[float]] = {}
    start, end = period.start, period.end  # a year's ledger is 250,000 entries: no method call per entry
    if key == "unit":
        for entry in entries:
            if start <= entry.on <= end:
                points = sums.get(entry.unit_id)
                if points is None:
                    sums[entry.unit_id] = [entry.points]
                else:
                    points.append(entry.points)
    else:
        for entry in entries:
            if entry.person is not None and start <= entry.on <= end:
                person = (entry.person, entry.unit_id)
                points = sums.get(person)
                if points is None:
                    sums[person] = [entry.points]
                else:
                    points.append(entry.points)
    return {k: round_points(math.fsum(v)) for k, v in sums.items()}  # type: ignore[return-value]


def round_points(value: float) -> float:
    """A total as bulletins print and compare it: 4 decimals, never -0.0."""
    return round(value, 4) + 0.0  # + 0.0 turns -0.0 into 0.0
