"""The .docx package around the document: refused when it is a bomb or not a Word document at all.

Checked before python-docx inflates a single part, from the zip directory and the two small XML
files that name the main part and its content type.
"""

from __future__ import annotations

import io
import zipfile
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # lxml loads with the first manuscript checked (in the analysis worker)
    from lxml import etree

# A manuscript is a few hundred KB of XML plus photos; anything far beyond is a zip bomb.
# zipfile stops decompressing an entry at its declared size, so checking declared sizes
# bounds what python-docx will inflate.
_MAX_ENTRIES = 2_000
_MAX_XML_PART = 32 * 1024 * 1024
_MAX_OTHER_PART = 64 * 1024 * 1024
_MAX_TOTAL = 256 * 1024 * 1024
# What a real manuscript never comes near, counted while streaming the main part and before
# python-docx builds its tree: a 596 KB document with four million <w:br/> costs a tree of 1.3 GB.
MAX_ELEMENTS = 400_000
MAX_RUNS = 100_000
MAX_BREAKS = 20_000  # line and page breaks
MAX_TEXT_CHARS = 2_000_000
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_OFFICE_DOCUMENT_REL = "/officeDocument"
_PKG_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_CT_OVERRIDE = "{http://schemas.openxmlformats.org/package/2006/content-types}Override"


class ManuscriptError(Exception):
    """The bytes are not a readable .docx; ``code`` picks the reason given to the liaison.

    Codes: ``manuscript_not_docx`` (an OLE .doc/.wps renamed, not a zip, not a Word
    document) and ``manuscript_corrupt`` (a damaged or hostile package).
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def check_package(data: bytes) -> None:
    """Refuse bombs and non-Word packages before python-docx inflates every part."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        infos = package.infolist()
        if len(infos) > _MAX_ENTRIES:
            raise ManuscriptError("manuscript_corrupt", f"{len(infos)} zip entries")
        total = 0
        for info in infos:
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise ManuscriptError("manuscript_corrupt", f"{info.filename}: compression {info.compress_type}")
            is_xml = info.filename.endswith((".xml", ".rels"))
            if info.file_size > (_MAX_XML_PART if is_xml else _MAX_OTHER_PART):
                raise ManuscriptError("manuscript_corrupt", f"{info.filename} inflates to {info.file_size} bytes")
            total += info.file_size
        if total > _MAX_TOTAL:
            raise ManuscriptError("manuscript_corrupt", f"package inflates to {total} bytes")
        main_part = _main_part_name(package)
        content_type = _content_type(package, main_part)
        if content_type != _WORD_MAIN:
            raise ManuscriptError("manuscript_not_docx", f"main part {main_part} is {content_type or 'untyped'}")
        with package.open(main_part) as stream:
            check_complexity(stream)


def check_complexity(stream: IO[bytes]) -> None:
    """Count the main part's elements, runs, breaks and text as a stream, each element dropped once
    counted, and stop at the first bound passed: the cost stays small whatever the document holds."""
    from lxml import etree

    elements = runs = breaks = chars = 0
    parser = etree.iterparse(
        stream, events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
    )
    try:
        for _event, element in parser:
            elements += 1
            tag = element.tag
            if tag == _W + "r":
                runs += 1
            elif tag in (_W + "br", _W + "cr"):
                breaks += 1
            elif tag == _W + "t" and element.text:
                chars += len(element.text)
            if elements > MAX_ELEMENTS or runs > MAX_RUNS or breaks > MAX_BREAKS or chars > MAX_TEXT_CHARS:
                raise ManuscriptError(
                    "manuscript_too_complex",
                    f"elements>{elements}, runs>{runs}, breaks>{breaks}, chars>{chars}",
                )
            if element.getparent() is not None and tag != _W + "p":
                element.clear(keep_tail=True)
    except etree.XMLSyntaxError as exc:
        raise ManuscriptError("manuscript_corrupt", f"document.xml: {exc}") from None


def _parse_small_xml(package: zipfile.ZipFile, name: str) -> etree._Element:
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.fromstring(package.read(name), parser)


def _main_part_name(package: zipfile.ZipFile) -> str:
    """The member the package relationships name as the main document (word/document.xml)."""
    if "_rels/.rels" not in package.namelist():
        raise ManuscriptError("manuscript_not_docx", "a zip without _rels/.rels, not Office")
    for rel in _parse_small_xml(package, "_rels/.rels").iter(_PKG_RELS):
        is_main = rel.get("Type", "").endswith(_OFFICE_DOCUMENT_REL)
        if is_main and rel.get("TargetMode") != "External":
            name = rel.get("Target", "").lstrip("/")
            if name in package.namelist():
                return name
    raise ManuscriptError("manuscript_not_docx", "no main document part in the package")


def _content_type(package: zipfile.ZipFile, part_name: str) -> str | None:
    if "[Content_Types].xml" not in package.namelist():
        return None
    for override in _parse_small_xml(package, "[Content_Types].xml").iter(_CT_OVERRIDE):
        if override.get("PartName", "").lstrip("/") == part_name:
            return override.get("ContentType")
    return None
