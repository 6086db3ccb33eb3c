"""The footer parser on the variants liaisons actually type (the footer template and its real-world drift)."""

from __future__ import annotations

import pytest

from mailbot.domain.footer import Drafter, Footer, has_placeholder, is_footer_line, parse_footer

ALL = ("撰稿人", "初审人", "复审人")


def footer(
    drafters: tuple[tuple[str, str | None], ...] = (),
    first: str | None = None,
    second: str | None = None,
    placeholders: tuple[str, ...] = (),
) -> Footer:
    return Footer(
        drafters=tuple(Drafter(name, unit) for name, unit in drafters),
        first_reviewer=first,
        second_reviewer=second,
        placeholders=placeholders,
    )


ZHANG = (("张三", None),)

CASES: list[tuple[str, list[str], Footer]] = [
    ("template, ASCII colons", ["撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"], footer(placeholders=ALL)),
    ("template, full-width", ["撰稿人：XX单位（科室）XXX", "初审人：XXX    复审人：XXX"], footer(placeholders=ALL)),
    ("full-width colons, three lines", ["撰稿人：张三", "初审人：李四", "复审人：王五"], footer(ZHANG, "李四", "王五")),
    ("ASCII colons", ["撰稿人:张三", "初审人:李四    复审人:王五"], footer(ZHANG, "李四", "王五")),
    ("spaces after colon", ["撰稿人：  张三", "初审人：   李四    复审人： 王五"], footer(ZHANG, "李四", "王五")),
    ("spaced-out labels", ["撰 稿 人：张三", "初 审 人：李四", "复 审 人：王五"], footer(ZHANG, "李四", "王五")),
    ("spaces inside names", ["撰稿人：张  三", "初审人：李 四    复审人：王　五"], footer(ZHANG, "李四", "王五")),
    ("reviewers tab-separated", ["撰稿人：张三", "初审人：李四\t复审人：王五"], footer(ZHANG, "李四", "王五")),
    ("short reviewer labels", ["撰稿人：张三", "初审：李四    复审：王五"], footer(ZHANG, "李四", "王五")),
    ("撰稿：", ["撰稿：张三", "初审人：李四 复审人：王五"], footer(ZHANG, "李四", "王五")),
    ("作者：", ["作者：张三"], footer(ZHANG)),
    ("撰稿人员：", ["撰稿人员：张三"], footer(ZHANG)),
    ("drafters with 、", ["撰稿人：张三、李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with ，", ["撰稿人：张三，李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with ASCII comma", ["撰稿人：张三,李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with a space", ["撰稿人：张三 李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with 和", ["撰稿人：张三和李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with 及", ["撰稿人：张三及李四"], footer((("张三", None), ("李四", None)))),
    ("drafters with 与", ["撰稿人：张三与李四"], footer((("张三", None), ("李四", None)))),
    ("four-character names with 和", ["撰稿人：欧阳小明和司马光华"], footer((("欧阳小明", None), ("司马光华", None)))),
    (
        "unit glued to a four-character name",
        ["撰稿人：大洼区应急管理局欧阳小明"],
        footer((("欧阳小明", "大洼区应急管理局"),)),
    ),
    ("和 inside a name", ["撰稿人：王和平"], footer((("王和平", None),))),
    ("spaced name then a name", ["撰稿人：张 三 李四"], footer((("张三", None), ("李四", None)))),
    ("surname spaced from given name", ["撰稿人：王 小明"], footer((("王小明", None),))),
    (
        "unit before name, full-width parentheses",
        ["撰稿人：盘山县应急管理局（办公室）张三"],
        footer((("张三", "盘山县应急管理局（办公室）"),)),
    ),
    (
        "unit before name, ASCII parentheses",
        ["撰稿人：市应急局(宣教科)李四"],
        footer((("李四", "市应急局（宣教科）"),)),
    ),
    ("unit, space, name", ["撰稿人：大洼区应急管理局 张三"], footer((("张三", "大洼区应急管理局"),))),
    ("unit glued to name", ["撰稿人：大洼区应急管理局张三"], footer((("张三", "大洼区应急管理局"),))),
    ("unit glued to a spaced name", ["撰稿人：大洼区应急管理局周 敏"], footer((("周敏", "大洼区应急管理局"),))),
    (
        "unit with 和 glued to name",
        ["撰稿人：市住房和城乡建设局张三"],
        footer((("张三", "市住房和城乡建设局"),)),
    ),
    (
        "spaced parenthesised department",
        ["撰稿人：大洼区应急管理局 （办公室） 张三"],
        footer((("张三", "大洼区应急管理局（办公室）"),)),
    ),
    ("name then unit", ["撰稿人：张三（大洼区应急管理局）"], footer((("张三", "大洼区应急管理局"),))),
    ("name then unit, ASCII", ["撰稿人：张三 (大洼区应急管理局)"], footer((("张三", "大洼区应急管理局"),))),
    (
        "several drafters each with a unit",
        ["撰稿人：盘山县应急管理局（办公室）张三、市应急局(宣教科)李四"],
        footer((("张三", "盘山县应急管理局（办公室）"), ("李四", "市应急局（宣教科）"))),
    ),
    (
        "one unit for several drafters",
        ["撰稿人：大洼区应急管理局 张三、李四"],
        footer((("张三", "大洼区应急管理局"), ("李四", "大洼区应急管理局"))),
    ),
    (
        "unit after names stays with its name",
        ["撰稿人：张三（大洼区应急管理局）、李四"],
        footer((("张三", "大洼区应急管理局"), ("李四", None))),
    ),
    ("only a unit is no drafter", ["撰稿人：大洼区应急管理局", "初审人：李四"], footer((), "李四")),
    (
        "placeholder reviewer is missing",
        ["撰稿人：张三", "初审人：XXX    复审人：王五"],
        footer(ZHANG, None, "王五", ("初审人",)),
    ),
    (
        "placeholder name after a real unit",
        ["撰稿人：大洼区应急管理局 XXX", "初审人：李四    复审人：王五"],
        footer((), "李四", "王五", ("撰稿人",)),
    ),
    (
        "full-width and × placeholders",
        ["撰稿人：张三", "初审人：ＸＸＸ    复审人：×××"],
        footer(ZHANG, placeholders=("初审人", "复审人")),
    ),
    ("empty values", ["撰稿人：张三", "初审人：李四", "复审人："], footer(ZHANG, "李四")),
    ("label with nothing at all", ["撰稿人", "初审人：", "复审人"], footer()),
    (
        "phone and notes lines ignored",
        [
            "撰稿人：张三",
            "联系电话：13800000000",
            "初审人：李四    复审人：王五",
            "注：请各单位、各科室将照片及稿件压缩到一个压缩包后发至邮箱",
        ],
        footer(ZHANG, "李四", "王五"),
    ),
    (
        "phone on the drafter line",
        ["撰稿人：张三  联系电话：13800000000", "初审人：李四    复审人：王五"],
        footer(ZHANG, "李四", "王五"),
    ),
    ("bare phone after the name", ["撰稿人：张三 13800000000"], footer(ZHANG)),
    ("trailing full stops", ["撰稿人：张三。", "初审人：李四；复审人：王五。"], footer(ZHANG, "李四", "王五")),
    (
        "whole footer on one line",
        ["撰稿人：张三  初审人：李四  复审人：王五"],
        footer(ZHANG, "李四", "王五"),
    ),
    (
        "table cells joined by tabs, labels without colons",
        ["撰稿人\t大洼区应急管理局 张三", "初审人\t李四\t复审人\t王五"],
        footer((("张三", "大洼区应急管理局"),), "李四", "王五"),
    ),
    ("leading full-width indent", ["\u3000\u3000撰稿人：张三"], footer(ZHANG)),
    ("drafter repeated on two lines", ["撰稿人：张三", "撰稿人：李四、张三"], footer((("张三", None), ("李四", None)))),
    ("no footer lines at all", ["正文最后一段。", "注：请各单位报送"], footer()),
]


@pytest.mark.parametrize(("lines", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_parse_footer(lines: list[str], expected: Footer) -> None:
    assert parse_footer(lines) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XXX", True),
        ("XX单位", True),
        ("ＸＸＸ", True),
        ("×××", True),
        ("xxx", True),
        ("市应急局参加XXX企业突发事故", True),
        ("第XX届", True),
        ("XXL号防护服", False),
        ("Xbox", False),
        ("OXXO", False),
        ("X光", False),
        ("张三", False),
    ],
)
def test_has_placeholder(text: str, expected: bool) -> None:
    assert has_placeholder(text) is expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("撰稿人：张三", True),
        ("撰 稿 人:张三", True),
        ("\u3000初审人：李四", True),
        ("复审：王五", True),
        ("作者：张三", True),
        ("撰稿人", True),
        ("作者认为应急演练很有必要。", False),
        ("初审意见：同意", False),
        ("作者简介：张三", False),
        ("联系电话：13800000000", False),
        ("注：请各单位将照片及稿件压缩", False),
    ],
)
def test_is_footer_line(line: str, expected: bool) -> None:
    assert is_footer_line(line) is expected
