"""How a bulletin's sheets look: title and header rows, fonts, borders, widths for Chinese, A4 printing.

mailbot.adapters.workbook decides which sheets a report has and what their rows are; every sheet
is laid out here the same way, and a long sheet's body is handed to mailbot.adapters.sheet_rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from operator import itemgetter

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.adapters.sheet_rows import Body, column_width, display_width
from mailbot.domain.text import printable

POINTS_FORMAT = "0.00"
BULK_ROWS = 500  # from this many body rows a sheet's body is written directly (sheet_rows)
HEADER_ROW = 2  # row 1 is the report's title
_THIN = Side(style="thin", color="999999")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
ALERT_FILL = PatternFill("solid", fgColor="FDF0EF")  # the tint of overdue rows in the email's tables
ALERT_COLOUR = "C62828"
FONT = "宋体"  # what the office's printers and Excel templates expect; Excel substitutes if missing

Value = str | int | float


@dataclass(frozen=True)
class Column:
    header: str
    points: bool = False  # a float shown with 2 decimals
    wrap: bool = False  # long free text (titles, reasons): wrap instead of widening the column
    summed: bool = False  # added up in the 合计 row of the unit table


class BulkWorkbook(Workbook):
    """A workbook whose long sheets' body rows are written after saving (mailbot.adapters.sheet_rows)."""

    def __init__(self, bulk_rows: int) -> None:
        super().__init__()
        self.bulk_rows = bulk_rows
        self.bodies: dict[str, Body] = {}


def add_sheet(
    wb: Workbook, name: str, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Value]], bulk: bool = True
) -> Worksheet:
    ws = wb.create_sheet(name)
    last = get_column_letter(len(columns))
    ws.append([title])
    ws.merge_cells(f"A1:{last}1")
    ws["A1"].font = Font(name=FONT, bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws.row_dimensions[1].height = 28

    ws.append([c.header for c in columns])
    for cell in ws[HEADER_ROW]:
        cell.font = Font(name=FONT, bold=True)
        cell.fill = _HEADER_FILL
        cell.border = _BORDER
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    if direct := bulk and isinstance(wb, BulkWorkbook) and len(rows) >= wb.bulk_rows:  # written by splice
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
    cell.font = Font(name=FONT)
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


def total_row(ws: Worksheet, columns: Sequence[Column], rows: Sequence[Sequence[Value]]) -> None:
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
        cell.font = Font(name=FONT, bold=True)
        cell.fill = _TOTAL_FILL
