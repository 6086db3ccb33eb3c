"""Reading .docx manuscripts: layouts liaisons use and bytes that are not manuscripts at all."""

from __future__ import annotations

import copy
import io
import os
import struct
import time
import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.text import WD_PARAGRAPH_ALIGNMENT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mailbot.domain.footer import Drafter, Footer
from mailbot.domain.manuscript import Manuscript, ManuscriptError, read_docx
from mailbot.samples.docx import build_docx

ANNEX3_TITLE = ["市应急局参加XXX企业突发事故", "应急处置演练(示例)"]
ANNEX3_BODY = [
    "为深入践行第18个全国“安全生产月”和“安全生产万里行”活动,贯彻落实“防风险、除隐患、遏事故”"
    "活动主题精神,增强企业防范化解重大风险,提高突发事故的应急处置能力,检验应急预案可操作性。"
    "6月19日,XXX公司、公司及公司分别在作业现场、联合站和润滑油加氢装置区内,开展了井喷突发事故、"
    "储罐区火灾、炼化装置泄漏等三项专项应急处置演练。"
]
ANNEX3_FOOTER = ["撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"]
ANNEX3_NOTE = "注:请各单位、各科室将照片及稿件压缩到一个压缩包后发至邮箱"
FOOTER = ["撰稿人：大洼区应急管理局 张三、李四", "初审人：赵六    复审人：王五"]
PARSED_FOOTER = Footer(
    drafters=(Drafter("张三", "大洼区应急管理局"), Drafter("李四", "大洼区应急管理局")),
    first_reviewer="赵六",
    second_reviewer="王五",
    placeholders=(),
)
BODY = ["6月19日，盘山县应急管理局组织开展防汛应急演练。", "演练检验了预案的可操作性。"]
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def jpeg(colour: str, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "JPEG")
    return out.getvalue()


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), colour).save(out, "PNG")
    return out.getvalue()


def save(document: docx.document.Document) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def centred_bold(document: docx.document.Document, text: str) -> None:
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    paragraph.add_run(text).bold = True


def replace_members(data: bytes, replacements: dict[str, bytes]) -> bytes:
    """The same package with some members' bytes swapped (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            target.writestr(name, replacements.get(name, source.read(name)))
        for name in replacements.keys() - set(source.namelist()):
            target.writestr(name, replacements[name])
    return out.getvalue()


def document_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()


def error_code(data: bytes) -> str:
    with pytest.raises(ManuscriptError) as caught:
        read_docx(data)
    return caught.value.code


# --- layouts ---------------------------------------------------------------------------------


def test_annex3_sample_as_written() -> None:
    """The template itself: two-line title, placeholders everywhere, a note after the footer."""
    manuscript = read_docx(build_docx(ANNEX3_TITLE, ANNEX3_BODY, ANNEX3_FOOTER, notes=[ANNEX3_NOTE]))
    assert manuscript.title == "市应急局参加XXX企业突发事故应急处置演练(示例)"
    assert manuscript.body == tuple(ANNEX3_BODY)
    assert manuscript.footer == Footer((), None, None, ("撰稿人", "初审人", "复审人"))
    assert ANNEX3_NOTE not in manuscript.body


def test_title_over_two_lines_is_joined_without_separator() -> None:
    manuscript = read_docx(build_docx(["盘锦市应急管理局", "开展防汛应急演练"], BODY, FOOTER))
    assert manuscript.title == "盘锦市应急管理局开展防汛应急演练"
    assert manuscript.body == tuple(BODY)


def test_title_broken_with_a_line_break_inside_one_paragraph() -> None:
    document = docx.Document()
    paragraph = document.add_paragraph()
    paragraph.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    run = paragraph.add_run("盘锦市应急管理局")
    run.bold = True
    run.add_break()
    paragraph.add_run("开展防汛应急演练").bold = True
    for text in [*BODY, *FOOTER]:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.title == "盘锦市应急管理局开展防汛应急演练"
    assert manuscript.body == tuple(BODY)


def test_title_in_heading_style_over_three_lines() -> None:
    document = docx.Document()
    for line in ["关于", "盘山县应急管理局", "开展防汛演练的报道"]:
        document.add_paragraph(line, style="Title")
    for text in [*BODY, *FOOTER]:
        document.add_paragraph(text)
    assert read_docx(save(document)).title == "关于盘山县应急管理局开展防汛演练的报道"


@pytest.mark.parametrize(
    "second_line",
    [
        "一、基本情况",  # a section heading, not the rest of the title
        "演练于6月19日在联合站举行。",  # a sentence
    ],
)
def test_bold_centred_body_line_is_not_pulled_into_the_title(second_line: str) -> None:
    document = docx.Document()
    centred_bold(document, "盘锦市应急管理局开展防汛应急演练")
    centred_bold(document, second_line)
    for text in [*BODY, *FOOTER]:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.title == "盘锦市应急管理局开展防汛应急演练"
    assert manuscript.body == (second_line, *BODY)


def test_centred_dateline_in_other_formatting_is_not_title() -> None:
    document = docx.Document()
    centred_bold(document, "盘锦市应急管理局开展防汛应急演练")
    dateline = document.add_paragraph("2025年6月20日")
    dateline.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    for text in [*BODY, *FOOTER]:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.title == "盘锦市应急管理局开展防汛应急演练"
    assert manuscript.body == ("2025年6月20日", *BODY)


def test_whole_manuscript_framed_in_a_one_cell_table() -> None:
    """Some liaisons put the whole manuscript in a 1x1 table to get a border."""
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    title = cell.paragraphs[0]
    title.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
    title.add_run("防汛演练").bold = True
    for text in [*BODY, *FOOTER]:
        cell.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.title == "防汛演练"
    assert manuscript.body == tuple(BODY)
    assert manuscript.footer == PARSED_FOOTER


def test_plain_first_paragraph_is_a_one_line_title() -> None:
    document = docx.Document()
    for text in ["防汛演练", "简短的第二行", *FOOTER]:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.title == "防汛演练"
    assert manuscript.body == ("简短的第二行",)


def test_body_table_is_read_in_document_order() -> None:
    document = docx.Document()
    centred_bold(document, "防汛物资清点情况")
    document.add_paragraph("本周清点物资如下：")
    table = document.add_table(rows=2, cols=2)
    for row, (name, amount) in zip(table.rows, [("救生衣", "200件"), ("冲锋舟", "4艘")], strict=True):
        row.cells[0].text = name
        row.cells[1].text = amount
    document.add_paragraph("物资状况良好。")
    for text in FOOTER:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.body == ("本周清点物资如下：", "救生衣\t200件", "冲锋舟\t4艘", "物资状况良好。")
    assert manuscript.footer == PARSED_FOOTER


def test_footer_in_a_table_with_label_and_value_cells() -> None:
    data = build_docx("防汛演练", BODY, FOOTER, footer_in="table", notes=[ANNEX3_NOTE])
    assert "<w:tbl>" in document_xml(data)
    manuscript = read_docx(data)
    assert manuscript.footer == PARSED_FOOTER
    assert manuscript.body == tuple(BODY)


def test_footer_typed_whole_into_one_table_cell() -> None:
    document = docx.Document()
    centred_bold(document, "防汛演练")
    for text in BODY:
        document.add_paragraph(text)
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    cell.text = FOOTER[0]
    cell.add_paragraph(FOOTER[1])
    manuscript = read_docx(save(document))
    assert manuscript.footer == PARSED_FOOTER
    assert manuscript.body == tuple(BODY)


def test_footer_in_a_text_box_is_read_once() -> None:
    data = build_docx("防汛演练", BODY, FOOTER, footer_in="textbox", notes=[ANNEX3_NOTE])
    xml = document_xml(data)
    assert xml.count("赵六") == 2  # Word's two copies: wps shape and VML fallback
    assert "mc:Fallback" in xml and "v:textbox" in xml
    manuscript = read_docx(data)
    assert manuscript.footer == PARSED_FOOTER
    assert manuscript.body == tuple(BODY)


def test_text_box_body_text_is_counted_once() -> None:
    boxed = "演练现场共投入救援人员八十人"
    manuscript = read_docx(build_docx("防汛演练", BODY, [boxed], footer_in="textbox"))
    assert manuscript.body == (*BODY, boxed)
    assert manuscript.body_chars == sum(len(text) for text in BODY) + len(boxed)


def test_footer_text_box_anchored_in_the_title_paragraph() -> None:
    """A floating box is anchored wherever Word chose; the title and body must survive that."""
    data = build_docx(["盘锦市应急管理局", "开展防汛应急演练"], BODY, FOOTER, footer_in="textbox")
    document = docx.Document(io.BytesIO(data))
    box_run = next(document.paragraphs[-1]._p.iter(f"{{{W_NS}}}r"))
    document.paragraphs[0]._p.append(box_run)
    manuscript = read_docx(save(document))
    assert manuscript.title == "盘锦市应急管理局开展防汛应急演练"
    assert manuscript.body == tuple(BODY)
    assert manuscript.footer == PARSED_FOOTER


def test_footer_lines_split_by_soft_line_breaks() -> None:
    document = docx.Document()
    centred_bold(document, "防汛演练")
    for text in BODY:
        document.add_paragraph(text)
    run = document.add_paragraph().add_run(FOOTER[0])
    run.add_break()
    run.add_text(FOOTER[1])
    assert read_docx(save(document)).footer == PARSED_FOOTER


def test_deleted_revisions_and_field_codes_are_not_text() -> None:
    document = docx.Document()
    centred_bold(document, "防汛演练")
    paragraph = document.add_paragraph("演练")
    paragraph._p.append(
        docx.oxml.parse_xml(
            f'<w:del xmlns:w="{W_NS}" w:id="1" w:author="a"><w:r><w:delText>已删除</w:delText></w:r></w:del>'
        )
    )
    paragraph._p.append(
        docx.oxml.parse_xml(
            f'<w:moveFrom xmlns:w="{W_NS}" w:id="2" w:author="a"><w:r><w:t>已移走</w:t></w:r></w:moveFrom>'
        )
    )
    paragraph._p.append(docx.oxml.parse_xml(f'<w:r xmlns:w="{W_NS}"><w:instrText> PAGE </w:instrText></w:r>'))
    paragraph.add_run("顺利。")
    for text in FOOTER:
        document.add_paragraph(text)
    manuscript = read_docx(save(document))
    assert manuscript.body == ("演练顺利。",)


def test_body_chars_excludes_whitespace_title_and_footer() -> None:
    body = ["\u3000\u3000应急 演练\t顺利。", "ab c"]
    manuscript = read_docx(build_docx("标题不计", body, FOOTER, notes=["注：不计"]))
    assert manuscript.body_chars == len("应急演练顺利。") + len("abc")


def test_embedded_photos_are_returned_with_their_bytes() -> None:
    photos = [jpeg("red"), jpeg("blue", (80, 60)), png("green")]
    manuscript = read_docx(build_docx("防汛演练", BODY, FOOTER, images=photos))
    assert [blob for _, blob in manuscript.images] == photos
    assert [name.rsplit(".", 1)[1] for name, _ in manuscript.images] == ["jpg", "jpg", "png"]
    assert manuscript.body == tuple(BODY)  # picture paragraphs add no text


def test_same_photo_twice_is_one_image_part() -> None:
    photo = jpeg("red")
    manuscript = read_docx(build_docx("防汛演练", BODY, FOOTER, images=[photo, photo]))
    assert [blob for _, blob in manuscript.images] == [photo]


def test_manuscript_without_photos_has_none() -> None:
    assert read_docx(build_docx("防汛演练", BODY, FOOTER)).images == ()


def test_empty_document_reads_as_empty_manuscript() -> None:
    assert read_docx(save(docx.Document())) == Manuscript("", (), Footer((), None, None, ()), 0, ())


# --- bytes that are not manuscripts ---------------------------------------------------------


def test_renamed_doc_is_not_docx() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + os.urandom(4096)
    assert error_code(ole) == "manuscript_not_docx"


@pytest.mark.parametrize("data", [b"", b"%PDF-1.7\n", "撰稿人：张三".encode(), os.urandom(2048)])
def test_non_zip_bytes_are_not_docx(data: bytes) -> None:
    assert error_code(data) == "manuscript_not_docx"


def test_plain_zip_renamed_docx_is_not_docx() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("稿件.txt", "撰稿人：张三")
    assert error_code(out.getvalue()) == "manuscript_not_docx"


def test_spreadsheet_renamed_docx_is_not_docx() -> None:
    data = build_docx("防汛演练", BODY, FOOTER)
    types = zipfile.ZipFile(io.BytesIO(data)).read("[Content_Types].xml").decode()
    spreadsheet = types.replace("wordprocessingml.document.main+xml", "spreadsheetml.sheet.main+xml").encode()
    assert error_code(replace_members(data, {"[Content_Types].xml": spreadsheet})) == "manuscript_not_docx"


@pytest.mark.parametrize("keep", [0.9, 0.5, 0.1])
def test_truncated_docx_is_corrupt(keep: float) -> None:
    data = build_docx("防汛演练", BODY, FOOTER, images=[jpeg("red")])
    assert error_code(data[: int(len(data) * keep)]) == "manuscript_corrupt"


def test_damaged_deflate_stream_is_corrupt() -> None:
    data = bytearray(build_docx("防汛演练", BODY * 50, FOOTER))
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("word/document.xml")
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    data[start + 10 : start + 40] = bytes(30)
    assert error_code(bytes(data)) == "manuscript_corrupt"


def test_document_xml_that_is_not_xml_is_corrupt() -> None:
    data = build_docx("防汛演练", BODY, FOOTER)
    assert error_code(replace_members(data, {"word/document.xml": b"<w:document"})) == "manuscript_corrupt"


def test_zip_bomb_part_is_refused_before_inflating() -> None:
    data = build_docx("防汛演练", BODY, FOOTER)
    bomb = replace_members(data, {"word/media/bomb.xml": b" " * (40 * 1024 * 1024)})
    assert len(bomb) < 200_000
    started = time.process_time()  # CPU: refused before inflating, however busy the machine
    assert error_code(bomb) == "manuscript_corrupt"
    assert time.process_time() - started < 1.0


def _central_records(data: bytes) -> list[tuple[int, str]]:
    """(offset, member name) of each central-directory record."""
    records = []
    position = data.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack("<H", data[position + 28 : position + 30])[0]
        records.append((position, data[position + 46 : position + 46 + name_length].decode()))
        position = data.find(b"PK\x01\x02", position + 46 + name_length)
    return records


def test_part_larger_than_its_declared_size_is_corrupt() -> None:
    """Declared sizes lie in hostile zips; zipfile stops at the declared size and the CRC fails."""
    data = bytearray(build_docx("防汛演练", BODY, FOOTER))
    local = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("word/document.xml").header_offset
    central = dict((name, offset) for offset, name in _central_records(bytes(data)))["word/document.xml"]
    struct.pack_into("<I", data, central + 24, 100)  # uncompressed size, central directory
    struct.pack_into("<I", data, local + 22, 100)  # and local header
    assert error_code(bytes(data)) == "manuscript_corrupt"


def test_encrypted_zip_member_is_corrupt() -> None:
    data = bytearray(build_docx("防汛演练", BODY, FOOTER))
    for info in zipfile.ZipFile(io.BytesIO(bytes(data))).infolist():
        struct.pack_into("<H", data, info.header_offset + 6, info.flag_bits | 1)
    for offset, _ in _central_records(bytes(data)):
        flags = struct.unpack("<H", data[offset + 8 : offset + 10])[0]
        struct.pack_into("<H", data, offset + 8, flags | 1)
    assert error_code(bytes(data)) == "manuscript_corrupt"


def _with_doctype(data: bytes, declarations: str, text: str) -> bytes:
    xml = document_xml(data)
    xml = xml.replace("?>", f"?><!DOCTYPE w:document [{declarations}]>", 1).replace("防汛演练", text)
    return replace_members(data, {"word/document.xml": xml.encode()})


def test_billion_laughs_is_not_expanded() -> None:
    data = build_docx("防汛演练", BODY, FOOTER)
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    )
    started = time.process_time()  # CPU: not expanded, however busy the machine
    assert error_code(_with_doctype(data, entities, "&lol9;")) == "manuscript_corrupt"
    assert time.process_time() - started < 1.0


def test_external_entity_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET-42")
    data = _with_doctype(
        build_docx("防汛演练", BODY, FOOTER),
        f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">',
        "标题&xxe;",
    )
    with pytest.raises(ManuscriptError) as caught:
        read_docx(data)
    assert caught.value.code == "manuscript_corrupt"
    assert "TOPSECRET" not in str(caught.value)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_manuscript_or_a_manuscript_error(data: bytes) -> None:
    try:
        assert isinstance(read_docx(data), Manuscript)
    except ManuscriptError as error:
        assert error.code in ("manuscript_not_docx", "manuscript_corrupt")


_SAMPLE = build_docx(ANNEX3_TITLE, ANNEX3_BODY, ANNEX3_FOOTER, footer_in="textbox")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_damaged_docx_gives_a_manuscript_or_a_manuscript_error(flips: list[tuple[int, int]]) -> None:
    data = bytearray(copy.copy(_SAMPLE))
    for position, value in flips:
        data[position] = value
    try:
        assert isinstance(read_docx(bytes(data)), Manuscript)
    except ManuscriptError as error:
        assert error.code in ("manuscript_not_docx", "manuscript_corrupt")
