"""What a weekly digest or an office bulletin (通报) says, as plain data the templates, workbook and chart share.

The caller fills a `Report` from the database; everything here is pure so the three renderings can be
tested from a hand-built report and always agree on ranks, praise and figures. Each bulletin carries
报送数量、采用数量、累计积分; the yearly one also carries the figures a 政府信息公开年度报告 quotes
(信息总数、日均发布量). Every point total is the sum of the ledger lines behind it: the bulletin lists
them as `details` (信息明细) and `deduction_lines` (扣分明细).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from mailbot.domain.calendar import Period, parse_period

KINDS = ("weekly", "monthly", "quarterly", "yearly")
_PERIOD_KIND = {"weekly": "week", "monthly": "month", "quarterly": "quarter", "yearly": "year"}
_PERIOD_WORD = {"weekly": "本周", "monthly": "本月", "quarterly": "本季度", "yearly": "本年度"}
_QUARTERS = "一二三四"
# Points are split to 1/10000 between drafters (scoring.split_evenly); compare at that precision so
# float noise (0.1 + 0.2) never breaks a tie.
_POINT_DIGITS = 4


@dataclass(frozen=True)
class UnitLine:
    unit: str
    kind: str
    received: int  # emails from the unit that got a verdict (receipts + rejections + duplicates)
    accepted: int  # items recorded
    rejected: int
    adopted_city: int
    adopted_province: int
    adopted_national: int
    points: float
    rank: int
    quota_due: int
    quota_met: bool
    ytd_points: float
    ytd_accepted: int
    column_points: float = 0.0  # points from column items (栏目) in the period, included in `points`
    deductions: float = 0.0  # deductions in the period as a negative number (missed cycles, office), in `points`
    missed_weeks: tuple[str, ...] = ()  # ISO weeks (ending in the period) below 三(一)1's weekly minimum

    @property
    def missed_weeks_text(self) -> str:
        """ "第41周、第42周", as the bulletin names the weeks a unit missed."""
        return "、".join(f"第{int(label.split('-W')[1])}周" for label in self.missed_weeks)


@dataclass(frozen=True)
class ColumnLine:
    """One column of the website or WeChat account: who owes what in the current cycle."""

    name: str
    channel: str  # 网站 | 微信公众号
    cycle: str  # 每天 | 每周 | 每两周 | 每月 | 每季度 | 每半年 | 每年 | 即时更新
    units: str  # responsible units, "、"-joined
    last_update: str  # local date of the latest item, or "—"
    received: int  # items in the period
    missing: int  # items missing in the cycles that closed in the period (deducted)
    overdue: tuple[str, ...]  # units that owe an item in a closed cycle of the period
    status: str  # 正常 | 逾期 | 即时更新


@dataclass(frozen=True)
class PersonLine:
    name: str
    unit: str
    items: int  # items recorded in the period with this drafter, returned ones not counted
    points: float
    ytd_points: float
    returned: int = 0  # items of the period returned in final review (终审退回), shown apart

    @property
    def items_text(self) -> str:
        """ "3", or "3（另退回1）": 篇数 counts recorded items, the returned ones are named apart."""
        return f"{self.items}（另退回{self.returned}）" if self.returned else str(self.items)


@dataclass(frozen=True)
class DetailLine:
    """One item of the period as the 信息明细 sheet lists it: what it is and what it earned in the period."""

    number: str
    day: str  # local date received, "10月12日"
    unit: str
    drafters: str  # "张三 0.15、李四 0.15": each drafter's points from this item in the period
    kind: str  # 常规信息 | 调研类信息 | 经验类信息
    column: str  # 栏目 credited, or ""
    solicitation: str  # 约稿: "《防汛备汛》按时，评 2 分", or ""
    adoptions: str  # "市级（10月20日）、省级（10月28日）", or ""
    points: float  # the item's ledger points dated in the period (adoptions of older items included)
    status: str  # 已收录 | 已终审 | 已退回


@dataclass(frozen=True)
class MonthLine:
    """One unit's month in a quarterly or yearly bulletin (月度明细), in place of every item: the month's
    bulletin lists its items, so a year's total is its months' lines and each is that bulletin's sum."""

    unit: str
    month: str  # "3月"
    accepted: int  # items recorded in the month, returned ones not counted
    submitted: float  # 报送 points: submission, column and 约稿 lines dated in the month
    adopted: float  # 采用 points dated in the month
    deducted: float  # deductions dated in the month, negative
    points: float  # the month's total: the three above


@dataclass(frozen=True)
class DeductionLine:
    """One deduction of the period as the 扣分明细 sheet lists it."""

    unit: str
    rule: str  # 三(二)2 | 三(二)3 | 办公室扣分
    duty: str  # the column or piece owed, "—" for the office's own deductions
    cycle: str  # the cycle it belongs to, "10月5日至10月11日"
    points: float  # negative
    reason: str
    by: str  # who recorded it; duties not done are computed by the system
    person: str = ""  # the drafter it is charged to, if the office named one


@dataclass(frozen=True)
class ItemLine:
    number: str  # 2026-0137
    title: str
    unit: str
    drafters: str  # "张三、李四"
    received_at: str  # local time, already formatted: "11月24日 14:05"
    points: float
    status: str  # 已收录 / 已终审 / 已退回 / 重复


@dataclass(frozen=True)
class RejectionLine:
    unit: str
    sender: str
    subject: str
    received_at: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class HeldLine:
    sender: str
    subject: str
    received_at: str
    why: str


@dataclass(frozen=True)
class Totals:
    received: int
    accepted: int
    rejected: int
    adopted: int
    published: int  # approved in final review (终审通过): the annual report's "published" figure
    daily_average: float  # accepted / calendar days of the period


@dataclass(frozen=True)
class Report:
    kind: str  # weekly | monthly | quarterly | yearly
    period_label: str  # 2026-W48 | 2026-11 | 2026-Q4 | 2026
    title: str
    range_text: str
    office_name: str
    units: tuple[UnitLine, ...]  # sorted by rank
    people: tuple[PersonLine, ...]  # sorted by points, highest first
    items: tuple[ItemLine, ...]
    rejections: tuple[RejectionLine, ...]
    held: tuple[HeldLine, ...]
    silent_units: tuple[str, ...]
    missed_quota: tuple[str, ...]
    top_units: tuple[str, ...]  # praised (表扬); see top_units()
    totals: Totals
    columns: tuple[ColumnLine, ...] = ()  # column health; empty when no columns are configured
    details: tuple[DetailLine, ...] = ()  # 信息明细: every item with points or arriving in the period
    deduction_lines: tuple[DeductionLine, ...] = ()  # 扣分明细: every deduction dated in the period
    month_lines: tuple[MonthLine, ...] = ()  # 月度明细 of a quarterly or yearly bulletin, instead of `details`
    issued: str = ""  # the bulletin's date, "2026年11月2日"
    document_number: str = ""  # 文号 from [office] document_number, "盘应急办〔2026〕12号"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"report kind {self.kind!r} is not one of {', '.join(KINDS)}")

    @property
    def missed_week_units(self) -> tuple[UnitLine, ...]:
        """Units that missed a week's minimum (三(一)1), in rank order."""
        return tuple(u for u in self.units if u.missed_weeks)

    @property
    def period_word(self) -> str:
        """本周 / 本月 / 本季度 / 本年度, for sentences like "本月共收录信息 12 条"."""
        return _PERIOD_WORD[self.kind]

    @property
    def shows_ytd(self) -> bool:
        """Year-to-date columns repeat the period's own figures in a yearly report, so it leaves them out."""
        return self.kind != "yearly"

    @property
    def earned_before_deductions(self) -> bool:
        """Some unit earned points before its deductions: "no unit earned points" would be untrue then."""
        return any(round(u.points - u.deductions, _POINT_DIGITS) > 0 for u in self.units)

    def deductions_by_unit(self) -> tuple[tuple[str, int, float], ...]:
        """(unit, number of deductions, their total) in the unit table's order: one line per unit."""
        order = {u.unit: i for i, u in enumerate(self.units)}
        count: dict[str, int] = {}
        total: dict[str, float] = {}
        for d in self.deduction_lines:
            count[d.unit] = count.get(d.unit, 0) + 1
            total[d.unit] = total.get(d.unit, 0.0) + d.points
        names = sorted(count, key=lambda name: (order.get(name, len(order)), name))
        return tuple((name, count[name], round(total[name], _POINT_DIGITS)) for name in names)

    def items_by_unit(self) -> tuple[tuple[str, tuple[ItemLine, ...]], ...]:
        """Items grouped in the units' rank order (as in the unit table); units not listed come last."""
        order = {u.unit: i for i, u in enumerate(self.units)}
        groups: dict[str, list[ItemLine]] = {}
        for item in self.items:
            groups.setdefault(item.unit, []).append(item)
        names = sorted(groups, key=lambda name: (order.get(name, len(order)), name))
        return tuple((name, tuple(groups[name])) for name in names)


def competition_ranks(points: Sequence[float]) -> tuple[int, ...]:
    """Ranks for points in the given order, ties sharing a rank and the next rank skipped (1, 2, 2, 4)."""
    keys = [round(p, _POINT_DIGITS) for p in points]
    return tuple(1 + sum(other > key for other in keys) for key in keys)


def top_units(units: Sequence[UnitLine], places: int = 3) -> tuple[str, ...]:
    """Units praised in a bulletin: the top `places` ranks by points, a tie on the last place included,
    units without points never; highest first."""
    scoring = [u for u in units if round(u.points, _POINT_DIGITS) > 0]
    ranks = competition_ranks([u.points for u in scoring])
    ranked = sorted(zip(ranks, scoring, strict=True), key=lambda pair: pair[0])
    return tuple(u.unit for rank, u in ranked if rank <= places)


def title_for(kind: str, period_label: str) -> str:
    """The document title the office uses, e.g. "2026年11月政务信息报送情况通报"."""
    if kind not in KINDS:
        raise ValueError(f"report kind {kind!r} is not one of {', '.join(KINDS)}")
    period = parse_period(period_label)
    if period.kind != _PERIOD_KIND[kind]:
        raise ValueError(f"a {kind} report needs a {_PERIOD_KIND[kind]} period, got {period_label!r}")
    year, _, number = period.label.partition("-")
    if kind == "weekly":
        return f"{year}年第{int(number[1:])}周政务信息报送周报"
    if kind == "monthly":
        return f"{year}年{int(number)}月政务信息报送情况通报"
    if kind == "quarterly":
        return f"{year}年第{_QUARTERS[int(number[1:]) - 1]}季度政务信息报送情况通报"
    return f"{year}年度政务信息报送情况通报"


def range_text(start: date, end: date) -> str:
    """ "2026年11月23日至11月29日"; the end's year is repeated only when it differs (ISO weeks across New Year)."""
    if end < start:
        raise ValueError(f"period ends ({end}) before it starts ({start})")
    first = f"{start.year}年{start.month}月{start.day}日"
    if end == start:
        return first
    last = f"{end.month}月{end.day}日" if end.year == start.year else f"{end.year}年{end.month}月{end.day}日"
    return f"{first}至{last}"


def combine_reports(desks: list[tuple[str, Report]], kind: str, period: Period, office_name: str) -> Report:
    """Several bureaus' reports as one: a line per bureau (its units' sums), people and quota
    shortfalls under "bureau·unit". For a province office collecting its cities' desks."""
    lines = []
    for desk, r in desks:
        lines.append(
            UnitLine(
                unit=desk,
                kind="desk",
                received=sum(u.received for u in r.units),
                accepted=sum(u.accepted for u in r.units),
                rejected=sum(u.rejected for u in r.units),
                adopted_city=sum(u.adopted_city for u in r.units),
                adopted_province=sum(u.adopted_province for u in r.units),
                adopted_national=sum(u.adopted_national for u in r.units),
                points=round(sum(u.points for u in r.units), 4),
                rank=0,
                quota_due=sum(u.quota_due for u in r.units),
                quota_met=all(u.quota_met for u in r.units),
                ytd_points=round(sum(u.ytd_points for u in r.units), 4),
                ytd_accepted=sum(u.ytd_accepted for u in r.units),
                column_points=round(sum(u.column_points for u in r.units), 4),
                deductions=round(sum(u.deductions for u in r.units), 4),
            )
        )
    lines.sort(key=lambda line: -line.points)
    ranked = tuple(
        replace(line, rank=rank) for line, rank in zip(lines, competition_ranks([x.points for x in lines]), strict=True)
    )
    people = sorted(
        (replace(p, unit=f"{desk}·{p.unit}") for desk, r in desks for p in r.people),
        key=lambda p: (-p.points, p.unit, p.name),
    )
    totals = [r.totals for _d, r in desks]
    days = (period.end - period.start).days + 1
    accepted = sum(t.accepted for t in totals)
    return Report(
        kind=kind,
        period_label=period.label,
        title=title_for(kind, period.label) + "（汇总）",
        range_text=range_text(period.start, period.end),
        office_name=office_name,
        units=ranked,
        people=tuple(people),
        items=(),
        rejections=(),
        held=(),
        silent_units=tuple(f"{d}·{u}" for d, r in desks for u in r.silent_units),
        missed_quota=tuple(f"{d}·{u}" for d, r in desks for u in r.missed_quota),
        top_units=top_units(ranked),
        totals=Totals(
            sum(t.received for t in totals),
            accepted,
            sum(t.rejected for t in totals),
            sum(t.adopted for t in totals),
            sum(t.published for t in totals),
            round(accepted / days, 2),
        ),
    )
