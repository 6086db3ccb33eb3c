"""iPhone photos (HEIC/HEIF): measured and verified like JPEGs, refused only when they do not decode."""

from __future__ import annotations

import struct

import pytest

from mailbot.domain.archive import Limits
from mailbot.domain.checks import Facts, Rules, evaluate
from mailbot.domain.mime import Attachment
from mailbot.domain.photos import DecodeBudget, inspect_photo
from mailbot.domain.submission import unpack
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.photos import make_heic

FOOTER = ["撰稿人：盘山县应急管理局（办公室）张三", "初审人：李四", "复审人：王五"]
BODY = ["5月12日，盘山县应急管理局在县城区开展防灾减灾宣传周活动，向群众发放宣传资料2000余份。"]


@pytest.fixture(scope="module")
def heic() -> bytes:
    return make_heic(800, 600, seed=7)


def test_heic_is_measured_like_a_jpeg(heic: bytes) -> None:
    assert heic[4:12] == b"ftypheic"
    photo = inspect_photo("IMG_0001.HEIC", heic)
    assert (photo.width, photo.height, photo.format, photo.problem) == (800, 600, "HEIF", None)
    assert photo.size == len(heic)


def test_heic_that_does_not_decode_is_broken(heic: bytes) -> None:
    assert inspect_photo("IMG_0002.HEIC", heic[: len(heic) // 2]).problem == "photo_broken"
    assert inspect_photo("IMG_0003.heif", heic[:64]).problem == "photo_broken"
    assert inspect_photo("IMG_0004.HEIC", b"\x00\x00\x00\x18ftypheic" + b"\x00" * 200).problem == "photo_broken"


def test_heic_declaring_a_huge_frame_is_refused_before_decoding(heic: bytes) -> None:
    """The size is read from the container's ispe box: 12000 x 12000 is past MAX_PIXELS."""
    at = heic.find(b"ispe")
    assert struct.unpack(">II", heic[at + 8 : at + 16]) == (800, 600)
    bomb = heic[: at + 8] + struct.pack(">II", 12_000, 12_000) + heic[at + 16 :]
    assert inspect_photo("IMG_0005.HEIC", bomb).problem == "photo_bomb"


def test_heic_costs_its_full_pixel_count(heic: bytes) -> None:
    """libheif has no reduced-scale decode: the budget pays all 800 x 600 pixels, not 1/64."""
    budget = DecodeBudget(1_000_000)
    inspect_photo("IMG_0001.HEIC", heic, budget)
    assert budget.left == 1_000_000 - 800 * 600
    spent = DecodeBudget(100)
    assert inspect_photo("IMG_0001.HEIC", heic, spent).problem is None  # measured, not decoded
    assert spent.left == 100


def test_zip_of_heic_photos_is_accepted_and_counted(heic: bytes) -> None:
    docx = build_docx("盘山县开展防灾减灾宣传周活动", BODY, FOOTER)
    second = make_heic(640, 480, seed=8)
    archive = build_zip([("稿件.docx", docx), ("IMG_0001.HEIC", heic), ("IMG_0002.heif", second)])
    sub = unpack((Attachment("防灾减灾.zip", "application/zip", archive),), Limits())
    assert [(p.name, p.format, p.problem) for p in sub.photos] == [
        ("IMG_0001.HEIC", "HEIF", None),
        ("IMG_0002.heif", "HEIF", None),
    ]
    assert [f.kind for f in sub.files] == ["archive", "manuscript", "photo", "photo"]
    verdict = evaluate(Facts(sub, "routine", len(archive), ""), Rules())
    assert verdict.accepted and verdict.warnings == ()
