"""Body rows of a long sheet written straight as SpreadsheetML, byte for byte as openpyxl writes them.

A year's 信息明细 is 100,000 rows of 11 cells: openpyxl builds, styles and serialises an object per cell
(about 8 µs each: most of a minute for the sheet). Here each row is formatted as text with the style ids
the workbook registered for the same styles, and spliced into the saved file's sheet between its header
and its 合计 row. Tests compare the result cell by cell with the workbook openpyxl builds alone.
"""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from openpyxl.utils import get_column_letter

Value = str | int | float
MIN_WIDTH, MAX_WIDTH = 6, 48
_ROW = re.compile(rb'<row r="(\d+)"')
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


@dataclass(frozen=True)
class Body:
    """Rows first..first+len(rows)-1 of a sheet `columns` wide; `style(column, value)` is the id of the
    cell's style, registered in the workbook before it was saved."""

    first: int
    columns: int
    rows: Sequence[Sequence[Value]]
    style: Callable[[int, Value], int]
    clean: Callable[[str], str]  # what a text cell holds (control characters replaced)


def rows_xml(body: Body) -> bytes:
    letters = [get_column_letter(c) for c in range(1, body.columns + 1)]
    numbers = [body.style(c, 0) for c in range(body.columns)]  # a number's style depends on its column only
    # What follows a cell's reference, per column and value: units, kinds, dates and shares repeat, so
    # each is cleaned, styled and escaped once. 0.0 and -0.0 are one key but print apart: not kept.
    tails: list[dict[Value, str]] = [{} for _ in range(body.columns)]
    out: list[str] = []
    for r, values in enumerate(body.rows, body.first):
        cells = []
        for c, value in enumerate(values):
            if type(value) is int and -(10**15) < value < 10**15:  # the 序号 column: unique, "%.16g" is str()
                cells.append(f'<c r="{letters[c]}{r}" s="{numbers[c]}" t="n"><v>{value}</v></c>')
                continue
            tail = tails[c].get(value) if value or isinstance(value, str) else None
            if tail is None:
                tail = _tail(body, c, value, numbers[c])
                if value or isinstance(value, str):
                    tails[c][value] = tail
            cells.append(f'<c r="{letters[c]}{r}"{tail}')
        out.append(f'<row r="{r}">{"".join(cells)}</row>')
    return "".join(out).encode("utf-8")


def _tail(body: Body, c: int, value: Value, number: int) -> str:
    if isinstance(value, str):
        text = body.clean(value)
        return f' s="{body.style(c, text)}" t="inlineStr"' + (f"><is>{_text(text)}</is></c>" if text else "/>")
    if isinstance(value, bool):
        return f' s="{number}" t="b"><v>{value:d}</v></c>'
    return f' s="{number}" t="n"><v>{value:.16g}</v></c>'


def _text(value: str) -> str:
    """<t> as lxml writes it."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f"<t{space}>{escaped}</t>"


def splice(xlsx: bytes, bodies: dict[int, Body]) -> bytes:
    """The saved workbook with each body's rows inserted into sheet{n}.xml (n = the sheet's position)."""
    source = zipfile.ZipFile(BytesIO(xlsx))
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            number = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", info.filename)
            body = bodies.get(int(number.group(1))) if number else None
            if body is not None:
                data = _insert(data, body)
            # Level 1: the detail sheet is tens of MB of repetitive XML; 6 takes three times as long to
            # save a few hundred KB.
            target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
    return out.getvalue()


def _insert(sheet: bytes, body: Body) -> bytes:
    after = next((m.start() for m in _ROW.finditer(sheet) if int(m.group(1)) >= body.first), None)
    at = sheet.index(b"</sheetData>") if after is None else after
    last = max(body.first + len(body.rows) - 1, *(int(m.group(1)) for m in _ROW.finditer(sheet)))
    sheet = sheet[:at] + rows_xml(body) + sheet[at:]
    return _DIMENSION.sub(f'<dimension ref="A1:{get_column_letter(body.columns)}{last}"/>'.encode(), sheet, count=1)


def display_width(text: str) -> int:
    """Columns a text takes: a CJK (wide or full-width) character two, any other one."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(cells: Sequence[Value], wrap: bool) -> float:
    """Column width in Excel's units (about one Latin character), from the widest line in the column.

    Each distinct value is measured only if it can be wider than the widest so far: a year's 信息明细 has
    a million cells. A wide character is 3 or 4 bytes in UTF-8, so a text is at most as wide as its
    length plus half its extra bytes."""
    floats = {value for value in cells if isinstance(value, float)}
    others = {value for value in cells if not isinstance(value, float)}  # 1 and 1.0 print differently
    shown = [f"{value:.2f}" for value in floats] + [str(value) for value in others]
    widest = 0
    for text in shown:
        if len(text) + (len(text.encode()) - len(text)) // 2 > widest:
            widest = max(widest, *(display_width(line) for line in text.splitlines() or [""]))
    limit = MAX_WIDTH if wrap else MAX_WIDTH + 12
    return float(min(max(round(widest * 1.1) + 2, MIN_WIDTH), limit))  # CJK in 宋体 is a little over 2 units
