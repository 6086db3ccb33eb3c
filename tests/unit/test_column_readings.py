"""Column duties read as the bureau means them (三(二)2, annexes 1 and 2), on plain values."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import date
from pathlib import Path

from mailbot.domain.calendar import WorkCalendar, month_of, week_of
from mailbot.domain.columns import Column, cycle_accounting, cycles_between, deductions, due_soon, parse_columns

REGISTRY = Path(__file__).resolve().parents[2] / "config.toml"
OCT = month_of(date(2026, 10, 1))
AFTER = date(2026, 11, 2)


def registry() -> dict[str, Column]:
    with REGISTRY.open("rb") as f:
        return {c.name: c for c in parse_columns(tomllib.load(f)["columns"])}


def test_reading_1_only_website_columns_are_deducted() -> None:
    """三(二)2 deducts for 网站定期及实时更新栏目; a WeChat column earns points but owes no deduction."""
    columns = registry()
    news, science = columns["新闻时事"], columns["应急科普专栏"]
    assert news.channel == science.channel == "wechat"
    statuses = cycle_accounting(news, ["宣教科", "法规科"], {}, cycles_between(news, OCT.start, OCT.end), AFTER)
    assert [s for s in statuses if s.missing]  # shown as missing...
    assert deductions(statuses, news) == []  # ...but not deducted
    assert deductions(statuses, news, ("website", "wechat"))  # unless the office deducts WeChat too
    # 新闻时事 is 三(一)1's weekly item of every unit: each unit owes its own, and any item of it counts.
    assert news.duty == "each" and news.any_item and news.units == ("*",)


def test_reading_2_a_collective_duty_is_kept_by_any_member() -> None:
    """通知公告 (各科室及单位) and 部门会议 (各科室) are shared: one item from any member keeps the cycle."""
    columns = registry()
    notices = replace(columns["通知公告"], units=("宣教科", "法规科", "危化科"))
    meetings = columns["部门会议"]
    assert notices.shared and meetings.duty == "shared" and notices.group == "各科室及单位"
    weeks = cycles_between(notices, date(2026, 10, 5), date(2026, 10, 18))
    kept = {("法规科", weeks[0].label): 1}
    statuses = cycle_accounting(notices, [], kept, weeks, AFTER)
    assert [(s.unit, s.missing, s.shared) for s in statuses] == [("各科室及单位", 0, True), ("各科室及单位", 1, True)]
    assert deductions(statuses, notices) == []  # the collective's miss is shown, not deducted from each member
    # duty = "each": every listed unit owes its own item, and is deducted for it.
    each = replace(notices, duty="each")
    assert len(deductions(cycle_accounting(each, [], kept, weeks, AFTER), each)) == 5
    # Reminders for a shared duty go to every member.
    reminded = due_soon(notices, [], {}, date(2026, 10, 16), WorkCalendar())
    assert sorted(s.unit for s in reminded) == ["危化科", "宣教科", "法规科"]


def test_reading_3_nothing_is_owed_before_the_unit_or_column_was_registered() -> None:
    monthly = Column("事故信息", "website", "monthly", 1, ("宣教科", "法规科"), 0.3, 0.3, False, duty="each")
    months = [month_of(date(2026, 9, 1)), OCT]
    owed_from = {"宣教科": date(2026, 9, 1), "法规科": date(2026, 10, 1)}
    statuses = cycle_accounting(monthly, [], {}, months, AFTER, owed_from)
    assert sorted((s.unit, s.cycle.label) for s in statuses) == [
        ("宣教科", "2026-09"),
        ("宣教科", "2026-10"),
        ("法规科", "2026-10"),  # registered on October 1st: September is not owed
    ]
    later = replace(monthly, since=date(2026, 10, 1))  # a column set up in October
    assert {s.cycle.label for s in cycle_accounting(later, [], {}, months, AFTER)} == {"2026-10"}
    # A cycle that had started before the unit was registered is not owed either.
    week = week_of(date(2026, 10, 14))
    weekly = replace(monthly, cycle="weekly")
    assert (
        cycle_accounting(weekly, [], {}, [week], AFTER, {"宣教科": week.start, "法规科": date(2026, 10, 14)})[0].unit
        == "宣教科"
    )
