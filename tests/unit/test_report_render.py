"""Digests and bulletins from a hand-built report: the four templates, the xlsx and the chart agree on it."""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date
from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image

from mailbot.adapters import chart
from mailbot.adapters.chart import WIDTH, bar_chart
from mailbot.adapters.render import Renderer
from mailbot.adapters.workbook import POINTS_FORMAT, build_xlsx
from mailbot.domain.formats import fmt_points
from mailbot.domain.report import (
    ColumnLine,
    HeldLine,
    ItemLine,
    PersonLine,
    RejectionLine,
    Report,
    Totals,
    UnitLine,
    competition_ranks,
    range_text,
    title_for,
    top_units,
)

OFFICE = "市应急管理局办公室"
REASON = "正文不足 300 字（现 212 字），请补充后重新报送"


def _unit(
    name: str,
    kind: str,
    points: float,
    rank: int,
    *,
    accepted: int,
    rejected: int = 0,
    adopted: tuple[int, int, int] = (0, 0, 0),
    due: int = 4,
) -> UnitLine:
    return UnitLine(
        unit=name,
        kind=kind,
        received=accepted + rejected,
        accepted=accepted,
        rejected=rejected,
        adopted_city=adopted[0],
        adopted_province=adopted[1],
        adopted_national=adopted[2],
        points=points,
        rank=rank,
        quota_due=due,
        quota_met=accepted >= due,
        ytd_points=points * 10 + 0.5,
        ytd_accepted=accepted * 10 + 1,
    )


UNITS = (
    _unit("应急指挥中心", "科室", 12.5, 1, accepted=6, adopted=(2, 1, 1)),
    _unit("溧阳市应急管理局", "县区", 9.3, 2, accepted=5, rejected=1, adopted=(1, 1, 0)),
    _unit("金坛区应急管理局", "县区", 6.0, 3, accepted=4, adopted=(1, 0, 0)),
    _unit("安全生产基础处", "科室", 6.0, 3, accepted=4, rejected=2),
    _unit("危险化学品安全监督管理处", "科室", 2.6, 5, accepted=2),
    _unit("政策法规处", "科室", 0.0, 6, accepted=0),
    _unit("常州国家高新区（新北区）应急管理局", "县区", 0.0, 6, accepted=0),
)
PEOPLE = (
    PersonLine("王芳", "应急指挥中心", 4, 8.25, 60.5),
    PersonLine("李强", "溧阳市应急管理局", 3, 5.15, 41.0),
    PersonLine("张三", "应急指挥中心", 2, 4.25, 30.0),
)
ITEMS = (
    ItemLine("2026-0137", "溧阳市开展防汛应急演练", "溧阳市应急管理局", "李强", "11月24日 14:05", 0.3, "已收录"),
    ItemLine("2026-0138", "指挥中心完成汛期值班<总结>", "应急指挥中心", "王芳、张三", "11月24日 16:40", 1.0, "已终审"),
    ItemLine("2026-0140", "金坛区危化品专项检查", "金坛区应急管理局", "赵六", "11月26日 09:12", 0.3, "已收录"),
)
REJECTIONS = (
    RejectionLine(
        "安全生产基础处",
        "jichu@example.gov.cn",
        "基础处信息一则",
        "11月25日 10:02",
        (REASON, "缺少撰稿人、初审人、复审人署名"),
    ),
)
HELD = (HeldLine("stranger@qq.com", "投稿", "11月27日 08:30", "发件人未登记为信息宣传员"),)
TOTALS = Totals(received=26, accepted=21, rejected=3, adopted=7, published=9, daily_average=3.0)


COLUMNS = (
    ColumnLine(
        "动态要闻",
        "网站",
        "每周",
        "应急指挥中心、安全生产基础处、危险化学品安全监督管理处",
        "11月20日",
        received=1,
        missing=2,
        overdue=("安全生产基础处", "危险化学品安全监督管理处"),
        status="逾期",
    ),
    ColumnLine(
        "政策文件及解读", "网站", "每月", "政策法规处", "11月26日", received=2, missing=0, overdue=(), status="正常"
    ),
    ColumnLine(
        "应急科普",
        "微信公众号",
        "每两周",
        "金坛区应急管理局",
        "11月24日",
        received=1,
        missing=0,
        overdue=(),
        status="正常",
    ),
    ColumnLine(
        "通知公告", "网站", "即时更新", "应急指挥中心", "—", received=0, missing=0, overdue=(), status="即时更新"
    ),
    ColumnLine(
        "县区动态",
        "微信公众号",
        "每月",
        "溧阳市应急管理局、金坛区应急管理局",
        "10月30日",
        received=0,
        missing=1,
        overdue=("金坛区应急管理局",),
        status="逾期",
    ),
)
# column points and deductions (negative) per unit, both already counted in `points`
COLUMN_SCORES = {
    "应急指挥中心": (0.6, 0.0),
    "安全生产基础处": (0.3, -0.3),
    "危险化学品安全监督管理处": (0.0, -0.6),
    "金坛区应急管理局": (0.5, -0.3),
}


def make_report(
    kind: str = "weekly",
    label: str = "2026-W48",
    units: tuple[UnitLine, ...] = UNITS,
    columns: tuple[ColumnLine, ...] = (),
) -> Report:
    return Report(
        kind=kind,
        period_label=label,
        title=title_for(kind, label),
        range_text=range_text(date(2026, 11, 23), date(2026, 11, 29)),
        office_name=OFFICE,
        units=units,
        people=PEOPLE,
        items=ITEMS,
        rejections=REJECTIONS,
        held=HELD,
        silent_units=("政策法规处", "常州国家高新区（新北区）应急管理局"),
        missed_quota=tuple(u.unit for u in units if not u.quota_met),
        top_units=top_units(units),
        totals=TOTALS,
        columns=columns,
    )


def with_columns(kind: str = "weekly", label: str = "2026-W48") -> Report:
    units = tuple(
        dataclasses.replace(
            u,
            column_points=COLUMN_SCORES.get(u.unit, (0.0, 0.0))[0],
            deductions=COLUMN_SCORES.get(u.unit, (0.0, 0.0))[1],
        )
        for u in UNITS
    )
    return make_report(kind, label, units, COLUMNS)


# --- domain helpers ---------------------------------------------------------------------------------


def test_titles_follow_the_office_wording() -> None:
    assert title_for("weekly", "2026-W48") == "2026年第48周政务信息报送周报"
    assert title_for("monthly", "2026-11") == "2026年11月政务信息报送情况通报"
    assert title_for("quarterly", "2026-q4") == "2026年第四季度政务信息报送情况通报"
    assert title_for("yearly", "2026") == "2026年度政务信息报送情况通报"
    with pytest.raises(ValueError, match="month"):
        title_for("monthly", "2026-W48")
    with pytest.raises(ValueError, match="kind"):
        title_for("daily", "2026-11")


def test_range_text_repeats_the_year_only_across_new_year() -> None:
    assert range_text(date(2026, 11, 23), date(2026, 11, 29)) == "2026年11月23日至11月29日"
    assert range_text(date(2026, 12, 28), date(2027, 1, 3)) == "2026年12月28日至2027年1月3日"
    assert range_text(date(2026, 5, 1), date(2026, 5, 1)) == "2026年5月1日"
    with pytest.raises(ValueError):
        range_text(date(2026, 5, 2), date(2026, 5, 1))


def test_ranks_share_ties_and_praise_includes_a_tie_on_third_place() -> None:
    assert competition_ranks([12.5, 9.3, 6.0, 0.1 + 0.2 + 5.7, 2.6, 0.0]) == (1, 2, 3, 3, 5, 6)
    assert top_units(UNITS) == ("应急指挥中心", "溧阳市应急管理局", "金坛区应急管理局", "安全生产基础处")
    nobody_scored = tuple(dataclasses.replace(u, points=0.0) for u in UNITS)
    assert top_units(nobody_scored) == ()
    assert fmt_points(9.3, fixed=True) == "9.30"
    assert fmt_points(0.15) == "0.15" and fmt_points(1.0) == "1" and fmt_points(0.3) == "0.3"


def test_items_group_in_unit_rank_order() -> None:
    groups = make_report().items_by_unit()
    assert [unit for unit, _ in groups] == ["应急指挥中心", "溧阳市应急管理局", "金坛区应急管理局"]
    assert [i.number for i in groups[0][1]] == ["2026-0138"]


def test_unknown_report_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="daily"):
        dataclasses.replace(make_report(), kind="daily")


# --- templates --------------------------------------------------------------------------------------


def _text_row(text: str, unit: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.rstrip().endswith(unit))
    return line.split()


def test_weekly_digest_lists_the_week() -> None:
    text, html = Renderer().pair("digest/weekly", {"report": make_report(), "chart_cid": "chart@mailbot"})
    for body in (text, html):
        assert "2026年第48周政务信息报送周报" in body
        assert "2026年11月23日至11月29日" in body
        assert REASON in body and "缺少撰稿人、初审人、复审人署名" in body
        assert "发件人未登记为信息宣传员" in body and "stranger@qq.com" in body
        assert "2026-0137" in body and "溧阳市开展防汛应急演练" in body
        assert "王芳" in body and "8.25" in body
        assert "政策法规处" in body and "危险化学品安全监督管理处" in body
    assert "请审核后印发" not in text and "予以表扬" not in text  # the digest is not the bulletin's draft
    assert re.search(r"报送信息邮件 26 封，收录信息 21 条，退回 3 封", text)
    # rank, received, accepted, rejected, adoptions, points, ✓, ytd accepted, ytd points, unit
    assert _text_row(text, "溧阳市应急管理局") == [
        "2",
        "6",
        "5",
        "1",
        "1/1/0",
        "9.30",
        "✓",
        "51",
        "93.50",
        "溧阳市应急管理局",
    ]
    assert _text_row(text, "危险化学品安全监督管理处")[6] == "✗"
    assert "积分居前：应急指挥中心、溧阳市应急管理局、金坛区应急管理局、安全生产基础处" in text
    assert "未完成本周报送任务：危险化学品安全监督管理处、政策法规处、常州国家高新区（新北区）应急管理局" in text
    assert '<img src="cid:chart@mailbot"' in html
    assert "&lt;总结&gt;" in html and "<总结>" not in html  # sender-written titles are escaped
    assert f"本邮件由{OFFICE}信息报送系统自动发送" in html


def test_weekly_items_are_grouped_under_their_unit_in_text() -> None:
    text, _ = Renderer().pair("digest/weekly", {"report": make_report(), "chart_cid": ""})
    items = text.split("五、本周收录信息")[1].split("六、")[0]
    assert items.index("应急指挥中心（1 条）") < items.index("2026-0138") < items.index("溧阳市应急管理局（1 条）")


@pytest.mark.parametrize(
    ("kind", "label", "word"), [("monthly", "2026-11", "本月"), ("quarterly", "2026-Q4", "本季度")]
)
def test_bulletin_praises_and_names_the_units_that_missed_quota(kind: str, label: str, word: str) -> None:
    report = make_report(kind, label)
    text, html = Renderer().pair("digest/bulletin", {"report": report, "chart_cid": "c1"})
    for body in (text, html):
        assert report.title in body
        assert f"{word}（2026年11月23日至11月29日）" in body
        assert "应急指挥中心、溧阳市应急管理局、金坛区应急管理局、安全生产基础处" in body
        assert f"{word}信息积分位居前列，予以表扬" in body
        assert "危险化学品安全监督管理处、政策法规处、常州国家高新区（新北区）应急管理局" in body
        assert f"未完成{word}信息报送任务，予以通报" in body
        assert "本年累计" in body
        assert "年度报告数据" not in body
    assert _text_row(text, "安全生产基础处")[:6] == ["3", "6", "4", "2", "0/0/0", "6.00"]
    assert _text_row(text, "金坛区应急管理局")[0] == "3"  # the tie shares third place
    assert "市级 4 条、省级 2 条、国家级 1 条" in text
    assert '<td align="right"><strong>9.30</strong></td>' in html
    assert '<td align="center" style="color:#c62828;font-weight:bold;">✗</td>' in html
    assert "退回原因" not in html and REASON not in text  # the week's lists stay in the digest


def test_yearly_bulletin_adds_the_annual_report_figures() -> None:
    text, html = Renderer().pair("digest/bulletin", {"report": make_report("yearly", "2026"), "chart_cid": ""})
    assert "2026年度政务信息报送情况通报" in text
    assert "信息收录总数：21 条" in text and "终审发布数：9 条" in text and "日均报送量：3.00 条" in text
    assert re.search(r"信息收录总数</th><td[^>]*>21 条", html)
    assert re.search(r"终审发布数</th><td[^>]*>9 条", html)
    assert "本年累计" not in text and "本年累计" not in html  # would only repeat the year's own figures
    assert "cid:" not in html


def test_an_empty_period_still_renders() -> None:
    empty = dataclasses.replace(
        make_report(),
        units=(),
        people=(),
        items=(),
        rejections=(),
        held=(),
        silent_units=(),
        missed_quota=(),
        top_units=(),
        totals=Totals(0, 0, 0, 0, 0, 0.0),
    )
    text, html = Renderer().pair("digest/weekly", {"report": empty, "chart_cid": ""})
    assert "本周无单位获得积分" in text and "本周无退回" in text and "本周未收录信息" in html
    text, _ = Renderer().pair(
        "digest/bulletin", {"report": dataclasses.replace(empty, kind="monthly"), "chart_cid": ""}
    )
    assert "各科室、单位均完成本月信息报送任务" in text


# --- column health ----------------------------------------------------------------------------------

OVERDUE = "以下栏目未按周期更新：动态要闻（安全生产基础处、危险化学品安全监督管理处）、县区动态（金坛区应急管理局）"


def _sections(text: str, html: str) -> tuple[list[str], list[str]]:
    """Section headings in order: unindented "一、..." lines of the text, <h3> of the HTML."""
    return (
        [line for line in text.splitlines() if re.match(r"[一二三四五六七八九十]、", line)],
        [_plain(h) for h in re.findall(r"<h3[^>]*>.*?</h3>", html)],
    )


def _plain(html: str) -> str:
    """HTML without its tags, for sentences that carry <strong> inside."""
    return re.sub(r"<[^>]+>", "", html)


def _html_row(html: str, first: str) -> list[str]:
    """The <td> cells of the unit table row whose name cell (or 合计) reads `first`."""
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S):
        cells = re.findall(r"<td[^>]*>.*?</td>", row, re.S)
        if any(_plain(cell) == first for cell in cells[:2]):
            return cells
    raise AssertionError(f"no row for {first}")


def _numbered_in_order(headings: list[str]) -> bool:
    return [h[0] for h in headings] == list("一二三四五六七八九十"[: len(headings)])


def test_weekly_digest_shows_column_health_and_who_owes() -> None:
    text, html = Renderer().pair("digest/weekly", {"report": with_columns(), "chart_cid": ""})
    for headings in _sections(text, html):
        assert [h[:6] for h in headings[2:6]] == ["三、积分居前", "四、栏目更新", "五、个人积分", "六、本周收录"]
        assert headings[-1].startswith("八、暂存") and _numbered_in_order(headings)
    for body in (text, _plain(html)):
        assert OVERDUE in body
        assert "请督促相关科室、单位及时报送" in body and "予以通报" not in body
        assert "即时更新" in body and "微信公众号" in body and "11月20日" in body
    section = text.split("四、栏目更新情况")[1].split("五、")[0]
    # index, received, missing, status, cycle, channel, last update, column（units）
    overdue = next(line for line in section.splitlines() if "动态要闻（" in line).split()
    assert overdue[:4] == ["1", "1", "2", "【逾期】"]
    assert overdue[-1] == "动态要闻（应急指挥中心、安全生产基础处、危险化学品安全监督管理处）"
    on_change = next(line for line in section.splitlines() if "通知公告（" in line)
    assert "即时更新" in on_change and "【逾期】" not in on_change
    assert section.count("【逾期】") == 2
    # HTML: overdue rows tinted like the missed-quota rows, the others not
    rows = re.findall(
        r"<tr([^>]*)>\s*<td>([^<]+)</td>\s*<td style=\"white-space:nowrap;\">(?:网站|微信公众号)</td>", html
    )
    assert dict((name, attrs) for attrs, name in rows) == {
        "动态要闻": ' bgcolor="#fdf0ef"',
        "政策文件及解读": "",
        "应急科普": "",
        "通知公告": "",
        "县区动态": ' bgcolor="#fdf0ef"',
    }
    for header in ("栏目", "渠道", "更新周期", "责任单位", "最近更新", "本期<br>（条）", "缺报<br>（条）", "状态"):
        assert f'bgcolor="#f3f6f9">{header}</th>' in html
    assert "✗ 逾期</td>" in html
    # the weekly unit table stays as narrow as before: no column points or deductions
    assert "栏目得分" not in text and "栏目<br>得分" not in html
    assert _text_row(text, "安全生产基础处")[5:7] == ["6.00", "✓"]


@pytest.mark.parametrize(("kind", "label"), [("monthly", "2026-11"), ("quarterly", "2026-Q4"), ("yearly", "2026")])
def test_bulletins_show_column_health_points_and_deductions(kind: str, label: str) -> None:
    text, html = Renderer().pair("digest/bulletin", {"report": with_columns(kind, label), "chart_cid": ""})
    for headings in _sections(text, html):
        assert headings[2].startswith("三、表扬与通报") and headings[3].startswith("四、栏目更新情况")
        assert headings[4].startswith("五、个人积分情况") and _numbered_in_order(headings)
        assert headings[-1].startswith("六、年度报告数据") == (kind == "yearly")
    for body in (text, _plain(html)):
        assert OVERDUE in body and "请相关科室、单位按更新周期及时报送" in body
        assert "栏目得分" in body or "栏目<br>得分" in body
    # rank, received, accepted, rejected, adoptions, points, column points, deductions, ✓
    assert _text_row(text, "安全生产基础处")[:9] == ["3", "6", "4", "2", "0/0/0", "6.00", "0.30", "-0.30", "✓"]
    assert _text_row(text, "危险化学品安全监督管理处")[5:9] == ["2.60", "0.00", "-0.60", "✗"]
    assert _text_row(text, "应急指挥中心")[6:8] == ["0.60", "—"]  # no deduction: a dash, not -0.00
    assert "栏目得分、扣分：已计入得分" in text
    # HTML: the same figures, the deduction in red, and the 合计 row adding both up
    jichu, zhihui = _html_row(html, "安全生产基础处"), _html_row(html, "应急指挥中心")
    assert [_plain(cell) for cell in jichu[8:11]] == ["6.00", "0.30", "-0.30"]
    assert jichu[10] == '<td align="right" style="color:#c62828;">-0.30</td>'
    assert [_plain(cell) for cell in zhihui[8:11]] == ["12.50", "0.60", "—"]
    assert [_plain(cell) for cell in _html_row(html, "合计")[7:10]] == ["36.40", "1.40", "-1.20"]


def test_column_section_without_an_overdue_column_says_so() -> None:
    on_time = tuple(
        dataclasses.replace(c, missing=0, overdue=(), status="正常") if c.status == "逾期" else c for c in COLUMNS
    )
    text, html = Renderer().pair(
        "digest/bulletin", {"report": make_report("monthly", "2026-11", columns=on_time), "chart_cid": ""}
    )
    for body in (text, html):
        assert "四、栏目更新情况" in body and "各栏目均按更新周期更新" in body and "以下栏目" not in body
    assert "【逾期】" not in text and "✗ 逾期" not in html


def test_no_columns_means_no_column_section() -> None:
    for name, report in (("digest/weekly", make_report()), ("digest/bulletin", make_report("monthly", "2026-11"))):
        text, html = Renderer().pair(name, {"report": report, "chart_cid": ""})
        for body, headings in zip((text, html), _sections(text, html), strict=True):
            assert "栏目更新情况" not in body and "未按周期更新" not in body and "各栏目均按" not in body
            assert headings[3].startswith("四、个人积分情况") and _numbered_in_order(headings)
    assert "栏目更新" not in load_workbook(BytesIO(build_xlsx(make_report()))).sheetnames


# --- workbook ---------------------------------------------------------------------------------------


def test_xlsx_has_one_printable_sheet_per_view() -> None:
    wb = load_workbook(BytesIO(build_xlsx(make_report("monthly", "2026-11"))))
    assert wb.sheetnames == ["单位汇总", "个人得分", "信息明细", "扣分明细", "退回记录"]
    for ws in wb.worksheets:
        assert ws["A1"].value == "2026年11月政务信息报送情况通报"
        assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("DDEBF7")
        assert ws["A2"].border.bottom.style == "thin"
        assert ws.freeze_panes == "A3"
        assert ws.print_title_rows == "$1:$2"
        assert ws.page_setup.orientation == "landscape"
        assert ws.page_setup.paperSize == 9  # A4
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0


def test_xlsx_unit_sheet_keeps_numbers_as_numbers() -> None:
    ws = load_workbook(BytesIO(build_xlsx(make_report("monthly", "2026-11"))))["单位汇总"]
    header = [c.value for c in ws[2]]
    assert header[:3] == ["排名", "单位（科室）", "类别"] and "得分" in header and header[-1] == "本年累计得分"
    points = header.index("得分") + 1
    liyang = next(row for row in ws.iter_rows(min_row=3) if row[1].value == "溧阳市应急管理局")
    assert liyang[0].value == 2 and liyang[3].value == 6
    assert liyang[points - 1].value == pytest.approx(9.3) and liyang[points - 1].number_format == POINTS_FORMAT
    assert liyang[header.index("完成任务")].value == "✓"
    total = ws[ws.max_row]
    assert total[1].value == "合计" and total[3].value == 24
    assert total[points - 1].value == pytest.approx(36.4)
    # CJK text is twice as wide as Latin: the long unit name gets a wide column
    assert ws.column_dimensions["B"].width >= 2 * len("常州国家高新区（新北区）应急管理局")


def test_xlsx_detail_sheets() -> None:
    wb = load_workbook(BytesIO(build_xlsx(make_report())))
    people = wb["个人得分"]
    assert [c.value for c in people[2]] == [
        "序号",
        "姓名",
        "单位（科室）",
        "篇数",
        "另退回（篇）",
        "得分",
        "本年累计得分",
    ]
    assert people["B3"].value == "王芳" and people["F3"].value == pytest.approx(8.25)
    items = wb["信息明细"]
    assert items["A3"].value == "2026-0137" and items["F3"].number_format == POINTS_FORMAT
    assert items.max_row == 2 + len(ITEMS)
    rejections = wb["退回记录"]
    assert rejections["F3"].value == f"1. {REASON}\n2. 缺少撰稿人、初审人、复审人署名"
    assert rejections["F3"].alignment.wrap_text


def test_xlsx_never_turns_a_senders_subject_into_a_formula() -> None:
    subject = '=HYPERLINK("http://evil.example/","点击查看")'
    report = make_report()
    report = dataclasses.replace(report, rejections=(dataclasses.replace(REJECTIONS[0], subject=subject),))
    cell = load_workbook(BytesIO(build_xlsx(report)))["退回记录"]["D3"]
    assert cell.value == subject and cell.data_type == "s"


def test_xlsx_column_sheet_and_unit_column_points() -> None:
    wb = load_workbook(BytesIO(build_xlsx(with_columns("monthly", "2026-11"))))
    assert wb.sheetnames == ["单位汇总", "栏目更新", "个人得分", "信息明细", "扣分明细", "退回记录"]
    ws = wb["栏目更新"]
    assert ws["A1"].value == "2026年11月政务信息报送情况通报"
    assert [c.value for c in ws[2]] == [
        "序号",
        "栏目",
        "渠道",
        "更新周期",
        "责任单位",
        "最近更新",
        "本期（条）",
        "缺报（条）",
        "状态",
        "逾期单位",
    ]
    assert ws["A2"].font.b and ws["A2"].fill.fgColor.rgb.endswith("DDEBF7") and ws["J2"].border.bottom.style == "thin"
    assert ws.freeze_panes == "A3" and ws.print_title_rows == "$1:$2"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.max_row == 2 + len(COLUMNS)
    overdue = [c.value for c in ws[3]]
    assert overdue == [
        1,
        "动态要闻",
        "网站",
        "每周",
        "应急指挥中心、安全生产基础处、危险化学品安全监督管理处",
        "11月20日",
        1,
        2,
        "逾期",
        "安全生产基础处、危险化学品安全监督管理处",
    ]
    assert all(c.fill.fgColor.rgb.endswith("FDF0EF") for c in ws[3])
    assert ws["I3"].font.b and ws["I3"].font.color.rgb.endswith("C62828")
    assert [c.value for c in ws[6]][1:4] == ["通知公告", "网站", "即时更新"] and ws["I6"].value == "即时更新"
    assert not ws["B6"].fill.fgColor.rgb.endswith("FDF0EF") and not ws["I6"].font.b
    assert ws["E3"].alignment.wrap_text

    units = wb["单位汇总"]
    header = [c.value for c in units[2]]
    earned, deducted = header.index("栏目得分"), header.index("扣分")
    assert header[header.index("得分") + 1 : deducted + 1] == ["栏目得分", "扣分"]
    jichu = next(row for row in units.iter_rows(min_row=3) if row[1].value == "安全生产基础处")
    assert jichu[earned].value == pytest.approx(0.3) and jichu[deducted].value == pytest.approx(-0.3)
    assert jichu[earned].number_format == POINTS_FORMAT and jichu[deducted].number_format == POINTS_FORMAT
    total = units[units.max_row]
    assert total[1].value == "合计"
    assert total[earned].value == pytest.approx(1.4) and total[deducted].value == pytest.approx(-1.2)
    assert total[deducted].number_format == POINTS_FORMAT


def test_yearly_xlsx_leaves_out_the_year_to_date_columns() -> None:
    ws = load_workbook(BytesIO(build_xlsx(make_report("yearly", "2026"))))["单位汇总"]
    assert "本年累计得分" not in [c.value for c in ws[2]]


# --- chart ------------------------------------------------------------------------------------------


def _open(png: bytes) -> Image.Image:
    image = Image.open(BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def _has_colour(image: Image.Image, colour: tuple[int, int, int]) -> bool:
    return any(c == colour for _, c in image.getcolors(maxcolors=1 << 20) or [])


def test_chart_is_a_png_growing_with_the_units() -> None:
    image = _open(bar_chart(make_report()))
    assert image.width == WIDTH
    assert _has_colour(image, chart._BAR_COLOUR) and _has_colour(image, chart._PRAISED_COLOUR)
    fewer = _open(bar_chart(make_report(units=UNITS[:3])))
    assert fewer.width == WIDTH and fewer.height < image.height
    assert bar_chart(make_report()) == bar_chart(make_report())  # deterministic bytes


def test_chart_bars_follow_the_points() -> None:
    image = _open(bar_chart(make_report()))
    rows = [chart._HEADER + i * chart._ROW + chart._ROW // 2 for i in range(len(UNITS))]
    lengths = [
        sum(1 for x in range(image.width) if image.getpixel((x, y)) in (chart._BAR_COLOUR, chart._PRAISED_COLOUR))
        for y in rows
    ]
    assert lengths[0] > lengths[1] > lengths[2] == lengths[3] > lengths[4] > 0
    assert lengths[5] == lengths[6] == 0  # no bar for 0 points


@pytest.fixture
def cjk_font() -> Path:
    """scripts/setup-system installs fonts-wqy-microhei; without it the office would get numbered bars."""
    path = chart.find_cjk_font()
    if path is None:
        message = "no CJK font installed (apt-get install fonts-wqy-microhei)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, but CI is set", pytrace=False)
        pytest.skip(message)
    return path


def test_chart_without_a_cjk_font_numbers_the_bars(monkeypatch: pytest.MonkeyPatch, cjk_font: Path) -> None:
    with_names = bar_chart(make_report())
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    numbered = bar_chart(make_report())
    image = _open(numbered)
    assert image.width == WIDTH and _has_colour(image, chart._BAR_COLOUR)
    assert numbered != with_names


def test_chart_survives_an_unreadable_font_and_an_empty_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "broken.ttc"
    broken.write_bytes(b"not a font")
    monkeypatch.setattr(chart, "CJK_FONT_CANDIDATES", (tmp_path / "missing.ttc", broken))
    assert chart.find_cjk_font() == broken
    assert _open(bar_chart(make_report())).width == WIDTH
    empty = _open(bar_chart(dataclasses.replace(make_report(), units=(), top_units=())))
    assert empty.width == WIDTH and empty.height > 0
