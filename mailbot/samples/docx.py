"""Build .docx manuscripts that look like the ones liaisons send (annex 3 of the Panjin rules).

Used by the tests and by ``mailbot demo``. The layouts are the ones that trip readers up in
real life: a title broken over lines, the footer in a table or in a Word text box (written
twice, as DrawingML and as a VML fallback, exactly as Word does), photos inline.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

import docx
from docx.document import Document
from docx.enum.text import WD_PARAGRAPH_ALIGNMENT
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.run import Run

_TITLE_FONT = "方正小标宋简体"
_BODY_FONT = "仿宋_GB2312"
_TITLE_SIZE = Pt(22)  # 二号
_BODY_SIZE = Pt(16)  # 三号
_PHOTO_WIDTH = Cm(14)
# Two 三号 characters: the first-line indent of Chinese official prose.
_FIRST_LINE_INDENT = Pt(32)
_TEXTBOX_WIDTH_EMU = 5_274_310
_TEXTBOX_HEIGHT_EMU = 914_400
# A footer line's fields ("初审人：XXX    复审人：XXX") are separated by runs of spaces or tabs.
_FIELD_GAP = re.compile(r"\s{2,}|\t")
_LABEL_VALUE = re.compile(r"(?P<label>[^:：]+[:：])\s*(?P<value>.*)")

_TEXTBOX_NAMESPACES = (
    'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:v="urn:schemas-microsoft-com:vml" '
    'xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:w10="urn:schemas-microsoft-com:office:word"'
)


def build_docx(
    title: str | Sequence[str],
    paragraphs: Sequence[str],
    footer: Sequence[str],
    *,
    footer_in: str = "paragraphs",
    images: Sequence[bytes] = (),
    notes: Sequence[str] = (),
) -> bytes:
    """Return .docx bytes: title lines centred and bold, body, photos, footer, then notes.

    ``footer_in`` is "paragraphs", "table" (label and value in separate cells), "textbox" or
    "page_footer" (Word's 页脚, under a page number, as some liaisons' templates have it).
    """
    if footer_in not in ("paragraphs", "table", "textbox", "page_footer"):
        raise ValueError(f"footer_in must be paragraphs, table, textbox or page_footer, not {footer_in!r}")
    document = docx.Document()
    for line in [title] if isinstance(title, str) else title:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
        run = paragraph.add_run(line)
        run.bold = True
        _set_font(run, _TITLE_FONT, _TITLE_SIZE)
    for text in paragraphs:
        paragraph = document.add_paragraph()
        paragraph.paragraph_format.first_line_indent = _FIRST_LINE_INDENT
        _set_font(paragraph.add_run(text), _BODY_FONT, _BODY_SIZE)
    for image in images:
        paragraph = document.add_paragraph()
        paragraph.alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
        paragraph.add_run().add_picture(io.BytesIO(image), width=_PHOTO_WIDTH)
    if footer_in == "table":
        _add_footer_table(document, footer)
    elif footer_in == "textbox":
        _add_footer_textbox(document, footer)
    elif footer_in == "page_footer":
        page_footer = document.sections[0].footer
        page_footer.paragraphs[0].text = "— 1 —"
        page_footer.paragraphs[0].alignment = WD_PARAGRAPH_ALIGNMENT.CENTER
        for line in footer:
            _set_font(page_footer.add_paragraph().add_run(line), _BODY_FONT, Pt(10.5))
    else:
        for line in footer:
            _set_font(document.add_paragraph().add_run(line), _BODY_FONT, _BODY_SIZE)
    for line in notes:
        _set_font(document.add_paragraph().add_run(line), _BODY_FONT, _BODY_SIZE)
    output = io.BytesIO()
    document.save(output)
    return output.getvalue()


def _set_font(run: Run, east_asian: str, size: Pt) -> None:
    """Chinese fonts live in w:eastAsia, which python-docx's font.name does not set."""
    run.font.size = size
    run.font.name = east_asian
    run._element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)


def _add_footer_table(document: Document, footer: Sequence[str]) -> None:
    """One row per footer line, each "label：value" field split into a label and a value cell."""
    rows = [[_label_and_value(field) for field in _FIELD_GAP.split(line.strip())] for line in footer]
    width = 2 * max((len(fields) for fields in rows), default=1)
    table = document.add_table(rows=len(rows), cols=width)
    for row, fields in zip(table.rows, rows, strict=True):
        for position, (label, value) in enumerate(fields):
            row.cells[2 * position].text = label
            row.cells[2 * position + 1].text = value


def _label_and_value(field: str) -> tuple[str, str]:
    match = _LABEL_VALUE.fullmatch(field)
    return (match["label"], match["value"]) if match else (field, "")


def _add_footer_textbox(document: Document, footer: Sequence[str]) -> None:
    """A floating text box as Word 2010+ writes it: wps shape in mc:Choice, VML in mc:Fallback."""
    shape_id = document.part.next_id
    content = "".join(
        f'<w:p><w:r><w:rPr><w:rFonts w:eastAsia="{_BODY_FONT}"/><w:sz w:val="32"/></w:rPr>'
        f'<w:t xml:space="preserve">{escape(line)}</w:t></w:r></w:p>'
        for line in footer
    )
    run_xml = f"""<w:r {_TEXTBOX_NAMESPACES}><mc:AlternateContent><mc:Choice Requires="wps">
<w:drawing><wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0"
 relativeHeight="251659264" behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">
<wp:simplePos x="0" y="0"/>
<wp:positionH relativeFrom="column"><wp:posOffset>0</wp:posOffset></wp:positionH>
<wp:positionV relativeFrom="paragraph"><wp:posOffset>0</wp:posOffset></wp:positionV>
<wp:extent cx="{_TEXTBOX_WIDTH_EMU}" cy="{_TEXTBOX_HEIGHT_EMU}"/>
<wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapTopAndBottom/>
<wp:docPr id="{shape_id}" name="文本框 {shape_id}"/><wp:cNvGraphicFramePr/>
<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">
<wps:wsp><wps:cNvSpPr txBox="1"/>
<wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{_TEXTBOX_WIDTH_EMU}" cy="{_TEXTBOX_HEIGHT_EMU}"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln w="6350"><a:noFill/></a:ln></wps:spPr>
<wps:txbx><w:txbxContent>{content}</w:txbxContent></wps:txbx>
<wps:bodyPr rot="0" vert="horz" wrap="square" lIns="91440" tIns="45720" rIns="91440" bIns="45720"
 anchor="t" anchorCtr="0"><a:noAutofit/></wps:bodyPr></wps:wsp>
</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
<mc:Fallback><w:pict>
<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">
<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>
<v:shape id="文本框 {shape_id}" o:spid="_x0000_s{1025 + shape_id}" type="#_x0000_t202"
 style="position:absolute;margin-left:0;margin-top:0;width:415.3pt;height:72pt;z-index:251659264;mso-wrap-style:square;mso-position-horizontal-relative:text;mso-position-vertical-relative:text"
 filled="f" stroked="f" strokeweight=".5pt">
<v:textbox><w:txbxContent>{content}</w:txbxContent></v:textbox><w10:wrap type="topAndBottom"/>
</v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>"""
    document.add_paragraph()._p.append(parse_xml(run_xml))


def with_breaks(docx_bytes: bytes, count: int) -> bytes:
    """The same manuscript with `count` line breaks in its first run: a small file whose tree is huge
    (four million breaks compress to about 600 KB)."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                at = data.index(b"<w:t")
                data = data[:at] + b"<w:br/>" * count + data[at:]
            target.writestr(info.filename, data)
    return out.getvalue()
