"""Website and WeChat columns (the rules' annexes 1 and 2): who owes what in which cycle, and which column a
submission names.

Section 一(二)3 makes the responsible units update each column "分别" (each on its own) on the cycle of the
annexes, so accounting is per column, responsible unit and cycle. 三(二)2 scores an item in a column +0.3
(+0.5 for policy documents and their interpretations) and deducts as much per item missing when the cycle
closes; 三(二)3 scores yearly columns and the research/experience pieces 1 point, -1 per missing piece at
year end. "即时更新" columns (on_change) have no cycle: they are never overdue, reminded or deducted.

Cycles are calendar periods in the bureau's local dates. Two need a convention the annexes leave open:

* fortnightly ("每两周1条"): fixed blocks of two ISO weeks, W01-W02, W03-W04, ... of the ISO year, labelled
  "2026-W01-W02"; in a 53-week year W53 is a block of its own ("2026-W53"), so blocks never straddle years
  and a block never depends on when the column was created;
* half-yearly: H1 is January-June, H2 July-December ("2026-H1").

With a WorkCalendar, a cycle without a single working day (a Sunday for a daily column, the Spring
Festival week) owes nothing: nobody is at work to send the item.

Who owes an item, read as the bureau means it:

* 三(二)2 deducts for the 网站定期及实时更新栏目, so only the channels listed by the caller (the website by
  default) are deducted; WeChat columns earn points and are shown, nothing more.
* A column listed for several units or for a collective (通知公告: 各科室及单位) is a shared duty by default
  (duty = "shared"): one item from any of them keeps the cycle, and a miss is the collective's, shown under
  the annex's own words and deducted from no member. duty = "each" makes every listed unit owe it.
* A column with any_item = true (新闻时事: the weekly piece 三(一)1 asks of every unit anyway) is kept by any
  item of the unit, tagged or not.
* Nothing is owed for a cycle that starts before the unit owed anything (`owed_from`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from mailbot.domain.calendar import Period, WorkCalendar, month_of, quarter_of, week_of, year_of
from mailbot.domain.vocabulary import ItemKind

CYCLES = ("daily", "weekly", "fortnightly", "monthly", "quarterly", "half_yearly", "yearly", "on_change")
CHANNELS = ("website", "wechat")
DUTIES = ("shared", "each")
EVERY_UNIT = "*"
PIECE_KINDS = (ItemKind.RESEARCH, ItemKind.EXPERIENCE)


@dataclass(frozen=True)
class Column:
    name: str  # 动态要闻
    channel: str  # website | wechat
    cycle: str  # one of CYCLES
    per_cycle: int  # items each responsible unit owes per cycle
    units: tuple[str, ...]  # responsible units as the annex writes them; ("*",) = every unit
    points: float  # per item received
    penalty: float  # per item missing at cycle end
    photos: bool  # items need photos (news-like columns)
    aliases: tuple[str, ...] = ()
    content: str = ""  # 更新内容 as the annex describes it, for receipts and the column health table
    duty: str = "shared"  # shared: one item from any listed unit keeps the cycle; each: every unit owes one
    any_item: bool = False  # any item of the unit counts for the cycle (新闻时事 = the weekly piece of 三(一)1)
    since: date | None = None  # the day the column was set up: nothing is owed before it
    group: str = ""  # the responsible units as the annex writes them, naming a shared duty's collective

    @property
    def shared(self) -> bool:
        """A shared duty has more than one responsible unit; for a single unit it is the same as "each"."""
        return self.duty == "shared" and len(self.units) > 1


_REQUIRED = ("name", "channel", "cycle", "units", "points", "penalty", "photos")
_OPTIONAL = ("per_cycle", "aliases", "content", "duty", "any_item", "since")


def parse_columns(raw: list[dict]) -> tuple[Column, ...]:
    """The [[columns]] tables of the configuration; a mistake names the column and the key, and two columns
    answering to the same name or alias are refused, since a subject naming it could not be filed."""
    if not isinstance(raw, list):
        raise ValueError("[[columns]] must be an array of tables")
    columns: list[Column] = []
    owner: dict[str, str] = {}
    for i, entry in enumerate(raw, 1):
        column = _parse_column(i, entry)
        for spelling in (column.name, *column.aliases):
            key = normalise_name(spelling)
            if key in owner and owner[key] != column.name:
                raise ValueError(
                    f"column {column.name!r}: {spelling!r} is already a name or alias of column {owner[key]!r}"
                )
            owner[key] = column.name
        columns.append(column)
    return tuple(columns)


def _parse_column(i: int, entry: object) -> Column:
    if not isinstance(entry, dict):
        raise ValueError(f"[[columns]] entry {i} must be a table")
    name = entry.get("name")
    if not isinstance(name, str) or not normalise_name(name):
        raise ValueError(f"[[columns]] entry {i} needs a name")
    where = f"column {name!r} (entry {i})"
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"{where}: unknown key(s): {', '.join(unknown)}")
    absent = [key for key in _REQUIRED if key not in entry]
    if absent:
        raise ValueError(f"{where}: missing key(s): {', '.join(absent)}")
    if entry["channel"] not in CHANNELS:
        raise ValueError(f"{where}: channel must be one of {', '.join(CHANNELS)}, not {entry['channel']!r}")
    if entry["cycle"] not in CYCLES:
        raise ValueError(f"{where}: cycle must be one of {', '.join(CYCLES)}, not {entry['cycle']!r}")
    per_cycle = entry.get("per_cycle", 1)
    if isinstance(per_cycle, bool) or not isinstance(per_cycle, int) or per_cycle < 1:
        raise ValueError(f"{where}: per_cycle must be a whole number >= 1, not {per_cycle!r}")
    units = _strings(entry["units"], where, "units")
    if not units:
        raise ValueError(f"{where}: units must name at least one responsible unit")
    if EVERY_UNIT in units and len(units) > 1:
        raise ValueError(f'{where}: units = ["*"] means every unit and cannot be combined with names')
    points, penalty = (_amount(entry[key], where, key) for key in ("points", "penalty"))
    if not isinstance(entry["photos"], bool):
        raise ValueError(f"{where}: photos must be true or false, not {entry['photos']!r}")
    content = entry.get("content", "")
    if not isinstance(content, str):
        raise ValueError(f"{where}: content must be a string")
    duty = entry.get("duty", "shared")
    if duty not in DUTIES:
        raise ValueError(f"{where}: duty must be one of {', '.join(DUTIES)}, not {duty!r}")
    any_item = entry.get("any_item", False)
    if not isinstance(any_item, bool):
        raise ValueError(f"{where}: any_item must be true or false, not {any_item!r}")
    since = entry.get("since")
    if isinstance(since, str):
        try:
            since = date.fromisoformat(since)
        except ValueError:
            raise ValueError(f"{where}: since must be a date like 2026-09-01, not {since!r}") from None
    if since is not None and not isinstance(since, date):
        raise ValueError(f"{where}: since must be a date like 2026-09-01, not {since!r}")
    return Column(
        name=name.strip(),
        channel=entry["channel"],
        cycle=entry["cycle"],
        per_cycle=per_cycle,
        units=units,
        points=points,
        penalty=penalty,
        photos=entry["photos"],
        aliases=_strings(entry.get("aliases", []), where, "aliases"),
        content=content,
        duty=duty,
        any_item=any_item,
        since=since,
        group="各科室及单位" if units == (EVERY_UNIT,) else "、".join(units),
    )


def _strings(value: object, where: str, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ValueError(f"{where}: {key} must be a list of non-empty strings")
    return tuple(v.strip() for v in value)


def _amount(value: object, where: str, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{where}: {key} must be a number >= 0, not {value!r}")
    return float(value)


# ---- cycles -------------------------------------------------------------------------------------------


def day_of(day: date) -> Period:
    return Period("day", day.isoformat(), day, day)


def fortnight_of(day: date) -> Period:
    """Fixed blocks of ISO weeks W01-W02, W03-W04, ...; W53 stands alone rather than borrowing next
    year's W01, so every block belongs to one ISO year."""
    year, week, _weekday = day.isocalendar()
    first = week - (week - 1) % 2  # odd weeks open a block; W53 is odd, so it opens one
    start = date.fromisocalendar(year, first, 1)
    if first == 53:
        return Period("fortnight", f"{year}-W53", start, start + timedelta(days=6))
    return Period("fortnight", f"{year}-W{first:02d}-W{first + 1:02d}", start, start + timedelta(days=13))


def half_of(day: date) -> Period:
    if day.month <= 6:
        return Period("half", f"{day.year}-H1", date(day.year, 1, 1), date(day.year, 6, 30))
    return Period("half", f"{day.year}-H2", date(day.year, 7, 1), date(day.year, 12, 31))


_CYCLE_OF = {
    "daily": day_of,
    "weekly": week_of,
    "fortnightly": fortnight_of,
    "monthly": month_of,
    "quarterly": quarter_of,
    "half_yearly": half_of,
    "yearly": year_of,
}


def cycle_of(column: Column, day: date) -> Period | None:
    """The cycle containing `day`; None for on_change columns, which have none."""
    period_of = _CYCLE_OF.get(column.cycle)
    return period_of(day) if period_of else None


def cycles_between(column: Column, start: date, end: date, calendar: WorkCalendar | None = None) -> list[Period]:
    """Every cycle overlapping [start, end], oldest first; [] for on_change. With a calendar, cycles
    without a working day are left out (they owe nothing)."""
    cycles: list[Period] = []
    cycle = cycle_of(column, start) if start <= end else None
    while cycle is not None and cycle.start <= end:
        if calendar is None or calendar.workdays(cycle):
            cycles.append(cycle)
        cycle = cycle_of(column, cycle.end + timedelta(days=1))
    return cycles


# ---- accounting ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleStatus:
    column: str
    unit: str
    cycle: Period
    due: int
    received: int
    missing: int  # max(0, due - received)
    closed: bool  # the cycle has ended (as of `today`)
    shared: bool = False  # `unit` is the collective of a shared duty: shown, never deducted from a member
    members: tuple[str, ...] = ()  # a shared duty's units, who are reminded of it


def responsible(column: Column, units: Sequence[str]) -> tuple[str, ...]:
    """The column's units, "*" standing for every unit in `units`."""
    return tuple(units) if column.units == (EVERY_UNIT,) else column.units


def collective(column: Column, units: Sequence[str]) -> str:
    """The name a shared duty's cycles are reported under."""
    return column.group or "、".join(responsible(column, units))


def cycle_accounting(
    column: Column,
    units: Sequence[str],
    received: Mapping[tuple[str, str], int],
    cycles: Sequence[Period],
    today: date,
    owed_from: Mapping[str, date] | None = None,
) -> list[CycleStatus]:
    """Due, received and missing per responsible unit and cycle; `received` is keyed by (unit, cycle label),
    absent = 0. A cycle of another kind than the column's is refused: its label would never match.

    A unit owes a cycle only if the cycle starts on or after its `owed_from` date (absent: always) and the
    column's `since`. A shared duty gives one status per cycle, under the collective's name, counting the
    items of every member registered by then."""
    if column.cycle == "on_change":
        return []
    owed_from = owed_from or {}
    members = responsible(column, units)
    statuses = []
    for cycle in cycles:
        if cycle_of(column, cycle.start) != cycle:
            raise ValueError(
                f"column {column.name!r} is {column.cycle}: {cycle.kind} {cycle.label} is not one of its cycles"
            )
        if column.since is not None and cycle.start < column.since:
            continue
        owing = [u for u in members if owed_from.get(u, date.min) <= cycle.start]
        closed = cycle.end < today
        if column.shared and owing:
            got = sum(received.get((u, cycle.label), 0) for u in members)
            group = collective(column, units)
            missing = max(0, column.per_cycle - got)
            statuses.append(
                CycleStatus(column.name, group, cycle, column.per_cycle, got, missing, closed, True, tuple(owing))
            )
            continue
        for unit in owing:
            got = received.get((unit, cycle.label), 0)
            statuses.append(
                CycleStatus(column.name, unit, cycle, column.per_cycle, got, max(0, column.per_cycle - got), closed)
            )
    return statuses


def deductions(
    statuses: Sequence[CycleStatus], column: Column, channels: Sequence[str] = ("website",)
) -> list[tuple[str, str, float]]:
    """(unit, cycle label, -penalty x missing) for closed cycles with items missing. (unit, cycle label) is
    the key the ledger should keep, so a cycle accounted twice is still deducted once. Only columns of the
    deducted `channels` cost points (三(二)2 speaks of the website's columns), and a shared duty's miss is
    the collective's, deducted from no member."""
    if column.cycle == "on_change" or column.channel not in channels:
        return []
    seen: set[tuple[str, str]] = set()
    result = []
    for status in statuses:
        if status.column != column.name:
            raise ValueError(f"status of column {status.column!r} passed with column {column.name!r}")
        key = (status.unit, status.cycle.label)
        if status.shared:
            continue
        if status.closed and status.missing > 0 and key not in seen:
            seen.add(key)
            result.append((status.unit, status.cycle.label, -round(column.penalty * status.missing, 4)))
    return result


def due_soon(
    column: Column,
    units: Sequence[str],
    received: Mapping[tuple[str, str], int],
    today: date,
    calendar: WorkCalendar,
    days_before: int = 1,
) -> list[CycleStatus]:
    """Whom to remind today: units still short in the current cycle when at most `days_before` working days
    of it are left after today (so the last day itself is included). Nothing on non-working days or for
    on_change columns; the caller keeps one reminder per unit and cycle if it runs this every day."""
    if days_before < 0:
        raise ValueError(f"days_before must be >= 0, not {days_before}")
    cycle = cycle_of(column, today)
    if cycle is None or not calendar.is_workday(today):
        return []
    left = sum(1 for day in calendar.workdays(cycle) if day > today)
    if left > days_before:
        return []
    short = [s for s in cycle_accounting(column, units, received, [cycle], today) if s.missing > 0]
    # A shared duty is reminded to each of its members: any one of them can keep the cycle.
    return [replace(s, unit=m) if s.shared else s for s in short for m in (s.members if s.shared else (s.unit,))]


# ---- research and experience pieces (一(二)2, 三(二)3) -------------------------------------------------


@dataclass(frozen=True)
class AnnualPiece:
    unit: str
    kind: str  # research | experience
    year: int
    received: int  # pieces of that kind this year
    missing: int  # 1 if the year has ended (as of `today`) with none received, else 0


def annual_pieces(
    units: Sequence[str], received: Mapping[tuple[str, str, int], int], year: int, today: date
) -> list[AnnualPiece]:
    """One research and one experience piece per unit and year; sending them in different halves is allowed,
    and either half will do, so nothing is owed before the year ends. `received` is keyed by
    (unit, kind, year), absent = 0."""
    ended = today > date(year, 12, 31)
    pieces = []
    for unit in units:
        for kind in PIECE_KINDS:
            got = received.get((unit, kind, year), 0)
            pieces.append(AnnualPiece(unit, kind, year, got, int(ended and got == 0)))
    return pieces


def annual_deductions(
    pieces: Sequence[AnnualPiece], penalty: float = 1.0, *, year_closed: bool
) -> list[tuple[str, str, float]]:
    """(unit, kind, -penalty) per missing piece, only once the office has closed the year, so a piece of
    last year arriving in early January can still be counted before anyone is deducted."""
    if not year_closed:
        return []
    return [(p.unit, p.kind, -round(penalty * p.missing, 4)) for p in pieces if p.missing > 0]


_DROP = re.compile(r"[\s“”‘’\"'「」『』《》【】\[\]〔〕。，,；;：:！!、]")


def normalise_name(text: str) -> str:
    """A column name as compared: width-folded, without spaces, quotes, brackets or punctuation."""
    return _DROP.sub("", unicodedata.normalize("NFKC", text))
