"""The Excel attachment of a digest or bulletin: one sheet per table, ready to print on A4 as is.

The office prints and files these tables, and re-sorts them in Excel: so numbers stay numbers
(points formatted to 2 decimals, not turned into text), every sheet repeats its title and header
rows on each printed page, and columns are sized for Chinese text (a CJK character is about two
Latin characters wide).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from io import BytesIO
from operator import itemgetter

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.adapters.sheet_rows import Body, column_width, display_width, splice
from mailbot.domain.report import Report
from mailbot.domain.text import printable

POINTS_FORMAT = "0.00"
BULK_ROWS = 500  # from this many body rows a sheet's body is written directly (sheet_rows)
HEADER_ROW = 2  # row 1 is the report's title
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
_ALERT_FILL = PatternFill("solid", fgColor="FDF0EF")  # the tint of overdue rows in the email's tables
_ALERT_COLOUR = "C62828"
_FONT = "宋体"  # what the office's printers and Excel templates expect; Excel substitutes if missing

Value = str | int | float


@dataclass(frozen=True)
class Column:
    header: str
    points: bool = False  # a float shown with 2 decimals
    wrap: bool = False  # long free text (titles, reasons): wrap instead of widening the column
    summed: bool = False  # added up in the 合计 row of the unit table


class _Workbook(Workbook):
    """A workbook whose long sheets' body rows are written after saving (mailbot.adapters.sheet_rows)."""

    def __init__(self, bulk_rows: int) -> None:
        super().__init__()
        self.bulk_rows = bulk_rows
        self.bodies: dict[str, Body] = {}


def build_xlsx(report: Report, bulk_rows: int = BULK_ROWS) -> bytes:
    """The workbook attached to the email: 单位汇总, 栏目更新 (when columns are configured), 个人得分, 信息明细,
    扣分明细 (bulletins), 退回记录. The detail sheets list the ledger lines behind the totals. A sheet of
    `bulk_rows` rows or more has its body written directly, the same cells at a hundredth of the cost."""
    wb = _Workbook(bulk_rows)
    for default in wb.worksheets:  # the empty sheet a new workbook starts with
        wb.remove(default)
    _unit_sheet(wb, report)
    if report.columns:
        _columns_sheet(wb, report)
    _people_sheet(wb, report)
    if report.kind == "weekly":
        _items_sheet(wb, report)
    else:
        _details_sheet(wb, report)
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
    _sheet(wb, sheet, title, [Column(h) for h in headers], rows)
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
    ws = _sheet(wb, "单位汇总", report.title, columns, rows)
    if rows:
        _total_row(ws, columns, rows)


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
    ws = _sheet(wb, "栏目更新", report.title, columns, rows, bulk=False)  # overdue rows are restyled below
    status = [c.header for c in columns].index("状态")
    for row, line in zip(ws.iter_rows(min_row=HEADER_ROW + 1), report.columns, strict=True):
        if line.status != "逾期":
            continue
        for cell in row:
            cell.fill = _ALERT_FILL
        row[status].font = Font(name=_FONT, bold=True, color=_ALERT_COLOUR)


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
    _sheet(wb, "个人得分", report.title, columns, rows)


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
    _sheet(wb, "信息明细", report.title, columns, rows)


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
    ws = _sheet(wb, "信息明细", report.title, columns, rows)
    if rows:
        _total_row(ws, columns, rows)


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
    ws = _sheet(wb, "扣分明细", report.title, columns, rows)
    if rows:
        _total_row(ws, columns, rows)


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
    _sheet(wb, "退回记录", report.title, columns, rows)


def _reasons(reasons: Sequence[str]) -> str:
    if len(reasons) == 1:
        return reasons[0]
    return "\n".join(f"{n}. {reason}" for n, reason in enumerate(reasons, 1))


def _sheet(
    wb: Workbook, name: str, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Value]], bulk: bool = True
) -> Worksheet:
    ws = wb.create_sheet(name)
    last = get_column_letter(len(columns))
    ws.append([title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name=_FONT, bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28

    ws.append([c.header for c in columns])
    for cell in ws[HEADER_ROW]:
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    if direct := bulk and isinstance(wb, _Workbook) and len(rows) >= wb.bulk_rows:  # written by splice
        wb.bodies[name] = Body(HEADER_ROW + 1, len(columns), rows, _style_ids(ws, columns), _clean)
    styled: dict[tuple[int, str], XlCell] = {}  # one styled cell per column and alignment, copied from
    for r, values in enumerate(() if direct else rows, HEADER_ROW + 1):  # ws[ws.max_row] is quadratic
        for c, (value, column) in enumerate(zip(values, columns, strict=True), 1):
            # openpyxl refuses control characters in a cell: one odd file name must not stop a bulletin.
            cell = ws.cell(row=r, column=c, value=printable(value) if isinstance(value, str) else value)
            key = (c, _horizontal(cell.value, column))
            model = styled.get(key)
            if model is None:
                _body_style(cell, column)
                styled[key] = cell
            else:
                # openpyxl hashes every Font and Alignment assigned (about 0.4 ms a cell: two minutes for a
                # year's 信息明细); copying a styled cell's style array is its own internal fast path.
                cell._style = copy(model._style)  # type: ignore[attr-defined]  # noqa: SLF001
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"

    for index, column in enumerate(columns, 1):
        cells = [column.header, *map(itemgetter(index - 1), rows)]
        ws.column_dimensions[get_column_letter(index)].width = column_width(cells, column.wrap)

    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"1:{HEADER_ROW}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages tall as needed
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    return ws


def _style_ids(ws: Worksheet, columns: Sequence[Column]) -> Callable[[int, Value], int]:
    """Style id of a body cell by column (0-based) and value, as `_body_style` styles it; every style a
    column can take is registered now, before the workbook is saved."""
    ids = {}
    for c, column in enumerate(columns):
        for sample in (0, "中文五个字", "✓"):  # a number, long text (left), a short code (centred)
            model = XlCell(ws, row=HEADER_ROW + 1, column=c + 1, value=sample)  # not placed in the sheet
            _body_style(model, column)
            ids[(c, _horizontal(sample, column))] = model.style_id
    return lambda c, value: ids[(c, _horizontal(value, columns[c]))]


def _clean(value: str) -> str:
    return printable(value)[:32767]  # what openpyxl keeps of a string (it cuts at Excel's cell limit)


def _body_style(cell: XlCell, column: Column) -> None:
    """Short codes (✓, 状态) centred, names and text left, numbers right as Excel does by default."""
    cell.font = Font(name=_FONT)
    cell.border = _BORDER
    if isinstance(cell.value, str) and cell.value.startswith("="):
        cell.data_type = "s"  # a sender's subject "=HYPERLINK(...)" stays text, never a formula
    if column.points:
        cell.number_format = POINTS_FORMAT
    horizontal = _horizontal(cell.value, column)
    if horizontal:
        cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=column.wrap)
    else:
        cell.alignment = Alignment(vertical="center")


def _horizontal(value: object, column: Column) -> str:
    """Text left (short codes centred); "" for numbers, which Excel right-aligns itself."""
    if not isinstance(value, str):
        return ""
    return "left" if column.wrap or display_width(value) > 4 else "center"


def _total_row(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Value]]) -> None:
    """合计 under the unit names: sums as values, not formulas, so webmail previews show them too."""
    totals: list[Value] = []
    for index, column in enumerate(columns):
        numbers = (v for v in map(itemgetter(index), rows) if isinstance(v, int | float))
        totals.append(round(sum(numbers), 4) if column.summed else "")
    totals[1] = "合计"
    row = HEADER_ROW + len(rows) + 1
    for c, (value, column) in enumerate(zip(totals, columns, strict=True), 1):
        cell = ws.cell(row=row, column=c, value=value)
        _body_style(cell, column)
        cell.font = Font(name=_FONT, bold=True)
        cell.fill = _TOTAL_FILL
