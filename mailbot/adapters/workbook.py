"""The Excel attachment of a digest or bulletin: one sheet per table, ready to print on A4 as is.

The office prints and files these tables, and re-sorts them in Excel: so numbers stay numbers
(points formatted to 2 decimals, not turned into text), every sheet repeats its title and header
rows on each printed page, and columns are sized for Chinese text (a CJK character is about two
Latin characters wide).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Font

from mailbot.adapters.sheet_rows import splice
from mailbot.adapters.sheet_style import (
    ALERT_COLOUR,
    ALERT_FILL,
    BULK_ROWS,
    FONT,
    HEADER_ROW,
    POINTS_FORMAT,
    BulkWorkbook,
    Column,
    Value,
    add_sheet,
    total_row,
)
from mailbot.domain.report import Report

__all__ = ["POINTS_FORMAT", "build_xlsx", "table_xlsx"]


def build_xlsx(report: Report, bulk_rows: int = BULK_ROWS) -> bytes:
    """The workbook attached to the email: 单位汇总, 栏目更新 (when columns are configured), 个人得分, 信息明细
    (月度明细 in a quarterly or yearly bulletin, unless it lists every item), 扣分明细 (bulletins), 退回记录.
    The detail sheets list the ledger lines behind the totals. A sheet of `bulk_rows` rows or more has its
    body written directly, the same cells at a hundredth of the cost."""
    wb = BulkWorkbook(bulk_rows)
    for default in wb.worksheets:  # the empty sheet a new workbook starts with
        wb.remove(default)
    _unit_sheet(wb, report)
    if report.columns:
        _columns_sheet(wb, report)
    _people_sheet(wb, report)
    if report.kind == "weekly":
        _items_sheet(wb, report)
    else:
        _months_sheet(wb, report) if report.month_lines else _details_sheet(wb, report)
        _deductions_sheet(wb, report)
    _rejections_sheet(wb, report)
    out = BytesIO()
    wb.save(out)
    bodies = {wb.sheetnames.index(name) + 1: body for name, body in wb.bodies.items()}
    return splice(out.getvalue(), bodies) if bodies else out.getvalue()


def table_xlsx(sheet: str, title: str, headers: Sequence[str], rows: Sequence[Sequence[Value]]) -> bytes:
    """One printable sheet, styled like the bulletins' (the registry export, 附件4 with 邮箱)."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])
    add_sheet(wb, sheet, title, [Column(h) for h in headers], rows)
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


def _unit_sheet(wb: Workbook, report: Report) -> None:
    columns = [
        Column("排名"),
        Column("单位（科室）"),
        Column("类别"),
        Column("收到（封）", summed=True),
        Column("收录（条）", summed=True),
        Column("退回（封）", summed=True),
        Column("市级采用", summed=True),
        Column("省级采用", summed=True),
        Column("国家级采用", summed=True),
        Column("得分", points=True, summed=True),
        Column("栏目得分", points=True, summed=True),
        Column("扣分", points=True, summed=True),
        Column("应报（条）", summed=True),
        Column("完成任务"),
    ]
    weeks = report.kind != "weekly"
    if weeks:
        columns.append(Column("缺报周次（三(一)1）", wrap=True))
    if report.shows_ytd:
        columns += [Column("本年累计收录", summed=True), Column("本年累计得分", points=True, summed=True)]
    rows: list[list[Value]] = []
    for u in report.units:
        row: list[Value] = [
            u.rank,
            u.unit,
            u.kind,
            u.received,
            u.accepted,
            u.rejected,
            u.adopted_city,
            u.adopted_province,
            u.adopted_national,
            u.points,
            u.column_points,
            u.deductions,
            u.quota_due,
            "✓" if u.quota_met else "✗",
        ]
        if weeks:
            row.append(u.missed_weeks_text or "—")
        if report.shows_ytd:
            row += [u.ytd_accepted, u.ytd_points]
        rows.append(row)
    ws = add_sheet(wb, "单位汇总", report.title, columns, rows)
    if rows:
        total_row(ws, columns, rows)


def _columns_sheet(wb: Workbook, report: Report) -> None:
    """Column health: who owes which column; overdue rows tinted and their status in red, as in the email."""
    columns = [
        Column("序号"),
        Column("栏目"),
        Column("渠道"),
        Column("更新周期"),
        Column("责任单位", wrap=True),
        Column("最近更新"),
        Column("本期（条）"),
        Column("缺报（条）"),
        Column("状态"),
        Column("逾期单位", wrap=True),
    ]
    rows: list[list[Value]] = [
        [
            index,
            c.name,
            c.channel,
            c.cycle,
            c.units,
            c.last_update,
            c.received,
            c.missing,
            c.status,
            "、".join(c.overdue),
        ]
        for index, c in enumerate(report.columns, 1)
    ]
    ws = add_sheet(wb, "栏目更新", report.title, columns, rows, bulk=False)  # overdue rows are restyled below
    status = [c.header for c in columns].index("状态")
    for row, line in zip(ws.iter_rows(min_row=HEADER_ROW + 1), report.columns, strict=True):
        if line.status != "逾期":
            continue
        for cell in row:
            cell.fill = ALERT_FILL
        row[status].font = Font(name=FONT, bold=True, color=ALERT_COLOUR)


def _people_sheet(wb: Workbook, report: Report) -> None:
    columns = [
        Column("序号"),
        Column("姓名"),
        Column("单位（科室）"),
        Column("篇数"),
        Column("另退回（篇）"),
        Column("得分", points=True),
    ]
    if report.shows_ytd:
        columns.append(Column("本年累计得分", points=True))
    rows: list[list[Value]] = []
    for index, p in enumerate(report.people, 1):
        row: list[Value] = [index, p.name, p.unit, p.items, p.returned, p.points]
        if report.shows_ytd:
            row.append(p.ytd_points)
        rows.append(row)
    add_sheet(wb, "个人得分", report.title, columns, rows)


def _items_sheet(wb: Workbook, report: Report) -> None:
    columns = [
        Column("信息编号"),
        Column("标题", wrap=True),
        Column("报送单位"),
        Column("撰稿人", wrap=True),
        Column("收到时间"),
        Column("得分", points=True),
        Column("状态"),
    ]
    rows: list[list[Value]] = [
        [i.number, i.title, i.unit, i.drafters, i.received_at, i.points, i.status] for i in report.items
    ]
    add_sheet(wb, "信息明细", report.title, columns, rows)


def _details_sheet(wb: Workbook, report: Report) -> None:
    """Every item of the period and what it earned in it; with 扣分明细 the lines add up to the unit totals."""
    columns = [
        Column("序号"),
        Column("信息编号"),
        Column("收到日期"),
        Column("报送单位"),
        Column("撰稿人及得分", wrap=True),
        Column("类别"),
        Column("栏目"),
        Column("约稿", wrap=True),
        Column("采用", wrap=True),
        Column("本期得分", points=True, summed=True),
        Column("状态"),
    ]
    rows: list[list[Value]] = [
        [
            index,
            d.number,
            d.day,
            d.unit,
            d.drafters or "—",
            d.kind,
            d.column or "—",
            d.solicitation or "—",
            d.adoptions or "—",
            d.points,
            d.status,
        ]
        for index, d in enumerate(report.details, 1)
    ]
    ws = add_sheet(wb, "信息明细", report.title, columns, rows)
    if rows:
        total_row(ws, columns, rows)


def _months_sheet(wb: Workbook, report: Report) -> None:
    """A quarter's or year's points by unit and month; each month's items are in that month's bulletin."""
    columns = [Column("单位（科室）"), Column("月份"), Column("收录（条）", summed=True)] + [
        Column(h, points=True, summed=True) for h in ("报送得分", "采用得分", "扣分", "合计")
    ]
    rows: list[list[Value]] = [
        [m.unit, m.month, m.accepted, m.submitted, m.adopted, m.deducted, m.points] for m in report.month_lines
    ]
    ws = add_sheet(wb, "月度明细", report.title, columns, rows)
    if rows:
        total_row(ws, columns, rows)


def _deductions_sheet(wb: Workbook, report: Report) -> None:
    """Every deduction of the period: the rule, the column or piece owed, its cycle, and who recorded it."""
    columns = [
        Column("序号"),
        Column("单位（科室）"),
        Column("依据"),
        Column("栏目或任务", wrap=True),
        Column("所属周期"),
        Column("扣分", points=True, summed=True),
        Column("原因", wrap=True),
        Column("记录人"),
    ]
    rows: list[list[Value]] = [
        [index, d.unit, d.rule, d.duty, d.cycle, d.points, d.reason + (f"（{d.person}）" if d.person else ""), d.by]
        for index, d in enumerate(report.deduction_lines, 1)
    ]
    ws = add_sheet(wb, "扣分明细", report.title, columns, rows)
    if rows:
        total_row(ws, columns, rows)


def _rejections_sheet(wb: Workbook, report: Report) -> None:
    columns = [
        Column("序号"),
        Column("单位（科室）"),
        Column("发件人"),
        Column("主题", wrap=True),
        Column("收到时间"),
        Column("退回原因", wrap=True),
    ]
    rows: list[list[Value]] = [
        [index, x.unit, x.sender, x.subject, x.received_at, _reasons(x.reasons)]
        for index, x in enumerate(report.rejections, 1)
    ]
    add_sheet(wb, "退回记录", report.title, columns, rows)


def _reasons(reasons: Sequence[str]) -> str:
    if len(reasons) == 1:
        return reasons[0]
    return "\n".join(f"{n}. {reason}" for n, reason in enumerate(reasons, 1))
