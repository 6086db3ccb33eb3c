"""Outlook's winmail.dat: the files inside count as the message's attachments; a broken one says how to fix Outlook."""

from __future__ import annotations

import struct

import pytest
from tnefparse import TNEF

from mailbot.domain.archive import ArchiveError, Limits
from mailbot.domain.checks import Facts, Rules, evaluate
from mailbot.domain.mime import Attachment
from mailbot.domain.submission import unpack
from mailbot.domain.tnef import OUTLOOK_TNEF, TnefError, is_tnef, unwrap_tnef
from mailbot.samples import tnef as builder
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.photos import make_photo

NAME = "关于开展防灾减灾宣传周活动的信息.docx"
FOOTER = ["撰稿人：大洼区应急管理局（办公室）赵婷", "初审人：李明", "复审人：王刚"]
BODY = ["5月12日，大洼区应急管理局在区政府广场开展防灾减灾宣传活动，发放宣传资料1500余份。"]


@pytest.fixture(scope="module")
def docx() -> bytes:
    return build_docx("大洼区开展防灾减灾宣传活动", BODY, FOOTER)


def tnef_attachment(data: bytes, name: str = "winmail.dat", ctype: str = "application/ms-tnef") -> Attachment:
    return Attachment(name, ctype, data)


def test_builder_output_reads_back_with_tnefparse(docx: bytes) -> None:
    data = builder.build_tnef([(NAME, docx), ("现场照片.jpg", b"\xff\xd8\xff\xe0jpeg")])
    parsed = TNEF(data, do_checksum=True)
    assert all(o.good_checksum for o in parsed.objects)
    assert parsed.codepage == "cp936"
    assert [(a.long_filename(), a.data) for a in parsed.attachments] == [
        (NAME, docx),
        ("现场照片.jpg", b"\xff\xd8\xff\xe0jpeg"),
    ]


def test_unwrap_gives_long_chinese_names_or_the_title() -> None:
    with_mapi = unwrap_tnef(builder.build_tnef([(NAME, b"a"), ("图.jpg", b"b")]), Limits())
    assert [(m.path, m.data) for m in with_mapi] == [(NAME, b"a"), ("图.jpg", b"b")]
    # The oldest Outlook names a file in attAttachTitle only, in GBK: tnefparse cannot decode that itself.
    title_only = unwrap_tnef(builder.build_tnef([("稿件.docx", b"a")], long_names=False), Limits())
    assert [m.path for m in title_only] == ["稿件.docx"]


def test_is_tnef_by_type_name_or_signature() -> None:
    data = builder.build_tnef([("a.txt", b"x")])
    assert is_tnef("winmail.dat", "application/ms-tnef", b"")
    assert is_tnef("WINMAIL.DAT", "application/octet-stream", b"")
    assert is_tnef("att00001.dat", "application/octet-stream", data)
    assert not is_tnef("稿件.docx", "application/vnd.openxmlformats", b"PK\x03\x04")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[: len(d) // 2],  # cut off in transit
        lambda d: b"\x00" * 4 + d[4:],  # not TNEF at all
        lambda d: d[:6],  # a signature and nothing else
        lambda d: d[:6] + b"\x07" + d[7:],  # a level byte that is neither message nor attachment
    ],
)
def test_damaged_winmail_dat_is_a_tnef_error(damage, docx: bytes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TnefError) as raised:
        unwrap_tnef(damage(builder.build_tnef([(NAME, docx)])), Limits())
    assert raised.value.code == OUTLOOK_TNEF


def test_hostile_mapi_count_is_refused_not_looped() -> None:
    """A property count of 2**32 - 1 would make tnefparse loop for hours: the file is read without its MAPI."""
    hostile = struct.pack("<I", 0xFFFFFFFF) + struct.pack("<HHI", 0x1002, 0x3707, 0xFFFFFFFF)
    data = b"".join(
        [
            struct.pack("<IH", builder.SIGNATURE, 1),
            builder.attribute(1, builder.ATT_OEM_CODEPAGE, struct.pack("<II", 936, 0)),
            builder.attribute(2, builder.ATT_ATTACH_REND_DATA, struct.pack("<HIhhI", 1, 0, 32, 32, 0)),
            builder.attribute(2, builder.ATT_ATTACH_TITLE, "稿件.docx".encode("gbk") + b"\x00"),
            builder.attribute(2, builder.ATT_ATTACH_DATA, b"docx bytes"),
            builder.attribute(2, builder.ATT_ATTACHMENT, hostile),
        ]
    )
    assert [(m.path, m.data) for m in unwrap_tnef(data, Limits())] == [("稿件.docx", b"docx bytes")]


def test_limits_apply_as_to_archives() -> None:
    many = builder.build_tnef([(f"照片{n}.jpg", b"x") for n in range(6)])
    with pytest.raises(ArchiveError) as raised:
        unwrap_tnef(many, Limits(max_members=5))
    assert raised.value.code == "archive_too_many_members"
    with pytest.raises(ArchiveError) as raised:
        unwrap_tnef(builder.build_tnef([("大.jpg", b"x" * 5000)]), Limits(max_total_bytes=4000))
    assert raised.value.code == "archive_too_large"


def test_winmail_dat_submission_is_accepted(docx: bytes) -> None:
    photo = make_photo(1200, 900, seed=11)
    data = builder.build_tnef([(NAME, docx), ("现场照片.jpg", photo)])
    sub = unpack((tnef_attachment(data),), Limits())
    assert [(f.path, f.kind) for f in sub.files] == [
        ("winmail.dat", "archive"),
        (f"winmail.dat/{NAME}", "manuscript"),
        ("winmail.dat/现场照片.jpg", "photo"),
    ]
    assert sub.manuscript is not None and sub.manuscript.footer.first_reviewer == "李明"
    verdict = evaluate(Facts(sub, "routine", len(data), ""), Rules())
    assert verdict.accepted, [r.code for r in verdict.problems]


def test_zip_inside_winmail_dat_is_unpacked(docx: bytes) -> None:
    archive = build_zip([(NAME, docx), ("现场.jpg", make_photo(1200, 900, seed=12))])
    sub = unpack((tnef_attachment(builder.build_tnef([("防灾减灾.zip", archive)])),), Limits())
    assert sub.manuscript is not None and len(sub.photos) == 1


def test_unreadable_winmail_dat_gets_the_outlook_reason_only(docx: bytes) -> None:
    broken = builder.build_tnef([(NAME, docx)])[:300]
    sub = unpack((tnef_attachment(broken),), Limits())
    verdict = evaluate(Facts(sub, "routine", len(broken), ""), Rules())
    assert [(r.code, r.detail) for r in verdict.problems] == [(OUTLOOK_TNEF, "winmail.dat")]
    assert "HTML 或纯文本" in verdict.problems[0].hint and "winmail.dat" in verdict.problems[0].message
