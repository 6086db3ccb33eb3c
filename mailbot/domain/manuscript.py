"""Read a liaison's .docx manuscript: title, body, footer and embedded photos.

Liaisons write in Word or WPS with whatever layout they like: titles broken over lines,
footers in tables, text boxes or Word's page footer (页脚), photos inline or floating. The
document body is walked as XML (python-docx does not expose text boxes) in document order, and
the caller gets either a Manuscript or a ManuscriptError for any input bytes whatsoever.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mailbot.domain.docx_package import ManuscriptError, check_package
from mailbot.domain.footer import Footer, fill_missing, is_footer_line, parse_footer

if TYPE_CHECKING:  # python-docx and lxml load with the first manuscript read (in the analysis worker):
    from docx.document import Document  # the daemon that unpickles a Manuscript need not carry them
    from lxml import etree

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# Walking the XML costs ~35 µs a paragraph, and 400,000 empty paragraphs deflate to 80 KB:
# a manuscript is a few hundred paragraphs, a long report with tables a few thousand.
_MAX_BLOCKS = 50_000

_MAX_TITLE_LINES = 3
_MAX_TITLE_LINE_CHARS = 40
_SENTENCE_END = ("。", "！", "？", "；", "!", "?", ";")
# "一、基本情况", "（一）", "1." start a section of the body, never a title's second line.
_LIST_MARKER = re.compile(r"[（(]?[一二三四五六七八九十\d]+[、.．）)]")
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_A_BLIP = "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
_V_IMAGEDATA = "{urn:schemas-microsoft-com:vml}imagedata"
# Word wraps blocks, rows and cells in content controls and custom XML; look through them.
_WRAPPERS = frozenset({f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"})
# Revisions that are not shown: deleted runs (w:delText) and text moved away (w:t).
_HIDDEN = frozenset({f"{_W}del", f"{_W}moveFrom"})
_TRUE_VALUES = frozenset({"1", "true", "on"})


@dataclass(frozen=True)
class Manuscript:
    """A manuscript as the checks see it; ``body_chars`` counts like Word's 字数 (no spaces)."""

    title: str
    body: tuple[str, ...]
    footer: Footer
    body_chars: int
    images: tuple[tuple[str, bytes], ...]
    footer_from_page: tuple[str, ...] = ()  # labels read from Word's page footer, not the body


def read_docx(data: bytes) -> Manuscript:
    """Read the manuscript; any failure at all becomes a ManuscriptError.

    The catch is broad on purpose: python-docx and zipfile leak zlib.error, EOFError,
    KeyError, RuntimeError and lxml errors on damaged files (python-docx #1561).
    """
    if data.startswith(_OLE_MAGIC):
        raise ManuscriptError("manuscript_not_docx", "an OLE2 file (Word 97-2003 .doc or WPS .wps) named .docx")
    if not data.startswith(_ZIP_MAGICS):
        raise ManuscriptError("manuscript_not_docx", "not a zip package, so not a .docx")
    try:
        check_package(data)
        import docx

        document = docx.Document(io.BytesIO(data))
        if document.element.getroottree().docinfo.doctype:
            raise ManuscriptError("manuscript_corrupt", "document.xml declares a DTD")
        return _read(document)
    except ManuscriptError:
        raise
    except Exception as exc:  # noqa: BLE001 - the one boundary where bytes become a Manuscript
        raise ManuscriptError("manuscript_corrupt", f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class _Line:
    """One line of visible text with what tells a title from body text."""

    text: str
    centred: bool
    bold: bool
    heading: bool
    box: int | None  # which text box holds it; None for the main flow and tables

    @property
    def look(self) -> tuple[bool, bool, bool]:
        return self.centred, self.bold, self.heading

    @property
    def looks_like_title(self) -> bool:
        return (
            (self.centred or self.bold or self.heading)
            and len(self.text) <= _MAX_TITLE_LINE_CHARS
            and not self.text.endswith(_SENTENCE_END)
        )


def _read(document: Document) -> Manuscript:
    blocks = document.element.body.xpath("count(.//w:p | .//w:tr | .//w:tc)")  # counted in C
    if blocks > _MAX_BLOCKS:
        raise ManuscriptError("manuscript_corrupt", f"{blocks:.0f} paragraphs and table cells")
    walker = _Walker(document)
    walker.block(document.element.body, None)
    lines = [line for line in walker.lines if line.text]

    # A footer text box counts where it is anchored (normally the last paragraph), but one
    # anchored in the title paragraph must not split the title, so the title skips it.
    footer_boxes = {line.box for line in lines if line.box is not None and is_footer_line(line.text)}
    flow = [index for index, line in enumerate(lines) if line.box not in footer_boxes]
    title = flow[: _title_line_count([lines[index] for index in flow])]
    body_start = title[-1] + 1 if title else 0
    footer_start = next(
        (
            index
            for index in range(body_start, len(lines))
            if lines[index].box in footer_boxes or is_footer_line(lines[index].text)
        ),
        len(lines),
    )
    body = tuple(line.text for line in lines[body_start:footer_start])
    footer_lines = [line.text for index, line in enumerate(lines) if index >= footer_start or line.box in footer_boxes]
    footer, from_page = parse_footer(footer_lines), tuple[str, ...]()
    if not (footer.drafters and footer.first_reviewer and footer.second_reviewer):
        footer, from_page = fill_missing(footer, parse_footer(_page_footer_lines(document, blocks)))
    return Manuscript(
        title="".join(lines[index].text for index in title),
        body=body,
        footer=footer,
        body_chars=sum(1 for paragraph in body for char in paragraph if not char.isspace()),
        images=walker.images(),
        footer_from_page=from_page,
    )


def _page_footer_lines(document: Document, blocks: float) -> list[str]:
    """Lines of every section's own page footers (default, first page, even pages), each part once.

    Read only when the body lacks a field, and counted against the same block limit as the body.
    """
    lines: list[str] = []
    seen: set[str] = set()
    for section in document.sections:
        for page_footer in (section.footer, section.first_page_footer, section.even_page_footer):
            if page_footer.is_linked_to_previous or str(page_footer.part.partname) in seen:
                continue  # a linked footer has no part of its own; asking for one would add it
            seen.add(str(page_footer.part.partname))
            element = page_footer._element
            blocks += element.xpath("count(.//w:p | .//w:tr | .//w:tc)")
            if blocks > _MAX_BLOCKS:
                raise ManuscriptError("manuscript_corrupt", f"{blocks:.0f} paragraphs and table cells with footers")
            walker = _Walker(document)
            walker.block(element, None)
            lines.extend(line.text for line in walker.lines if line.text)
    return lines


def _title_line_count(flow: list[_Line]) -> int:
    """How many leading lines form the title: a title broken over up to three short lines."""
    if not flow:
        return 0
    first = flow[0]
    if not first.looks_like_title:
        return 1
    count = 1
    while count < min(len(flow), _MAX_TITLE_LINES):
        line = flow[count]
        if not (
            line.look == first.look
            and line.looks_like_title
            and not is_footer_line(line.text)
            and not _LIST_MARKER.match(line.text)
        ):
            break
        count += 1
    return count


class _Walker:
    """Collects visible lines and image references from the body XML in document order."""

    def __init__(self, document: Document) -> None:
        self.lines: list[_Line] = []
        self._document = document
        self._image_ids: list[str] = []
        self._boxes = 0
        self._style_looks: dict[str | None, tuple[bool, bool, bool]] = {}
        self._run_style_bold: dict[str, bool | None] = {}

    def block(self, container: etree._Element, box: int | None) -> None:
        for child in container:
            if child.tag == f"{_W}p":
                self._paragraph(child, box)
            elif child.tag == f"{_W}tbl":
                self._table(child, box)
            elif child.tag == f"{_MC}AlternateContent":
                branch = _chosen_branch(child)
                if branch is not None:
                    self.block(branch, box)
            elif child.tag in _WRAPPERS:
                self.block(child, box)

    def images(self) -> tuple[tuple[str, bytes], ...]:
        """Image parts the body shows, once each, in the order they first appear."""
        rels = self._document.part.rels
        found: dict[str, bytes] = {}
        for rel_id in self._image_ids:
            rel = rels.get(rel_id)
            if rel is None or rel.is_external:
                continue
            part = rel.target_part
            if part.content_type.startswith("image/"):
                found.setdefault(str(part.partname), part.blob)
        return tuple(found.items())

    def _paragraph(self, paragraph: etree._Element, box: int | None) -> None:
        pieces: list[str] = []
        boxes: list[etree._Element] = []
        self._inline(paragraph, pieces, boxes)
        centred, style_bold, heading = self._paragraph_look(paragraph)
        bold = self._all_runs_bold(paragraph, style_bold)
        for text in "".join(pieces).split("\n"):
            self.lines.append(_Line(_INVISIBLE.sub("", text).strip(), centred, bold, heading, box))
        # A text box reads after its anchor paragraph's own text: a footer box anchored in
        # the last body paragraph must not cut that paragraph off the body.
        for content in boxes:
            self._boxes += 1
            self.block(content, self._boxes)

    def _inline(self, element: etree._Element, pieces: list[str], boxes: list[etree._Element]) -> None:
        for child in element:
            tag = child.tag
            if not isinstance(tag, str) or tag in _HIDDEN:
                continue  # comments, processing instructions, entity references, revisions
            if tag == f"{_W}t":
                pieces.append(child.text or "")
            elif tag in (f"{_W}tab", f"{_W}ptab"):
                pieces.append("\t")
            elif tag in (f"{_W}br", f"{_W}cr"):
                pieces.append("\n")
            elif tag == f"{_W}noBreakHyphen":
                pieces.append("-")
            elif tag == f"{_W}txbxContent":
                boxes.append(child)
            elif tag == f"{_MC}AlternateContent":
                branch = _chosen_branch(child)
                if branch is not None:
                    self._inline(branch, pieces, boxes)
            elif tag == _A_BLIP:
                self._image_ids.append(child.get(f"{_R}embed", ""))
            elif tag == _V_IMAGEDATA:
                self._image_ids.append(child.get(f"{_R}id", ""))
            else:
                self._inline(child, pieces, boxes)

    def _table(self, table: etree._Element, box: int | None) -> None:
        """One line per row with cells tab-separated, so "撰稿人：" | "张三" reads as a line.

        A row with a single filled cell keeps that cell's lines: a whole footer typed in one
        cell stays several lines.
        """
        for row in _children(table, f"{_W}tr"):
            cells: list[list[_Line]] = []
            for cell in _children(row, f"{_W}tc"):
                start = len(self.lines)
                self.block(cell, box)
                cell_lines = [line for line in self.lines[start:] if line.text]
                del self.lines[start:]
                if cell_lines:
                    cells.append(cell_lines)
            if len(cells) == 1:
                self.lines.extend(cells[0])
            elif cells:
                flat = [line for cell in cells for line in cell]
                self.lines.append(
                    _Line(
                        "\t".join(" ".join(line.text for line in cell) for cell in cells),
                        centred=all(line.centred for line in flat),
                        bold=all(line.bold for line in flat),
                        heading=False,
                        box=box,
                    )
                )

    def _paragraph_look(self, paragraph: etree._Element) -> tuple[bool, bool, bool]:
        """(centred, bold by style, heading) from the paragraph and its style chain."""
        properties = paragraph.find(f"{_W}pPr")
        style_id = _val(properties, "pStyle")
        centred, bold, heading = self._style_look(style_id)
        justification = _val(properties, "jc")
        if justification is not None:
            centred = justification == "center"
        if _val(properties, "outlineLvl") not in (None, "9"):
            heading = True
        return centred, bold, heading

    def _style_look(self, style_id: str | None) -> tuple[bool, bool, bool]:
        if style_id not in self._style_looks:
            centred: bool | None = None
            bold: bool | None = None
            heading = False
            from docx.enum.style import WD_STYLE_TYPE
            from docx.enum.text import WD_PARAGRAPH_ALIGNMENT

            style = self._document.styles.get_by_id(style_id, WD_STYLE_TYPE.PARAGRAPH)
            seen: set[str] = set()
            while style is not None and style.style_id not in seen:  # basedOn may loop
                seen.add(style.style_id)
                name = (style.name or "").lower()
                heading = heading or name.startswith(("heading", "title", "标题"))
                if centred is None and style.paragraph_format.alignment is not None:
                    centred = style.paragraph_format.alignment == WD_PARAGRAPH_ALIGNMENT.CENTER
                if bold is None:
                    bold = style.font.bold
                style = style.base_style
            self._style_looks[style_id] = (bool(centred), bool(bold), heading)
        return self._style_looks[style_id]

    def _all_runs_bold(self, paragraph: etree._Element, style_bold: bool) -> bool:
        """Whether every run with visible text is bold: directly, by run style or para style."""
        runs = [
            run
            for run in paragraph.iter(f"{_W}r")
            if "".join(text.text or "" for text in run.findall(f"{_W}t")).strip()
            and next(run.iterancestors(f"{_W}p")) is paragraph  # not a text box's runs
        ]
        if not runs:
            return False
        for run in runs:
            properties = run.find(f"{_W}rPr")
            bold = _flag(properties, "b")
            if bold is None:
                bold = self._character_style_bold(_val(properties, "rStyle"))
            if not (style_bold if bold is None else bold):
                return False
        return True

    def _character_style_bold(self, style_id: str | None) -> bool | None:
        if style_id is None:
            return None
        if style_id not in self._run_style_bold:
            from docx.enum.style import WD_STYLE_TYPE

            style = self._document.styles.get_by_id(style_id, WD_STYLE_TYPE.CHARACTER)
            self._run_style_bold[style_id] = style.font.bold if style is not None else None
        return self._run_style_bold[style_id]


def _chosen_branch(alternate: etree._Element) -> etree._Element | None:
    """Word writes a text box twice (mc:Choice for wps, mc:Fallback as VML): read one."""
    choice = alternate.find(f"{_MC}Choice")
    return choice if choice is not None else alternate.find(f"{_MC}Fallback")


def _children(element: etree._Element, tag: str) -> Iterator[etree._Element]:
    """Children with the tag, looking through content-control and custom-XML wrappers."""
    for child in element:
        if child.tag == tag:
            yield child
        elif child.tag in _WRAPPERS:
            yield from _children(child, tag)


def _val(properties: etree._Element | None, name: str) -> str | None:
    if properties is None:
        return None
    element = properties.find(f"{_W}{name}")
    return None if element is None else element.get(f"{_W}val")


def _flag(properties: etree._Element | None, name: str) -> bool | None:
    """A Word on/off property: present without a value means on."""
    if properties is None:
        return None
    element = properties.find(f"{_W}{name}")
    if element is None:
        return None
    value = element.get(f"{_W}val")
    return value is None or value.lower() in _TRUE_VALUES
