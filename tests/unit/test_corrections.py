"""Which earlier item a re-send corrects, whether it may still change, and what changed: plain values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailbot.domain.corrections import Prior, Version, changes, corrected_item, locked_because, numbers_in, same_title

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def prior(number: str = "2026-0137", unit: int = 1, title: str = "盘山县开展防汛演练", **kw: object) -> Prior:
    fields: dict = {"status": "received", "adopted": False, "named": False, "received_at": T0} | kw
    return Prior(137, number, unit, title, fields["received_at"], fields["status"], fields["adopted"], fields["named"])


def test_item_numbers_are_read_from_the_subject_but_not_from_dates_or_phone_numbers() -> None:
    assert numbers_in("更正：2026-0137 盘山县开展防汛演练") == ("2026-0137",)
    assert numbers_in("Re:【回执】2026-0137、2026-0140") == ("2026-0137", "2026-0140")
    assert numbers_in("2026-11-02 演练") == ()
    assert numbers_in("电话 0427-2806666") == ()


def test_titles_match_across_spaces_quotes_and_width() -> None:
    assert same_title("盘山县开展“防汛”演练", "盘山县 开展防汛演练。")
    assert same_title("２０２６年防汛演练", "2026年防汛演练")
    assert not same_title("盘山县开展防汛演练", "盘山县开展消防演练")
    assert not same_title("", "")


def test_a_named_item_of_the_same_unit_is_corrected_whatever_its_title() -> None:
    named = prior(named=True, title="旧标题")
    assert corrected_item([named], 1, "新标题", T0 + timedelta(days=30), WEEK) == named


def test_another_units_item_is_never_corrected_even_when_named() -> None:
    theirs = prior(unit=2, named=True)
    assert corrected_item([theirs], 1, theirs.title, T0 + timedelta(hours=1), WEEK) is None


def test_the_same_title_counts_only_within_the_window() -> None:
    earlier = prior()
    assert corrected_item([earlier], 1, earlier.title, T0 + timedelta(days=6), WEEK) == earlier
    assert corrected_item([earlier], 1, earlier.title, T0 + timedelta(days=8), WEEK) is None
    assert corrected_item([earlier], 1, earlier.title, T0 + timedelta(days=1), timedelta(0)) is None
    assert corrected_item([earlier], 1, "另一件事", T0 + timedelta(hours=1), WEEK) is None


def test_adopted_or_approved_items_are_not_replaced_silently() -> None:
    assert locked_because(prior(adopted=True)) == "已被采用"
    assert locked_because(prior(status="approved")) == "已终审通过"
    assert locked_because(prior(status="returned")) == ""  # a returned piece is meant to be corrected
    assert locked_because(prior()) == ""


def test_what_changed_is_said_field_by_field() -> None:
    old = Version("盘山县开展防汛演练", ("张三",), "李四", "王五", 2, 800)
    new = Version("盘山县开展防汛应急演练", ("张三", "赵六"), "李四", "孙七", 3, 812)
    assert changes(old, new) == (
        "标题：《盘山县开展防汛演练》→《盘山县开展防汛应急演练》",
        "撰稿人：张三 → 张三、赵六",
        "复审人：王五 → 孙七",
        "照片：2 张 → 3 张",
        "正文：800 字 → 812 字",
    )
    assert changes(old, old) == ("内容有修改（标题、作者、审核人、照片和字数未变）",)
    reworded = Version("盘山县开展防汛演练", ("张三",), "李四", "王五", 2, 800, digest="b")
    assert changes(Version(*old.__dict__.values()), reworded) == ("正文：内容有修改（仍为 800 字）",)
