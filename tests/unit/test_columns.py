"""Columns of annexes 1 and 2: cycles, accounting, deductions, reminders, naming, and the shipped registry.

Dates are real 2026/2027 days: 2026 has an ISO week 53 (2026-12-28..2027-01-03), and its Spring Festival
holiday runs 02-15..02-23, so ISO week 2026-W08 (02-16..02-22) has no working day at all.
"""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from mailbot.domain.calendar import WorkCalendar, month_of, quarter_of, week_of, year_of
from mailbot.domain.column_match import column_from, match_column
from mailbot.domain.columns import (
    AnnualPiece,
    Column,
    annual_deductions,
    annual_pieces,
    cycle_accounting,
    cycle_of,
    cycles_between,
    deductions,
    due_soon,
    parse_columns,
)

OFFICIAL = WorkCalendar()
REGISTRY = Path(__file__).resolve().parents[2] / "config.toml"  # carries annexes 1 and 2 as [[columns]]


def column(
    name: str = "动态要闻",
    cycle: str = "monthly",
    units: tuple[str, ...] = ("宣教科",),
    *,
    per_cycle: int = 1,
    penalty: float = 0.3,
    aliases: tuple[str, ...] = (),
    duty: str = "each",  # the cycle mechanics below are checked per unit; shared duties have their own tests
    channel: str = "website",
) -> Column:
    return Column(
        name=name,
        channel=channel,
        cycle=cycle,
        per_cycle=per_cycle,
        units=units,
        points=penalty,
        penalty=penalty,
        photos=True,
        aliases=aliases,
        duty=duty,
        group="、".join(units),
    )


def table(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "name": "动态要闻",
        "channel": "website",
        "cycle": "daily",
        "units": ["宣教科"],
        "points": 0.3,
        "penalty": 0.3,
        "photos": True,
    }
    entry.update(overrides)
    return {k: v for k, v in entry.items() if v is not None}


@pytest.fixture(scope="module")
def registry() -> tuple[Column, ...]:
    with REGISTRY.open("rb") as f:
        return parse_columns(tomllib.load(f)["columns"])


# ---- cycles -------------------------------------------------------------------------------------------


def test_cycle_of_each_kind() -> None:
    day = date(2026, 5, 12)
    assert cycle_of(column(cycle="daily"), day).label == "2026-05-12"
    assert cycle_of(column(cycle="weekly"), day) == week_of(day)
    assert cycle_of(column(cycle="monthly"), day) == month_of(day)
    assert cycle_of(column(cycle="quarterly"), day) == quarter_of(day)
    assert cycle_of(column(cycle="yearly"), day) == year_of(day)
    half = cycle_of(column(cycle="half_yearly"), day)
    assert (half.kind, half.label, half.start, half.end) == ("half", "2026-H1", date(2026, 1, 1), date(2026, 6, 30))
    second = cycle_of(column(cycle="half_yearly"), date(2026, 7, 1))
    assert (second.label, second.end) == ("2026-H2", date(2026, 12, 31))
    assert cycle_of(column(cycle="on_change"), day) is None


def test_fortnights_are_fixed_pairs_of_iso_weeks() -> None:
    fortnightly = column("头条新闻", "fortnightly")
    block = cycle_of(fortnightly, date(2026, 5, 12))  # Tuesday of 2026-W20
    assert (block.kind, block.label) == ("fortnight", "2026-W19-W20")
    assert (block.start, block.end) == (date(2026, 5, 4), date(2026, 5, 17))
    assert cycle_of(fortnightly, date(2026, 5, 4)) == block == cycle_of(fortnightly, date(2026, 5, 17))
    assert cycle_of(fortnightly, date(2026, 5, 18)).label == "2026-W21-W22"
    first = cycle_of(fortnightly, date(2026, 1, 1))  # ISO 2026-W01 began on 2025-12-29
    assert (first.label, first.start, first.end) == ("2026-W01-W02", date(2025, 12, 29), date(2026, 1, 11))


def test_fortnights_across_the_year_boundary_give_w53_a_block_of_its_own() -> None:
    labels = [
        (p.label, p.start, p.end)
        for p in cycles_between(column("头条新闻", "fortnightly"), date(2026, 12, 1), date(2027, 1, 20))
    ]
    assert labels == [
        ("2026-W49-W50", date(2026, 11, 30), date(2026, 12, 13)),
        ("2026-W51-W52", date(2026, 12, 14), date(2026, 12, 27)),
        ("2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        ("2027-W01-W02", date(2027, 1, 4), date(2027, 1, 17)),
        ("2027-W03-W04", date(2027, 1, 18), date(2027, 1, 31)),
    ]
    # 2025 has 52 weeks: its last block W51-W52 is followed directly by 2026-W01-W02.
    assert [
        p.label for p in cycles_between(column("头条新闻", "fortnightly"), date(2025, 12, 20), date(2025, 12, 29))
    ] == ["2025-W51-W52", "2026-W01-W02"]


def test_cycles_between_covers_every_overlapping_cycle() -> None:
    quarters = cycles_between(column(cycle="quarterly"), date(2026, 3, 31), date(2026, 10, 1))
    assert [q.label for q in quarters] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [p.label for p in cycles_between(column(cycle="yearly"), date(2026, 6, 1), date(2027, 2, 1))] == [
        "2026",
        "2027",
    ]
    assert len(cycles_between(column(cycle="daily"), date(2026, 5, 1), date(2026, 5, 31))) == 31
    assert cycles_between(column(cycle="monthly"), date(2026, 5, 31), date(2026, 5, 1)) == []
    assert cycles_between(column(cycle="on_change"), date(2026, 1, 1), date(2026, 12, 31)) == []


def test_with_a_calendar_cycles_without_a_working_day_owe_nothing() -> None:
    days = cycles_between(column(cycle="daily"), date(2026, 2, 13), date(2026, 2, 25), OFFICIAL)
    # Fri 13 and make-up Sat 14 work, 15..23 is the Spring Festival, 24 and 25 work again.
    assert [d.label for d in days] == ["2026-02-13", "2026-02-14", "2026-02-24", "2026-02-25"]
    weeks = cycles_between(column(cycle="weekly"), date(2026, 2, 9), date(2026, 3, 1), OFFICIAL)
    assert [w.label for w in weeks] == ["2026-W07", "2026-W09"]  # W08 has no working day


# ---- accounting and deductions ------------------------------------------------------------------------


def test_accounting_per_unit_and_cycle_across_a_quarter_boundary() -> None:
    quarterly = column("意见征集", "quarterly", ("局办公室",))
    cycles = cycles_between(quarterly, date(2026, 1, 1), date(2026, 6, 30))
    statuses = cycle_accounting(quarterly, [], {("局办公室", "2026-Q2"): 1}, cycles, today=date(2026, 4, 1))
    assert [(s.cycle.label, s.due, s.received, s.missing, s.closed) for s in statuses] == [
        ("2026-Q1", 1, 0, 1, True),
        ("2026-Q2", 1, 1, 0, False),
    ]
    assert deductions(statuses, quarterly) == [("局办公室", "2026-Q1", -0.3)]
    on_last_day = cycle_accounting(quarterly, [], {}, cycles[:1], today=date(2026, 3, 31))
    assert on_last_day[0].closed is False
    assert deductions(on_last_day, quarterly) == []


def test_an_open_cycle_is_not_deducted_until_it_closes() -> None:
    fortnightly = column("头条新闻", "fortnightly")
    block = cycle_of(fortnightly, date(2026, 12, 28))  # 2026-W53, to 2027-01-03
    open_ = cycle_accounting(fortnightly, [], {}, [block], today=date(2027, 1, 3))
    closed = cycle_accounting(fortnightly, [], {}, [block], today=date(2027, 1, 4))
    assert deductions(open_, fortnightly) == []
    assert deductions(closed, fortnightly) == [("宣教科", "2026-W53", -0.3)]


def test_a_deduction_exactly_once_per_missed_cycle() -> None:
    monthly = column("部门会议", "monthly", ("法规科",))
    received = {("法规科", "2026-02"): 3}  # a surplus in February does not cover January or March
    cycles = cycles_between(monthly, date(2026, 1, 1), date(2026, 3, 31))
    statuses = cycle_accounting(monthly, [], received, cycles, today=date(2026, 4, 1))
    assert deductions(statuses, monthly) == [("法规科", "2026-01", -0.3), ("法规科", "2026-03", -0.3)]
    # The same months accounted again (overlapping bulletin runs) are still deducted once each.
    again = cycle_accounting(
        monthly, [], received, cycles_between(monthly, date(2026, 3, 1), date(2026, 3, 31)), today=date(2026, 4, 1)
    )
    assert deductions([*statuses, *again], monthly) == [("法规科", "2026-01", -0.3), ("法规科", "2026-03", -0.3)]


def test_missing_items_multiply_the_penalty_without_float_noise() -> None:
    weekly = column("通知公告", "weekly", per_cycle=3)
    week = week_of(date(2026, 10, 12))
    statuses = cycle_accounting(weekly, [], {("宣教科", week.label): 1}, [week], today=date(2026, 10, 19))
    assert (statuses[0].due, statuses[0].received, statuses[0].missing) == (3, 1, 2)
    assert deductions(statuses, weekly) == [("宣教科", "2026-W42", -0.6)]
    none = cycle_accounting(weekly, [], {}, [week], today=date(2026, 10, 19))
    assert deductions(none, weekly) == [("宣教科", "2026-W42", -0.9)]


def test_year_boundary_for_a_yearly_column_with_two_units() -> None:
    yearly = column("预算决算", "yearly", ("局办公室", "中心办公室"), penalty=1.0)
    cycles = cycles_between(yearly, date(2026, 1, 1), date(2026, 12, 31))
    received = {("局办公室", "2026"): 1}
    assert deductions(cycle_accounting(yearly, [], received, cycles, today=date(2026, 12, 31)), yearly) == []
    assert deductions(cycle_accounting(yearly, [], received, cycles, today=date(2027, 1, 1)), yearly) == [
        ("中心办公室", "2026", -1.0)
    ]


def test_every_unit_stands_for_all_units() -> None:
    notices = column("通知公告", "weekly", ("*",))
    week = week_of(date(2026, 10, 12))
    statuses = cycle_accounting(
        notices, ["宣教科", "法规科", "盘山县应急管理局"], {("法规科", week.label): 1}, [week], today=date(2026, 10, 19)
    )
    assert [(s.unit, s.missing) for s in statuses] == [("宣教科", 1), ("法规科", 0), ("盘山县应急管理局", 1)]
    assert [d[0] for d in deductions(statuses, notices)] == ["宣教科", "盘山县应急管理局"]
    named = column("部门文件", "monthly", ("法规科", "局办公室"))
    assert [
        s.unit for s in cycle_accounting(named, ["宣教科"], {}, [month_of(date(2026, 5, 1))], date(2026, 6, 1))
    ] == ["法规科", "局办公室"]


def test_on_change_columns_are_never_due_deducted_or_reminded() -> None:
    hot = column("热点新闻", "on_change")
    month = month_of(date(2026, 5, 1))
    assert cycle_accounting(hot, ["宣教科"], {}, [month], today=date(2026, 7, 1)) == []
    stray = cycle_accounting(column("热点新闻", "monthly"), [], {}, [month], today=date(2026, 7, 1))
    assert deductions(stray, hot) == []
    assert due_soon(hot, ["宣教科"], {}, date(2026, 5, 29), OFFICIAL) == []


def test_accounting_refuses_cycles_of_another_kind() -> None:
    with pytest.raises(ValueError, match="not one of its cycles"):
        cycle_accounting(column(cycle="monthly"), [], {}, [week_of(date(2026, 5, 4))], date(2026, 6, 1))


def test_deductions_refuse_statuses_of_another_column() -> None:
    statuses = cycle_accounting(column("部门会议"), [], {}, [month_of(date(2026, 5, 1))], date(2026, 6, 1))
    with pytest.raises(ValueError, match="部门会议"):
        deductions(statuses, column("机关建设"))


# ---- reminders ----------------------------------------------------------------------------------------


def test_due_soon_in_the_last_working_days_of_a_week() -> None:
    notices = column("通知公告", "weekly", ("*",))
    units = ["宣教科", "法规科"]
    received = {("法规科", "2026-W42"): 1}
    assert due_soon(notices, units, received, date(2026, 10, 14), OFFICIAL) == []  # Wed: Thu and Fri left
    thursday = due_soon(notices, units, received, date(2026, 10, 15), OFFICIAL)
    assert [(s.unit, s.cycle.label, s.missing, s.closed) for s in thursday] == [("宣教科", "2026-W42", 1, False)]
    assert [s.unit for s in due_soon(notices, units, received, date(2026, 10, 16), OFFICIAL)] == ["宣教科"]
    assert due_soon(notices, units, received, date(2026, 10, 17), OFFICIAL) == []  # Saturday: no reminders
    assert len(due_soon(notices, units, received, date(2026, 10, 14), OFFICIAL, days_before=2)) == 1


def test_due_soon_follows_make_up_days_and_months() -> None:
    monthly = column("部门会议", "monthly", ("法规科",))
    # February 2026 ends with Fri 27 and the make-up Saturday 28: Friday is one working day before.
    assert [s.cycle.label for s in due_soon(monthly, [], {}, date(2026, 2, 27), OFFICIAL)] == ["2026-02"]
    assert due_soon(monthly, [], {}, date(2026, 2, 26), OFFICIAL) == []
    assert due_soon(monthly, [], {("法规科", "2026-02"): 1}, date(2026, 2, 27), OFFICIAL) == []


def test_a_daily_column_is_reminded_on_the_day_itself() -> None:
    daily = column("动态要闻", "daily")
    assert [s.cycle.label for s in due_soon(daily, [], {}, date(2026, 5, 12), OFFICIAL)] == ["2026-05-12"]
    assert due_soon(daily, [], {("宣教科", "2026-05-12"): 1}, date(2026, 5, 12), OFFICIAL) == []
    with pytest.raises(ValueError):
        due_soon(daily, [], {}, date(2026, 5, 12), OFFICIAL, days_before=-1)


# ---- research and experience pieces -------------------------------------------------------------------


def test_one_piece_in_either_half_settles_the_year() -> None:
    received = {("宣教科", "research", 2026): 1, ("宣教科", "experience", 2026): 1, ("法规科", "research", 2026): 2}
    midyear = annual_pieces(["宣教科", "法规科"], received, 2026, today=date(2026, 7, 1))
    assert all(p.missing == 0 for p in midyear)  # H1 is over, but the second half may still bring it
    year_end = annual_pieces(["宣教科", "法规科"], received, 2026, today=date(2027, 1, 1))
    assert year_end == [
        AnnualPiece("宣教科", "research", 2026, 1, 0),
        AnnualPiece("宣教科", "experience", 2026, 1, 0),
        AnnualPiece("法规科", "research", 2026, 2, 0),
        AnnualPiece("法规科", "experience", 2026, 0, 1),
    ]


def test_nothing_all_year_costs_one_point_per_kind_at_year_end_only() -> None:
    on_dec_31 = annual_pieces(["危化科"], {}, 2026, today=date(2026, 12, 31))
    assert annual_deductions(on_dec_31, year_closed=True) == []
    after = annual_pieces(["危化科"], {("危化科", "research", 2025): 1}, 2026, today=date(2027, 1, 5))
    assert annual_deductions(after, year_closed=False) == []  # the office has not closed 2026 yet
    assert annual_deductions(after, year_closed=True) == [("危化科", "research", -1.0), ("危化科", "experience", -1.0)]
    assert annual_deductions(after, 0.5, year_closed=True)[0] == ("危化科", "research", -0.5)


# ---- naming the column --------------------------------------------------------------------------------


def test_exact_alias_near_miss_ambiguous_and_unknown(registry: tuple[Column, ...]) -> None:
    exact = match_column("动态要闻", registry)
    assert (exact.column.name, exact.exact, exact.written) == ("动态要闻", True, "动态要闻")
    assert match_column(" 放管服改革 ", registry).column.name == "“放管服”改革"  # quotes and spaces ignored
    alias = match_column("动态新闻", registry)
    assert (alias.column.name, alias.exact) == ("动态要闻", False)
    near = match_column("文件解读类", registry)
    assert (near.column.name, near.exact, near.written) == ("文件解读", False, "文件解读类")
    assert match_column("部门会议信息", registry).column.name == "部门会议"  # not 部门文件 or 部门领导
    assert match_column("会议", registry).column.name == "部门会议"  # a shared suffix with one name only
    ambiguous = match_column("重要新闻", registry)  # 头条新闻 and 热点新闻 are equally close
    assert (ambiguous.column, ambiguous.exact) == (None, False)
    assert match_column("工作简报", registry).column is None  # shares 工作 only with the alias 工作动态
    assert match_column("", registry).column is None
    assert match_column("动态要闻", []).column is None


def test_equally_close_names_match_neither() -> None:
    columns = [column("安全生产检查"), column("安全生产执法")]
    assert match_column("安全生产", columns).column is None
    assert match_column("安全生产检查类", columns).column.name == "安全生产检查"


def test_column_from_the_subject(registry: tuple[Column, ...]) -> None:
    def named(subject: str) -> tuple[str | None, bool] | None:
        found = column_from(subject, [], registry)
        return None if found is None else (found.column.name if found.column else None, found.exact)

    assert named("【动态要闻】市应急局召开安全生产工作会议") == ("动态要闻", True)
    assert named("[头条新闻]国务院安委会部署") == ("头条新闻", True)
    assert named("栏目：部门会议 法规科召开专题会") == ("部门会议", True)
    assert named("栏目:文件解读类 《办法》解读") == ("文件解读", False)
    assert named("【调研】【动态新闻】市应急局开展调研") == ("动态要闻", False)
    assert named("【工作简报】第5期") == (None, False)  # names a column that does not exist: warn
    assert named("市应急局召开安全生产工作会议") is None


def test_tags_that_are_not_columns(registry: tuple[Column, ...]) -> None:
    for subject in (
        "【调研】关于危化企业标准化建设的调研报告",
        "【经验】盘山县应急局经验做法",
        "【约稿】防汛备汛",
        "回复：【经验交流】xx",
        "【盘山县应急管理局】开展演练",
        "【2026年第5期】工作信息",
        "【关于全市安全生产大检查工作开展情况的通报】",
    ):
        assert column_from(subject, [], registry) is None, subject


def test_column_line_among_the_first_lines_of_the_manuscript(registry: tuple[Column, ...]) -> None:
    found = column_from("市应急局召开会议", ["市应急局召开会议", "", "栏目：部门会议", "6月19日，……"], registry)
    assert (found.column.name, found.exact, found.written) == ("部门会议", True, "部门会议")
    assert column_from("x", ["标题", "栏目: 权责清单"], registry).column.name == "权责清单"
    late = ["标题", "一", "二", "三", "四", "栏目：部门会议"]
    assert column_from("x", late, registry) is None
    subject_wins = column_from("【动态要闻】x", ["栏目：部门会议"], registry)
    assert subject_wins.column.name == "动态要闻"
    assert column_from("x", ["本栏目：部门会议的说明"], registry) is None  # not a 栏目 line


# ---- parse_columns and the shipped registry -----------------------------------------------------------


def test_parse_columns_builds_columns_with_defaults() -> None:
    (parsed,) = parse_columns([table(aliases=["动态新闻"], content="发布非涉密的政务动态信息")])
    assert parsed == Column(
        "动态要闻",
        "website",
        "daily",
        1,
        ("宣教科",),
        0.3,
        0.3,
        True,
        ("动态新闻",),
        "发布非涉密的政务动态信息",
        group="宣教科",
    )


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"columns": []}, "array of tables"),
        (["动态要闻"], "entry 1 must be a table"),
        ([table(name=" ")], "entry 1 needs a name"),
        ([table(cycle="biweekly")], "'动态要闻' \\(entry 1\\): cycle must be one of"),
        ([table(channel="weibo")], "channel must be one of website, wechat"),
        ([table(photos=None)], "missing key\\(s\\): photos"),
        ([table(colour="red")], "unknown key\\(s\\): colour"),
        ([table(units=[])], "at least one responsible unit"),
        ([table(units="宣教科")], "units must be a list"),
        ([table(units=["*", "宣教科"])], "cannot be combined"),
        ([table(per_cycle=0)], "per_cycle must be a whole number >= 1"),
        ([table(points=True)], "points must be a number"),
        ([table(penalty=-0.3)], "penalty must be a number >= 0"),
        ([table(photos="yes")], "photos must be true or false"),
        ([table(), table(name="工作动态", aliases=["动态要闻"])], "already a name or alias of column '动态要闻'"),
        ([table(aliases=["政务动态"]), table(name="头条新闻", aliases=["政务 动态"])], "'政务 动态' is already"),
    ],
)
def test_parse_columns_says_which_column_and_key(raw: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_columns(raw)  # type: ignore[arg-type]


ANNEX_2 = (
    "动态要闻",
    "头条新闻",
    "通知公告",
    "意见征集",
    "部门会议",
    "热点新闻",
    "部门文件",
    "文件解读",
    "部门领导",
    "机关职能",
    "机构设置",
    "预算决算",
    "事故信息",
    "企业安全承诺",
    "许可通报",
    "“放管服”改革",
    "安全生产检查",
    "应急管理",
    "防灾减灾",
    "应急科普",
    "建议提案",
    "机关建设",
    "安委会工作",
    "行政执法",
    "权责清单",
)


def test_registry_holds_annex_2_in_order(registry: tuple[Column, ...]) -> None:
    website = [c.name for c in registry if c.channel == "website"]
    assert website == list(ANNEX_2)
    wechat = {c.name for c in registry if c.channel == "wechat"}
    assert {"新闻时事", "县区应急专栏", "法律法规专栏", "应急科普专栏"} <= wechat


def test_registry_follows_the_annexes(registry: tuple[Column, ...]) -> None:
    by_name = {c.name: c for c in registry}
    assert (by_name["动态要闻"].cycle, by_name["动态要闻"].units) == ("daily", ("宣教科",))
    assert by_name["头条新闻"].cycle == "fortnightly"
    assert (by_name["通知公告"].cycle, by_name["通知公告"].units) == ("weekly", ("*",))
    assert by_name["意见征集"].cycle == "quarterly"
    assert by_name["部门文件"].units == ("法规科", "局办公室")
    assert by_name["安全生产检查"].units == (
        "法规科",
        "危化科",
        "非煤科",
        "制造业科",
        "防灾减灾科",
        "指挥中心",
        "执法支队",
    )
    on_change = {c.name for c in registry if c.channel == "website" and c.cycle == "on_change"}
    assert on_change == {"热点新闻", "部门领导", "机关职能", "机构设置", "建议提案", "权责清单"}
    policy = {c.name for c in registry if (c.points, c.penalty) == (0.5, 0.5)}
    assert policy == {"部门文件", "文件解读"}
    assert (by_name["预算决算"].cycle, by_name["预算决算"].penalty) == ("yearly", 1.0)  # 三(二)3
    others = [c for c in registry if c.name not in policy | {"预算决算"}]
    assert all((c.points, c.penalty) == (0.3, 0.3) for c in others)
    assert by_name["动态要闻"].photos and not by_name["部门文件"].photos and not by_name["权责清单"].photos
    assert all(c.per_cycle == 1 for c in registry)


def test_deduction_for_a_policy_column_from_the_registry(registry: tuple[Column, ...]) -> None:
    documents = next(c for c in registry if c.name == "部门文件")
    may = month_of(date(2026, 5, 1))
    # 部门文件 is listed for 法规科、局办公室: a shared duty, so 局办公室's item keeps May for both.
    statuses = cycle_accounting(documents, [], {("局办公室", "2026-05"): 1}, [may], date(2026, 6, 1))
    assert deductions(statuses, documents) == []
    each = replace(documents, duty="each")
    statuses = cycle_accounting(each, [], {("局办公室", "2026-05"): 1}, [may], date(2026, 6, 1))
    assert deductions(statuses, each) == [("法规科", "2026-05", -0.5)]


def test_registry_names_and_aliases_all_match_their_own_column(registry: tuple[Column, ...]) -> None:
    for col in registry:
        for spelling in (col.name, *col.aliases):
            assert match_column(spelling, registry).column == col, spelling
