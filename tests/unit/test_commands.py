"""The office's one-line email commands and the 约稿 subject matching, on plain text."""

from __future__ import annotations

import pytest

from mailbot.domain.commands import Command, CommandError, looks_like_command, parse_command, registry_form
from mailbot.domain.solicitations import match_solicitation, names_solicitation


@pytest.mark.parametrize(
    "text, command",
    [
        ("采用 省级", Command("adopt", level="province")),
        (
            "采用 省级 《辽宁信息》第5期\n\n> 回执……",
            Command("adopt", level="province", publication="《辽宁信息》第5期"),
        ),
        ("采用：2026-0137 国家级", Command("adopt", "2026-0137", level="national")),
        ("采用 市委 盘锦信息", Command("adopt", level="city", publication="盘锦信息")),
        ("\n\n终审通过", Command("approve")),
        ("通过 2026-0001", Command("approve", "2026-0001")),
        ("退回 数据有误", Command("return", reason="数据有误")),
        ("退回 2026-0012 标题错别字，请改正", Command("return", "2026-0012", reason="标题错别字，请改正")),
        ("评分 2026-0003 2", Command("grade", "2026-0003", grade=2)),
        ("扣分 兴隆台区应急局 0.5 信息失实", Command("deduct", unit="兴隆台区应急局", points=0.5, reason="信息失实")),
        ("\u3000采用\u3000省级", Command("adopt", level="province")),
    ],
)
def test_parse(text: str, command: Command) -> None:
    assert looks_like_command(text)
    assert parse_command(text) == command


@pytest.mark.parametrize(
    "text, message",
    [
        ("采用 2026-0001", "需要写明级别"),
        ("退回", "需要写明原因"),
        ("评分 5", "0 到 3"),
        ("扣分 宣教科 很多 原因", "不是数字"),
        ("扣分 宣教科", "格式是"),
        ("你好", "不是可识别的指令"),
    ],
)
def test_errors_explain_and_show_usage(text: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse_command(text)
    assert message in str(caught.value) and "可用的指令" in str(caught.value)


@pytest.mark.parametrize("text", ["采用率很高的经验", "请问照片几张", "> 采用 省级", "通过率"])
def test_ordinary_text_is_not_a_command(text: str) -> None:
    assert not looks_like_command(text)


TOPICS = [(1, "冬季安全生产"), (2, "防汛备汛工作"), (3, "冬季安全生产专刊")]


@pytest.mark.parametrize(
    "subject, title, expected",
    [
        ("【约稿】冬季安全生产专刊", "x", 3),
        ("约稿：防汛备汛工作", "x", 2),
        ("[约稿] 防汛", "x", 2),
        ("【约稿】", "关于防汛备汛工作的报道", 2),
        ("【约稿】秋季", "秋季", None),
    ],
)
def test_solicitation_matching(subject: str, title: str, expected: int | None) -> None:
    assert names_solicitation(subject)
    assert match_solicitation(subject, title, TOPICS) == expected


def test_plain_subject_names_no_solicitation() -> None:
    assert not names_solicitation("关于冬季安全生产的报道")


def test_registry_commands() -> None:
    assert parse_command("登记 张三 兴隆台区应急管理局") == Command("enrol", name="张三", unit="兴隆台区应急管理局")
    assert parse_command("登记：张三，宣教科，<ZS@163.com>") == Command(
        "enrol", name="张三", unit="宣教科", email="zs@163.com"
    )
    assert parse_command("调整 张三 宣教科") == Command("move", name="张三", unit="宣教科")
    assert parse_command("停用 张三") == Command("retire", name="张三")
    assert parse_command("停用 张三 宣教科") == Command("retire", name="张三", unit="宣教科")
    for line, hint in (("登记 张三", "登记 姓名 单位"), ("调整 张三", "调整 姓名 新单位"), ("停用", "停用 姓名")):
        with pytest.raises(CommandError, match=hint):
            parse_command(line)


def test_a_registry_form_is_read_by_the_emailed_lines_rule() -> None:
    """The browser's fields give the command the one-line reply gives, field by field."""
    assert registry_form("enrol", " 张三 ", "宣教科", "<ZS@163.com>") == parse_command("登记 张三 宣教科 ZS@163.com")
    assert registry_form("move", "张三", "宣教科") == parse_command("调整 张三 宣教科")
    assert registry_form("retire", "张三", "") == parse_command("停用 张三")
    assert registry_form("retire", "张三", "宣教科") == parse_command("停用 张三 宣教科")
    for fields, says in (
        (("enrol", "张 三", "宣教科"), "中间不能有空格"),
        (("retire", "张三，李四", ""), "中间不能有空格"),  # not 停用 张三 in unit 李四
        (("enrol", "张三", "宣教科", "zs@"), "不是邮箱地址"),
        (("move", "张三", ""), "调整 姓名 新单位"),
        (("retire", "张三", "宣教科", "zs@163.com"), "停用 姓名"),
    ):
        with pytest.raises(CommandError, match=says):
            registry_form(*fields)
