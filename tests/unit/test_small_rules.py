"""Scoring splits, unit matching, item kinds, photo inspection, header hygiene."""

from __future__ import annotations

import pytest

from mailbot.compose import clean_header_text, reply_subject
from mailbot.domain.photos import inspect_photo
from mailbot.domain.scoring import PointTable, split_evenly, submission_points
from mailbot.domain.submission import item_kind, kind_marker
from mailbot.domain.units import match_unit
from mailbot.samples.photos import make_photo


@pytest.mark.parametrize(
    "points, people, shares",
    [
        (0.3, 1, (0.3,)),
        (0.3, 2, (0.15, 0.15)),
        (0.3, 3, (0.1, 0.1, 0.1)),
        (1.0, 3, (0.3334, 0.3333, 0.3333)),
        (0.3, 0, ()),
    ],
)
def test_split_evenly_adds_up(points: float, people: int, shares: tuple[float, ...]) -> None:
    assert split_evenly(points, people) == shares
    assert round(sum(shares), 4) == (points if people else 0)


def test_points_by_kind() -> None:
    table = PointTable()
    assert [submission_points(k, table) for k in ("routine", "research", "experience")] == [0.3, 1.0, 1.0]


UNITS = [(1, ["盘山县应急管理局", "盘山县应急局"]), (2, ["宣教科"]), (3, ["市应急管理局"])]


@pytest.mark.parametrize(
    "written, unit",
    [
        ("盘山县应急管理局（办公室）", 1),
        ("盘山县应急局(办公室)", 1),
        ("市应急局（宣教科）", 2),
        ("市应急管理局", 3),
        ("某某公司", None),
        (None, None),
        ("", None),
    ],
)
def test_match_unit(written: str | None, unit: int | None) -> None:
    assert match_unit(written, UNITS) == unit


@pytest.mark.parametrize(
    "subject, title, kind",
    [
        ("【调研】关于汛期的调研", "x", "research"),
        ("[经验]做法", "x", "experience"),
        # Kinds come from explicit markers only: the words of a title are not one.
        ("报送信息", "关于危化企业标准化建设的调研报告", "routine"),
        ("报送信息", "防汛经验做法", "routine"),
        ("报送信息", "开展应急演练", "routine"),
    ],
)
def test_item_kind(subject: str, title: str, kind: str) -> None:
    assert item_kind(subject, title) == kind


def test_photo_inspection() -> None:
    good = inspect_photo("a.jpg", make_photo(800, 600))
    assert (good.width, good.height, good.format, good.problem) == (800, 600, "JPEG", None)
    assert inspect_photo("b.jpg", make_photo(800, 600)[:500]).problem == "photo_broken"
    assert inspect_photo("c.jpg", b"not an image").problem == "photo_broken"
    assert inspect_photo("d.heic", b"....ftypheic").problem == "photo_broken"


def test_decompression_bomb_photo_refused() -> None:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, "PNG")  # 144 Mpx in a few KB
    assert inspect_photo("bomb.png", buf.getvalue()).problem == "photo_bomb"


def test_header_text_cannot_inject() -> None:
    assert clean_header_text("a\r\nBcc: evil@x") == "a Bcc: evil@x"
    assert len(clean_header_text("长" * 10_000)) == 120
    assert reply_subject("") == "Re: (无主题)"
    assert reply_subject("回复：关于报道") == "回复：关于报道"
    assert reply_subject("关于报道") == "Re: 关于报道"


@pytest.mark.parametrize(
    "subject, paragraphs, kind, where",
    [
        ("【调研】关于汛期防汛工作的调研", (), "research", "邮件主题中的“【调研】”"),
        ("盘山县 【经验材料】 防汛", (), "experience", "邮件主题中的“【经验材料】”"),
        ("报送信息", ("类别：调研",), "research", "稿件中的“类别：调研”一行"),
        ("报送信息", ("正文第一段", "信息类别: 经验"), "experience", "稿件中的“信息类别: 经验”一行"),
        ("市应急局召开经验交流会", (), "routine", ""),  # ordinary words of a title are news
        ("【动态要闻】调研报告", (), "routine", ""),  # a column tag, not a kind marker
        ("【经验交流会】", (), "routine", ""),
    ],
)
def test_reading_7_kinds_come_from_explicit_markers(
    subject: str, paragraphs: tuple[str, ...], kind: str, where: str
) -> None:
    assert kind_marker(subject, subject, paragraphs) == (kind, where)


def test_reading_7_title_words_only_when_the_office_asks() -> None:
    assert kind_marker("报送", "关于危化企业的调研报告") == ("routine", "")
    assert kind_marker("报送", "关于危化企业的调研报告", from_title=True) == ("research", "标题中的“调研报告”")
