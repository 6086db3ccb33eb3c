"""Reply markers in a subject are never columns; a column warning never lists nothing; the receipt's lines."""

from __future__ import annotations

import pytest

from mailbot.adapters.render import Renderer
from mailbot.domain.checks import reason
from mailbot.domain.column_match import column_from
from mailbot.domain.columns import Column

DYNAMIC = Column("动态要闻", "website", "daily", 1, ("宣教科",), 0.3, 0.3, True, ("动态新闻",))


@pytest.mark.parametrize(
    "subject",
    [
        "【回执】盘山县开展防灾减灾宣传周活动",
        "Re:【回执】盘山县开展防灾减灾宣传周活动",
        "【退回】关于汛期值班的信息",
        "【收稿回执】关于汛期值班的信息",
        "[Re]关于汛期值班的信息",
        "[FW]关于汛期值班的信息",
        "[Fwd]关于汛期值班的信息",
        "【转发】市应急局召开会议",
        "【答复】市应急局召开会议",
        "【回复】市应急局召开会议",
        "【已采用】市应急局召开会议",
    ],
)
@pytest.mark.parametrize("columns", [(), (DYNAMIC,)])
def test_reply_markers_are_never_column_names(subject: str, columns: tuple[Column, ...]) -> None:
    assert column_from(subject, [], columns) is None


def test_a_column_after_a_reply_marker_is_still_found() -> None:
    found = column_from("【回执】【动态要闻】市应急局召开会议", [], (DYNAMIC,))
    assert found is not None and found.column == DYNAMIC and found.exact


def test_column_warning_lists_columns_only_when_there_are_some() -> None:
    without = reason("column_unknown", "工作简报", columns="")
    assert "可用栏目" not in without.hint and "：。" not in without.hint
    assert without.hint.endswith("例如【动态要闻】。")
    listed = reason("column_unknown", "工作简报", columns="动态要闻、文件解读")
    assert listed.hint.endswith("可用栏目：动态要闻、文件解读。")


def receipt_text(column: str) -> str:
    context = {
        "liaison_name": "孙悦",
        "unit_name": "盘山县应急管理局",
        "received_at": "2026-05-12 09:30",
        "number": "2026-0042",
        "title": "盘山县开展防灾减灾宣传周活动",
        "drafters": [{"name": "张三", "unit": "盘山县应急管理局（办公室）", "share": "0.3"}],
        "first_reviewer": "李四",
        "second_reviewer": "王五",
        "kind_label": "常规信息",
        "column": column,
        "body_chars": 860,
        "photo_count": 3,
        "points": "0.3",
        "warnings": [],
        "office_name": "市应急管理局办公室",
    }
    return Renderer().env.get_template("reply/receipt.txt.j2").render(context)


@pytest.mark.parametrize("column", ["", "动态要闻"])
def test_receipt_puts_category_and_word_count_on_lines_of_their_own(column: str) -> None:
    lines = receipt_text(column).splitlines()
    category = next(line for line in lines if "类　　别" in line)
    assert "正文字数" not in category
    assert category.strip() == "类　　别：常规信息"
    following = [line.strip() for line in lines[lines.index(category) + 1 : lines.index(category) + 3]]
    assert following == (
        [f"计入栏目：{column}", "正文字数：860 字"] if column else ["正文字数：860 字", "照　　片：3 张"]
    )


def test_receipt_names_the_solicitation_and_signs_off_in_both_parts() -> None:
    """The column and the 约稿 credited, in time or not, and the same 落款 in the text and the HTML."""
    context = {
        "liaison_name": "张三",
        "unit_name": "盘山县应急管理局",
        "received_at": "2026年10月19日 10:00",
        "number": "2026-0021",
        "title": "防汛备汛工作",
        "drafters": [],
        "first_reviewer": "李四",
        "second_reviewer": "王五",
        "kind_label": "常规信息",
        "column": "",
        "body_chars": 860,
        "photo_count": 3,
        "points": "0.3",
        "warnings": [],
        "office_name": "市应急管理局办公室",
        "solicitation": "防汛备汛",
        "solicitation_deadline": "10月20日",
        "solicitation_in_time": True,
    }
    text, html = Renderer().pair("reply/receipt", context)
    for body in (text, html):
        assert "《防汛备汛》（截止 10月20日），按时报送" in body
    assert text.rstrip().endswith("市应急管理局办公室")
    assert '<p style="text-align:right;margin:16px 2em 0 0;">市应急管理局办公室</p>' in html
    late, _ = Renderer().pair("reply/receipt", context | {"solicitation_in_time": False})
    assert "逾期报送，按规定计 0 分" in late
