"""The liaison register (annex 4, 信息宣传员登记表) as offices really fill it in."""

from __future__ import annotations

import pytest

from mailbot.domain.registry import RowProblem, parse_registry
from mailbot.domain.units import Liaison, Unit

HEADER = ["单位(科室)", "姓名", "联系电话", "微信号", "邮箱"]


def messages(rows: list[list[str]]) -> list[str]:
    return [p.message for p in parse_registry(rows).problems]


@pytest.mark.parametrize(
    "header",
    [
        ["单位(科室)", "姓名", "联系电话", "微信号", "邮箱"],
        ["单位（科室）", "宣传员", "电话", "微信", "电子邮箱"],
        ["单位", "信息宣传员", "手机", "微信号", "E-mail"],
        ["科室", "联系人", "手机号", "微信", "email"],
        ["单位名称", "姓名", "联系电话", "微信号", "邮件地址"],
        [" 单位 （ 科室 ） ", "姓　名", "联系电话", "微　信", "ＥＭＡＩＬ"],
    ],
)
def test_header_variants(header: list[str]) -> None:
    result = parse_registry([header, ["宣教科", "张三", "13800000000", "zs_wx", "zs@163.com"]])
    assert result.problems == ()
    assert result.units[0].name == "宣教科"
    assert result.units[0].liaisons[0].name == "张三"
    assert result.units[0].liaisons[0].email == "zs@163.com"
    assert result.units[0].liaisons[0].phone == "13800000000"


def test_every_column_read_into_the_liaison() -> None:
    result = parse_registry([HEADER, ["宣教科", "张三", "0427-2812330", "zs_wx", "zs@163.com"]])
    assert result.units == (
        Unit(
            name="宣教科",
            kind="科室",
            liaisons=(Liaison(name="张三", email="zs@163.com", phone="0427-2812330", wechat="zs_wx"),),
        ),
    )


def test_title_row_and_blank_rows_above_the_header_give_excel_row_numbers() -> None:
    rows = [
        ["信息宣传员登记表", "", "", "", ""],
        ["", "", "", "", ""],
        ["序号", *HEADER],
        ["1", "宣教科", "张三", "138", "", "zs@163.com"],
        ["", "", "", "", "", ""],
        ["2", "办公室", "李四", "139", "", ""],
    ]
    result = parse_registry(rows)
    assert [u.name for u in result.units] == ["宣教科", "办公室"]  # 李四's address is confirmed on first mail
    assert result.problems == ()


def test_blank_rows_and_numbered_empty_template_rows_are_skipped() -> None:
    rows = [
        ["序号", *HEADER],
        ["1", "宣教科", "张三", "", "", "zs@163.com"],
        [],
        ["   "],
        ["2", "", "", "", "", ""],
        ["3", " ", "\u3000", "", "", ""],
        ["4", "办公室", "李四", "", "", "ls@163.com"],
    ]
    result = parse_registry(rows)
    assert result.problems == ()
    assert [u.name for u in result.units] == ["宣教科", "办公室"]


def test_several_liaisons_of_one_unit_are_merged_in_file_order() -> None:
    rows = [
        HEADER,
        ["宣教科", "张三", "", "", "zs@163.com"],
        ["办公室", "王五", "", "", "ww@163.com"],
        ["宣教科 ", "李四", "", "", "ls@163.com"],
    ]
    units = parse_registry(rows).units
    assert [u.name for u in units] == ["宣教科", "办公室"]
    assert [p.email for p in units[0].liaisons] == ["zs@163.com", "ls@163.com"]


def test_merged_unit_cell_gives_the_unit_to_the_rows_below() -> None:
    rows = [
        HEADER,
        ["盘山县应急局", "张三", "", "", "zs@163.com"],
        ["", "李四", "", "", "ls@163.com"],
        ["", "", "", "", ""],
        ["", "王五", "", "", "ww@163.com"],
    ]
    result = parse_registry(rows)
    assert [(u.name, [p.name for p in u.liaisons]) for u in result.units] == [("盘山县应急局", ["张三", "李四"])]
    assert result.problems == (RowProblem(5, "第5行：缺少单位"),)


@pytest.mark.parametrize(
    "email, message",
    [
        ("abc@", "第2行：邮箱格式不正确：abc@"),
        ("abc.163.com", "第2行：邮箱格式不正确：abc.163.com"),
        ("abc@163", "第2行：邮箱格式不正确：abc@163"),
        ("a@b@163.com", "第2行：邮箱格式不正确：a@b@163.com"),
        ("zs@163.com；ls@qq.com", "第2行：邮箱格式不正确：zs@163.com；ls@qq.com"),
    ],
)
def test_missing_or_invalid_email_is_a_row_problem_and_the_row_is_skipped(email: str, message: str) -> None:
    result = parse_registry([HEADER, ["宣教科", "张三", "", "", email], ["办公室", "李四", "", "", "ls@163.com"]])
    assert messages([HEADER, ["宣教科", "张三", "", "", email]]) == [message]
    assert [u.name for u in result.units] == ["办公室"]


def test_same_email_for_two_units_is_a_problem_and_the_later_row_is_skipped() -> None:
    rows = [
        HEADER,
        ["宣教科", "张三", "", "", "x@y.com"],
        ["办公室", "李四", "", "", "x@y.com"],
        ["办公室", "王五", "", "", "ww@y.com"],
    ]
    result = parse_registry(rows)
    assert result.problems == (RowProblem(3, "第3行：同一邮箱 x@y.com 已登记在“宣教科”"),)
    assert [(u.name, [p.name for p in u.liaisons]) for u in result.units] == [
        ("宣教科", ["张三"]),
        ("办公室", ["王五"]),
    ]


def test_same_email_twice_in_one_unit_is_kept_once() -> None:
    rows = [HEADER, ["宣教科", "张三", "", "", "zs@163.com"], ["宣教科", "张三", "", "", "ZS@163.com"]]
    result = parse_registry(rows)
    assert len(result.units[0].liaisons) == 1
    assert messages(rows) == ["第3行：邮箱 zs@163.com 与第2行重复"]


@pytest.mark.parametrize(
    "written, email",
    [
        ("ＡＢＣ＠１６３.com", "abc@163.com"),
        (" Zhang.San@QQ.COM ", "zhang.san@qq.com"),
        ("zs@163。com", "zs@163.com"),
        ("zs @ 163.com\n", "zs@163.com"),
    ],
)
def test_email_normalised(written: str, email: str) -> None:
    result = parse_registry([HEADER, ["宣教科", "张三", "", "", written]])
    assert result.problems == ()
    assert result.units[0].liaisons[0].email == email


def test_names_and_phone_cleaned_but_unit_kept_as_written_with_full_width_parentheses() -> None:
    rows = [
        HEADER,
        ["盘山县应急局(办公室)", "张  三", "１３８ 0000 0000", " wx1 ", "zs@163.com"],
        ["盘山县应急局（办公室）", "李四", "", "", "ls@163.com"],
    ]
    (unit,) = parse_registry(rows).units
    assert unit.name == "盘山县应急局（办公室）"
    assert unit.liaisons[0] == Liaison(name="张三", email="zs@163.com", phone="13800000000", wechat="wx1")
    assert len(unit.liaisons) == 2


def test_kind_column_optional_default_is_keshi() -> None:
    assert parse_registry([HEADER, ["宣教科", "张三", "", "", "zs@163.com"]]).units[0].kind == "科室"


def test_kind_column_read_and_checked() -> None:
    rows = [
        ["单位", "类别", "姓名", "邮箱"],
        ["盘山县应急局", "县（区）", "张三", "zs@163.com"],
        ["市消防救援支队", "支队", "李四", "ls@163.com"],
        ["宣教科", "机关", "王五", "ww@163.com"],
        ["盘山县应急局", "科室", "赵六", "zl@163.com"],
    ]
    result = parse_registry(rows)
    assert [(u.name, u.kind) for u in result.units] == [
        ("盘山县应急局", "县区"),
        ("市消防救援支队", "支队"),
        ("宣教科", "科室"),
    ]
    assert [p.row for p in result.problems] == [4, 5]
    assert "机关" in result.problems[0].message and "县区" in result.problems[1].message
    assert len(result.units[0].liaisons) == 2


def test_header_with_unit_kind_alias() -> None:
    result = parse_registry([["单位类型", "单位", "姓名", "邮箱"], ["执法队", "综合行政执法队", "张三", "zs@163.com"]])
    assert result.units[0].kind == "执法队"


@pytest.mark.parametrize(
    "rows, problem",
    [
        ([], RowProblem(1, "第1行：未找到表头，缺少列：单位、姓名")),
        ([["信息宣传员登记表"], ["甲", "乙"]], RowProblem(1, "第1行：未找到表头，缺少列：单位、姓名")),
        (
            [["信息宣传员登记表"], ["单位(科室)", "联系电话", "微信号"], ["宣教科", "138", "wx"]],
            RowProblem(2, "第2行：未找到表头，缺少列：姓名"),
        ),
    ],
)
def test_no_usable_header_is_one_problem_naming_the_missing_columns(rows: list[list[str]], problem: RowProblem) -> None:
    result = parse_registry(rows)
    assert result.units == ()
    assert result.problems == (problem,)


def test_the_annex_as_issued_has_no_email_column_and_imports() -> None:
    """单位（科室）、姓名、联系电话、微信号: each liaison registered without an address, confirmed on first mail."""
    rows = [
        ["信息宣传员登记表"],
        ["单位（科室）", "姓名", "联系电话", "微信号"],
        ["兴隆台区应急管理局", "刘  洋", "13900000000", "ly_wx"],
        ["", "刘洋", "", ""],
        ["宣教科", "", "138", ""],
    ]
    result = parse_registry(rows)
    assert result.units == (
        Unit("兴隆台区应急管理局", "科室", (Liaison(name="刘洋", email="", phone="13900000000", wechat="ly_wx"),)),
    )
    assert messages(rows) == ["第4行：“兴隆台区应急管理局”的宣传员“刘洋”重复登记", "第5行：缺少姓名"]
