"""The explanation of a unit's total and the bulletin's wording around deductions, from plain values."""

from __future__ import annotations

import dataclasses
import io
from datetime import date

from openpyxl import load_workbook

from mailbot.adapters.render import Renderer
from mailbot.adapters.workbook import build_xlsx
from mailbot.domain.calendar import parse_period
from mailbot.domain.explain import NO_DRAFTER, explain, signed
from mailbot.domain.report import DeductionLine
from mailbot.domain.scoring import Adoption, Deduction, PointTable, ScoredItem, ledger
from tests.unit.test_report_render import UNITS, make_report

OCT = parse_period("2026-10")


def test_the_lines_add_up_to_the_total() -> None:
    items = [
        ScoredItem(1, 1, "routine", date(2026, 10, 9), (("张三", 1), ("李四", 2))),
        ScoredItem(2, 1, "routine", date(2026, 9, 30), (("张三", 1),)),
        ScoredItem(3, 1, "routine", date(2026, 10, 12), ()),
    ]
    entries = ledger(
        items,
        [Adoption(2, "province", date(2026, 10, 20))],
        [],
        [Deduction(1, 10.0, date(2026, 10, 31), "栏目缺报", rule="三(二)2", duty="栏目《动态要闻》")],
        PointTable(),
    )
    result = explain(entries, OCT, 1, {1: "2026-0001", 2: "2026-0002", 3: "2026-0003"})
    assert [(line.number, line.person, line.points) for line in result.lines] == [
        ("2026-0001", "张三", 0.15),
        ("2026-0003", NO_DRAFTER, 0.3),
        ("2026-0002", "张三", 3.0),
        ("—", NO_DRAFTER, -10.0),
    ]
    assert result.total == -6.55 and result.adds_up
    assert result.lines[-1].note == "扣分：栏目缺报（三(二)2）"
    assert result.people == (("张三", 3.15), (NO_DRAFTER, -9.7))
    assert (signed(0.3), signed(-10.0), signed(0.0)) == ("+0.3", "-10", "0")


def test_a_unit_below_zero_is_not_said_to_have_earned_nothing() -> None:
    """Points earned before deductions: no praise, but never "no unit earned points"."""
    units = tuple(dataclasses.replace(u, points=-1.0, deductions=-5.0) for u in UNITS)
    report = dataclasses.replace(make_report("yearly", "2026", units), top_units=())
    text, html = Renderer().pair("digest/bulletin", {"report": report, "chart_cid": "chart"})
    assert "扣除扣分后均未超过 0 分" in text and "扣除扣分后均未超过 0 分" in html
    assert "均未获得信息积分" not in text
    nothing = tuple(dataclasses.replace(u, points=0.0, deductions=0.0) for u in UNITS)
    report = dataclasses.replace(make_report("yearly", "2026", nothing), top_units=())
    text, _html = Renderer().pair("digest/bulletin", {"report": report, "chart_cid": "chart"})
    assert "本年度各科室、单位均未获得信息积分" in text


def test_bulletin_carries_its_number_date_and_deductions_per_unit() -> None:
    unit = UNITS[0].unit
    lines = tuple(
        DeductionLine(unit, "三(二)2", "栏目《动态要闻》（每天）", f"11月{d}日", -0.3, "少报 1 条", "系统按规则计算")
        for d in (2, 3)
    )
    report = dataclasses.replace(
        make_report("monthly", "2026-11"),
        deduction_lines=lines,
        issued="2026年12月2日",
        document_number="盘应急办〔2026〕12号",
    )
    text, html = Renderer().pair("digest/bulletin", {"report": report, "chart_cid": "chart"})
    for body in (text, html):
        assert "盘应急办〔2026〕12号" in body and "2026年12月2日" in body
        assert f"{unit}：扣分 2 项，合计" in body and "-0.60" in body and "扣分明细" in body
        assert "处室" not in body
    sheet = load_workbook(io.BytesIO(build_xlsx(report)))["扣分明细"]
    assert [c.value for c in sheet[3]][1:6] == [unit, "三(二)2", "栏目《动态要闻》（每天）", "11月2日", -0.3]
