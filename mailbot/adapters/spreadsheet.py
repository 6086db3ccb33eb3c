"""Read the office's spreadsheet (.xlsx from Excel/WPS, or a CSV export) into rows of strings.

Row i of the result is spreadsheet row i+1, blank rows included, so problems can be reported
with the row number the office sees in Excel. Interpreting the cells is domain/registry.py's job.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

XLSX = (".xlsx", ".xlsm")
TEXT = (".csv", ".tsv", ".txt")  # .txt: Excel's "文本文件(制表符分隔)" export
DELIMITERS = (",", "\t")  # never the full-width "，": it is text inside a cell
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # encrypted .xlsx and legacy .xls are OLE containers


class SpreadsheetError(Exception):
    """The file cannot be read as a table; the message is Chinese for the office, detail in English."""


def read_rows(path: Path) -> list[list[str]]:
    suffix = path.suffix.lower()
    if suffix not in XLSX + TEXT:
        raise SpreadsheetError(
            f"不支持的文件类型“{path.suffix or '无扩展名'}”，请另存为 .xlsx 或 .csv 后再导入"
            f"（unsupported file type {path.name!r}; expected .xlsx or .csv）"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpreadsheetError(f"无法打开文件 {path.name}（{exc.strerror}）") from None
    return _xlsx_rows(path, data) if suffix in XLSX else _text_rows(path, data)


def _cell(value: object) -> str:
    """Excel stores every number as a float: a phone typed as 13800000000 arrives as 13800000000.0."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_rows(path: Path, data: bytes) -> list[list[str]]:
    if data.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            f"{path.name} 设有打开密码或是旧版 .xls 文件：请在 Excel 中取消密码并另存为 .xlsx"
            "（OLE container: password-protected workbook or legacy .xls）"
        )
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise SpreadsheetError(f"{path.name} 不是有效的 Excel 文件（not an xlsx workbook: no zip container）")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises KeyError, ValueError, lxml errors... for a damaged workbook
        raise SpreadsheetError(
            f"{path.name} 已损坏，无法读取（invalid workbook: {type(exc).__name__}: {exc}）"
        ) from None
    try:
        sheet = workbook.active
        if not isinstance(sheet, ReadOnlyWorksheet):  # read-only mode: a worksheet, or a chartsheet
            raise SpreadsheetError(f"{path.name} 的当前工作表不是表格（active sheet is not a worksheet）")
        sheet.reset_dimensions()  # some writers record a wrong <dimension>; trusting it cuts cells off
        try:
            return [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        except Exception as exc:  # a damaged sheet XML only shows up while iterating
            raise SpreadsheetError(
                f"{path.name} 已损坏，无法读取（invalid worksheet: {type(exc).__name__}: {exc}）"
            ) from None
    finally:
        workbook.close()


def _decode(path: Path, data: bytes) -> str:
    """Excel saves "CSV UTF-8" with a BOM, plain "CSV" in the system code page (GBK on Chinese Windows)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")  # Excel's "Unicode 文本"
    if b"\x00" in data:
        raise SpreadsheetError(f"{path.name} 不是文本表格（binary file, not CSV）")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            f"{path.name} 的文字编码无法识别，请在 Excel 中另存为“CSV UTF-8”"
            f"（neither UTF-8 nor GB18030: {exc.reason} at byte {exc.start}）"
        ) from None


def _text_rows(path: Path, data: bytes) -> list[list[str]]:
    text = _decode(path, data)
    try:
        candidates = [list(csv.reader(io.StringIO(text, newline=""), delimiter=d)) for d in DELIMITERS]
    except csv.Error as exc:
        raise SpreadsheetError(f"{path.name} 不是有效的 CSV 文件（malformed CSV: {exc}）") from None
    # The delimiter that splits the most lines wins (comma on a tie); a comma inside a cell splits few.
    return max(candidates, key=lambda rows: sum(len(r) > 1 for r in rows))
