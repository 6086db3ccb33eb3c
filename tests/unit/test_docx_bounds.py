"""The manuscript's XML is counted as a stream before python-docx builds it."""

from __future__ import annotations

import io
import time

import pytest

from mailbot.domain.docx_package import MAX_BREAKS, ManuscriptError, check_complexity
from mailbot.domain.manuscript import read_docx
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx, with_breaks

FOOTER = ["撰稿人：张三", "初审人：李四", "复审人：王五"]


def test_four_million_breaks_are_refused_at_once() -> None:
    bomb = with_breaks(build_docx(*STORIES["fire"], FOOTER), 4_000_000)
    started = time.process_time()
    with pytest.raises(ManuscriptError) as caught:
        read_docx(bomb)
    assert caught.value.code == "manuscript_too_complex"
    assert time.process_time() - started < 2


def test_a_real_manuscript_and_a_few_breaks_pass() -> None:
    assert read_docx(with_breaks(build_docx(*STORIES["fire"], FOOTER), MAX_BREAKS // 2)).title


@pytest.mark.parametrize(
    "xml",
    [
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
        + b"<w:p><w:r><w:t>x</w:t></w:r></w:p>" * 100_001
        + b"</w:body></w:document>",
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        + b"x" * 2_000_001
        + b"</w:t></w:r></w:p></w:body></w:document>",
    ],
)
def test_runs_and_text_are_bounded(xml: bytes) -> None:
    with pytest.raises(ManuscriptError, match="manuscript_too_complex"):
        check_complexity(io.BytesIO(xml))


def test_broken_xml_is_corrupt() -> None:
    with pytest.raises(ManuscriptError, match="manuscript_corrupt"):
        check_complexity(io.BytesIO(b"<a><b></a>"))
