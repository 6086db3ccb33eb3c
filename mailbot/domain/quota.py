"""How many items each unit owes per week and month, who is short, and on which day to remind them.

The notice (三(一)1) asks every unit for at least 1 item a week and 4 a month. A week with fewer than 3
working days (2026's Spring Festival week; National Day weeks in most years, though 2026's keep 3 each)
owes nothing by default, and the office can waive any other week by hand. Reminders go out while a
working day is still left.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from mailbot.domain.calendar import Period, WorkCalendar, parse_period, week_of


@dataclass(frozen=True)
class QuotaRule:
    weekly: int = 1
    monthly: int = 4


@dataclass(frozen=True)
class QuotaPolicy:
    """Quotas per unit kind ("县区", "科室", ...); kinds not listed use `default`.

    `by_kind` is stored as a read-only MappingProxyType over a private copy (any Mapping may be passed),
    so a frozen policy cannot change behind the scheduler's back; it is left out of the hash.
    `relaxed_weeks` holds ISO week labels and is normalised ("2026-w41" -> "2026-W41"); a label that is
    not a week is rejected rather than silently never matching.
    """

    default: QuotaRule = QuotaRule()
    by_kind: Mapping[str, QuotaRule] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    relax_short_weeks: bool = True  # weeks with < min_workdays_for_weekly working days owe no weekly item
    min_workdays_for_weekly: int = 3
    relaxed_weeks: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_kind", MappingProxyType(dict(self.by_kind)))
        weeks = frozenset(_week_label(label) for label in self.relaxed_weeks)
        object.__setattr__(self, "relaxed_weeks", weeks)

    def rule_for(self, kind: str) -> QuotaRule:
        return self.by_kind.get(kind, self.default)


def _week_label(label: str) -> str:
    period = parse_period(label)
    if period.kind != "week":
        raise ValueError(f"relaxed week {label!r} is not an ISO week such as 2026-W41")
    return period.label


def _require(period: Period, kind: str) -> None:
    if period.kind != kind:
        raise ValueError(f"expected a {kind}, got {period.kind} {period.label}")


def weekly_due(policy: QuotaPolicy, kind: str, week: Period, calendar: WorkCalendar) -> int:
    """Items a unit of `kind` owes for `week`; 0 when the week is relaxed by hand or too short."""
    _require(week, "week")
    if week.label in policy.relaxed_weeks:
        return 0
    if policy.relax_short_weeks and len(calendar.workdays(week)) < policy.min_workdays_for_weekly:
        return 0
    return policy.rule_for(kind).weekly


def monthly_due(policy: QuotaPolicy, kind: str, month: Period, calendar: WorkCalendar) -> int:
    """Items a unit of `kind` owes for `month`.

    The notice sets the monthly figure flat, holidays or not (a holiday week is made up within the
    month); `calendar` is accepted only so callers can treat weekly and monthly quotas alike.
    """
    _require(month, "month")
    return policy.rule_for(kind).monthly


@dataclass(frozen=True)
class Shortfall:
    unit_id: int
    period: Period
    submitted: int
    due: int

    @property
    def missing(self) -> int:
        return max(self.due - self.submitted, 0)


def shortfalls(
    units: Sequence[tuple[int, str]], counts: Mapping[int, int], period: Period, due: Callable[[str], int]
) -> list[Shortfall]:
    """Units (id, kind) that submitted fewer than they owe, in the order given; absent from counts = 0."""
    result = []
    for unit_id, kind in units:
        owed = due(kind)
        submitted = counts.get(unit_id, 0)
        if submitted < owed:
            result.append(Shortfall(unit_id, period, submitted, owed))
    return result


def weekly_reminder_day(week: Period, calendar: WorkCalendar) -> date | None:
    """The second-to-last working day, so a reminded unit still has a working day to send an item;
    the only working day when there is just one; None when the week has none."""
    days = calendar.workdays(week)
    if not days:
        return None
    return days[-2] if len(days) > 1 else days[0]


def monthly_reminder_window(month: Period, calendar: WorkCalendar, days: int = 3) -> tuple[date, date] | None:
    """First and last of the month's last `days` working days (all of them when it has fewer);
    a monthly shortfall is reminded when the reminder date falls inside. None without working days."""
    if days < 1:
        raise ValueError(f"the monthly reminder window needs at least 1 working day, not {days}")
    workdays = calendar.workdays(month)
    if not workdays:
        return None
    tail = workdays[-days:]
    return tail[0], tail[-1]


def deadline(period: Period, calendar: WorkCalendar) -> date:
    """The period's last working day, which the reminder names as "by when"; its last calendar day when
    it has no working day at all, rather than an error in the middle of a report."""
    workdays = calendar.workdays(period)
    return workdays[-1] if workdays else period.end


# ---- the weekly minimum in bulletins (三(一)1: 每月不少于4条, 每周不少于1条) ----------------------------------


def weeks_ending_in(period: Period) -> list[Period]:
    """The ISO weeks a bulletin answers for: those whose Sunday falls in the period, so a week straddling two
    months is judged once, in the month it closes (as a column's weekly cycle is deducted at its end)."""
    first = week_of(period.start)
    if first.end < period.start or first.end > period.end:
        first = week_of(first.end + timedelta(days=1))
    weeks = []
    week = first
    while week.end <= period.end:
        weeks.append(week)
        week = week_of(week.end + timedelta(days=1))
    return weeks


def missed_weeks(
    policy: QuotaPolicy,
    kind: str,
    period: Period,
    calendar: WorkCalendar,
    per_week: Mapping[str, int],
    today: date,
    owed_from: date = date.min,
) -> list[Period]:
    """Weeks of the period with fewer items than the weekly minimum: four items sent in one week leave the
    other weeks missed. Only weeks that have ended (before `today`), that start on or after `owed_from`
    (nothing is owed before mailbot kept records) and that owe an item (holiday weeks follow weekly_due)."""
    return [
        week
        for week in weeks_ending_in(period)
        if week.end < today
        and week.start >= owed_from
        and per_week.get(week.label, 0) < weekly_due(policy, kind, week, calendar)
    ]


def quota_met(submitted: int, monthly_due_total: int, weeks_missed: Sequence[Period]) -> bool:
    """三(一)1 asks for both minimums: the month's count and every week's."""
    return submitted >= monthly_due_total and not weeks_missed
