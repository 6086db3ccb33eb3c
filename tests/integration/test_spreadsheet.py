"""Reading the register as the office saves it: Excel workbooks and CSV exports in their encodings."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from mailbot.adapters.spreadsheet import SpreadsheetError, read_rows
from mailbot.domain.registry import parse_registry

HEADER = ["单位(科室)", "姓名", "联系电话", "微信号", "邮箱"]


def rewrite_sheet(src_path: Path, dst_path: Path, pattern: bytes, replacement: bytes) -> Path:
    """Copy a workbook, editing its first sheet's XML the way other writers store it."""
    with zipfile.ZipFile(src_path) as src, zipfile.ZipFile(dst_path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, count = re.subn(pattern, replacement, data)
                assert count == 1, pattern
            dst.writestr(item, data)
    return dst_path


def office_workbook(path: Path) -> Path:
    """Title row merged across the table, a blank row, the header on row 3, phones typed as numbers.

    The first phone is stored as a float in exponent form, as some writers and cached formula results do;
    openpyxl reads that back as 13800000000.0.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "登记表"
    ws["A1"] = "信息宣传员登记表"
    ws.merge_cells("A1:E1")
    ws.append([])
    ws.append(HEADER)
    ws.append(["宣教科", "张三", 13800000000, "zs_wx", "zs@163.com"])
    ws.append(["盘山县应急局（办公室）", "李四", 13900000000, None, "ls@163.com"])
    ws.append(["办公室", "王五", 2812330.5, None, "ww@163.com"])
    wb.create_sheet("说明")["A1"] = "填表说明"
    wb.save(path.with_suffix(".tmp.xlsx"))
    return rewrite_sheet(path.with_suffix(".tmp.xlsx"), path, rb"<v>13800000000</v>", b"<v>1.38E+10</v>")


def test_xlsx_rows_keep_excel_row_numbers_and_phone_digits(tmp_path: Path) -> None:
    rows = read_rows(office_workbook(tmp_path / "登记表.xlsx"))
    assert rows[0][0] == "信息宣传员登记表"
    assert not any(rows[1])
    assert rows[2] == HEADER
    assert rows[3] == ["宣教科", "张三", "13800000000", "zs_wx", "zs@163.com"]
    assert rows[4][2] == "13900000000" and rows[4][3] == ""
    assert rows[5][2] == "2812330.5"


def test_xlsx_imports_into_units(tmp_path: Path) -> None:
    result = parse_registry(read_rows(office_workbook(tmp_path / "登记表.xlsx")))
    assert result.problems == ()
    assert [u.name for u in result.units] == ["宣教科", "盘山县应急局（办公室）", "办公室"]
    assert result.units[0].liaisons[0].phone == "13800000000"


def test_xlsx_with_a_wrong_dimension_is_read_in_full(tmp_path: Path) -> None:
    """WPS and some scripts write <dimension ref="A1"/>; trusting it would drop every other cell."""
    good = office_workbook(tmp_path / "good.xlsx")
    bad = rewrite_sheet(good, tmp_path / "bad.xlsx", rb'<dimension ref="[^"]*"', b'<dimension ref="A1"')
    assert read_rows(bad) == read_rows(good)


def write_csv(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


CSV = "信息宣传员登记表,,,,\r\n单位(科室),姓名,联系电话,微信号,邮箱\r\n宣教科,张三,13800000000,zs_wx,zs@163.com\r\n"


def test_utf8_bom_csv(tmp_path: Path) -> None:
    rows = read_rows(write_csv(tmp_path / "登记表.csv", CSV, "utf-8-sig"))
    assert rows[0] == ["信息宣传员登记表", "", "", "", ""]
    assert rows[1] == HEADER  # no BOM glued to 单位(科室)
    assert rows[2] == ["宣教科", "张三", "13800000000", "zs_wx", "zs@163.com"]


def test_utf8_csv_without_bom(tmp_path: Path) -> None:
    assert read_rows(write_csv(tmp_path / "a.csv", CSV, "utf-8"))[1] == HEADER


def test_gbk_csv_from_chinese_excel(tmp_path: Path) -> None:
    text = CSV + "盘山县应急局（办公室）,李四,13900000000,,ls@163.com\r\n"
    rows = read_rows(write_csv(tmp_path / "登记表.csv", text, "gbk"))
    assert rows[1] == HEADER
    assert rows[3][0] == "盘山县应急局（办公室）"


def test_tab_separated_csv_with_commas_inside_cells(tmp_path: Path) -> None:
    text = "单位(科室)\t姓名\t联系电话\t微信号\t邮箱\n宣教科,办公室\t张三\t138\t\tzs@163.com\n"
    rows = read_rows(write_csv(tmp_path / "登记表.csv", text, "utf-8"))
    assert rows == [HEADER, ["宣教科,办公室", "张三", "138", "", "zs@163.com"]]


def test_full_width_comma_is_not_a_delimiter(tmp_path: Path) -> None:
    text = "单位(科室),姓名,联系电话,微信号,邮箱\n宣教科，办公室,张三,138,,zs@163.com\n"
    rows = read_rows(write_csv(tmp_path / "登记表.csv", text, "gb18030"))
    assert rows[1] == ["宣教科，办公室", "张三", "138", "", "zs@163.com"]


def test_quoted_newline_stays_in_its_row(tmp_path: Path) -> None:
    text = '单位(科室),姓名,联系电话,微信号,邮箱\n"宣教科\n（二楼）",张三,138,,zs@163.com\n办公室,李四,,,ls@163.com\n'
    rows = read_rows(write_csv(tmp_path / "a.csv", text, "utf-8"))
    assert len(rows) == 3 and rows[2][0] == "办公室"


def test_excel_unicode_text_export(tmp_path: Path) -> None:
    text = "单位(科室)\t姓名\t联系电话\t微信号\t邮箱\r\n宣教科\t张三\t138\t\tzs@163.com\r\n"
    rows = read_rows(write_csv(tmp_path / "登记表.txt", "\ufeff" + text, "utf-16-le"))
    assert rows[0] == HEADER and rows[1][4] == "zs@163.com"


@pytest.mark.parametrize(
    "name, content, hint",
    [
        ("登记表.docx", b"PK\x03\x04 not really", "不支持的文件类型"),
        ("登记表.xls", b"\xd0\xcf\x11\xe0", "不支持的文件类型"),
        ("登记表", b"a,b\n", "不支持的文件类型"),
        ("登记表.xlsx", b"just some text, not a workbook", "不是有效的 Excel 文件"),
        ("登记表.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "密码"),
        ("登记表.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是文本表格"),
        ("登记表.csv", b"a,b\n\x80\xff", "编码"),
    ],
)
def test_unreadable_files_raise_spreadsheet_error(tmp_path: Path, name: str, content: bytes, hint: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SpreadsheetError, match=hint):
        read_rows(path)


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "登记表.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(SpreadsheetError, match="已损坏"):
        read_rows(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpreadsheetError, match="无法打开"):
        read_rows(tmp_path / "nope.xlsx")
