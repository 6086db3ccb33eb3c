"""A long sheet's body written directly (sheet_rows) is cell for cell the sheet openpyxl writes alone."""

from __future__ import annotations

import dataclasses
from io import BytesIO

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from mailbot.adapters.workbook import build_xlsx
from mailbot.domain.report import DeductionLine, DetailLine, RejectionLine
from tests.unit.test_report_render import REJECTIONS, with_columns

ODD = ('=HYPERLINK("x")', " 前后有空格 ", "a&b<c>d\"e'", "两行\r\n第二行", "控制\x01字符", "", "✓", "3月1日")


def bulletin() -> object:
    details = tuple(
        DetailLine(
            f"2026-{n:06d}",
            f"{1 + n % 12}月{1 + n % 28}日",
            ("应急指挥中心", "溧阳市应急管理局", "政策法规处")[n % 3],
            ODD[n % len(ODD)] or f"撰稿人{n} 0.3",
            "常规信息",
            ODD[(n + 3) % len(ODD)],
            "—" if n % 5 else "《防汛备汛》按时，评 2 分",
            ODD[(n + 5) % len(ODD)],
            (0.3, 1.0, 0.15, 3, 2.6666666666666665, -0.0)[n % 6],
            ("已收录", "已终审", "已退回")[n % 3],
        )
        for n in range(1, 400)
    )
    deductions = tuple(
        DeductionLine("应急指挥中心", "三(二)2", f"栏目《{n}》", "10月5日至10月11日", -0.3 * n, ODD[n % 8], "系统", "")
        for n in range(1, 60)
    )
    rejections = REJECTIONS + tuple(
        RejectionLine("-", "a@b", ODD[n % 8], "3月1日", ("一", ODD[n % 8])) for n in range(40)
    )
    report = with_columns("monthly", "2026-11")
    return dataclasses.replace(report, details=details, deduction_lines=deductions, rejections=rejections)


def cells(ws: Worksheet) -> list[tuple[object, ...]]:
    return [
        (
            c.coordinate,
            c.value,
            c.data_type,
            c.number_format,
            repr(c.font),
            repr(c.fill),
            repr(c.border),
            repr(c.alignment),
        )
        for row in ws.iter_rows()
        for c in row
    ]


def test_the_bulk_body_is_the_cells_openpyxl_writes() -> None:
    report = bulletin()
    direct = load_workbook(BytesIO(build_xlsx(report, bulk_rows=1)))  # type: ignore[arg-type]
    alone = load_workbook(BytesIO(build_xlsx(report, bulk_rows=10**9)))  # type: ignore[arg-type]
    assert direct.sheetnames == alone.sheetnames
    for name in alone.sheetnames:
        a, b = direct[name], alone[name]
        assert a.dimensions == b.dimensions, name
        assert cells(a) == cells(b), name
        assert [str(r) for r in a.merged_cells.ranges] == [str(r) for r in b.merged_cells.ranges]
        widths = {k: d.width for k, d in b.column_dimensions.items()}
        assert {k: d.width for k, d in a.column_dimensions.items()} == widths, name
        assert (a.freeze_panes, a.print_title_rows, a.page_setup.orientation) == (
            b.freeze_panes,
            b.print_title_rows,
            b.page_setup.orientation,
        )
    assert direct["信息明细"].max_row == len(report.details) + 3  # type: ignore[attr-defined]
