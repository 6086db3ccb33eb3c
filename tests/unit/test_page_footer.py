"""The 撰稿人/初审人/复审人 lines typed into Word's page footer (页脚): read after the body, with a warning."""

from __future__ import annotations

from mailbot.domain.archive import Limits
from mailbot.domain.checks import Facts, Rules, evaluate
from mailbot.domain.footer import Drafter, Footer, fill_missing
from mailbot.domain.manuscript import read_docx
from mailbot.domain.mime import Attachment
from mailbot.domain.submission import FoundFile, Submission, unpack
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.photos import make_photo

TITLE = "兴隆台区开展危化品企业安全检查"
BODY = ["6月3日，兴隆台区应急管理局组织专家对辖区12家危化品企业开展安全检查，发现并督促整改隐患23处。"]
PAGE = ["撰稿人：兴隆台区应急管理局（危化科）刘洋", "初审人：陈明    复审人：周立"]
EMPTY = Footer((), None, None, ())


def test_fill_missing_takes_only_what_the_body_lacks() -> None:
    page = Footer((Drafter("刘洋", None),), "陈明", "周立", ())
    body = Footer((Drafter("张三", "办公室"),), None, "王五", ())
    footer, taken = fill_missing(body, page)
    assert footer == Footer((Drafter("张三", "办公室"),), "陈明", "王五", ())
    assert taken == ("初审人",)
    assert fill_missing(EMPTY, EMPTY) == (EMPTY, ())


def test_fill_missing_keeps_a_body_placeholder_and_page_placeholders_for_missing_fields() -> None:
    body = Footer((), None, None, ("初审人",))
    page = Footer((Drafter("刘洋", None),), "陈明", None, ("复审人",))
    footer, taken = fill_missing(body, page)
    assert (footer.first_reviewer, footer.placeholders, taken) == (None, ("初审人", "复审人"), ("撰稿人",))


def test_footer_in_the_page_footer_is_read_and_marked() -> None:
    ms = read_docx(build_docx(TITLE, BODY, PAGE, footer_in="page_footer"))
    assert ms.footer.drafters == (Drafter("刘洋", "兴隆台区应急管理局（危化科）"),)
    assert (ms.footer.first_reviewer, ms.footer.second_reviewer) == ("陈明", "周立")
    assert ms.footer_from_page == ("撰稿人", "初审人", "复审人")
    assert ms.body == tuple(BODY)  # the page number and the footer stay out of the body


def test_the_body_wins_over_the_page_footer() -> None:
    body_footer = ["撰稿人：兴隆台区应急管理局（办公室）王丽", "初审人：赵强", "复审人：孙伟"]
    ms = read_docx(build_docx(TITLE, BODY, PAGE, footer_in="page_footer", notes=body_footer))
    assert (ms.footer.drafters[0].name, ms.footer.first_reviewer, ms.footer.second_reviewer) == ("王丽", "赵强", "孙伟")
    assert ms.footer_from_page == ()
    partial = read_docx(build_docx(TITLE, BODY, PAGE, footer_in="page_footer", notes=body_footer[:1]))
    assert (partial.footer.drafters[0].name, partial.footer.first_reviewer) == ("王丽", "陈明")
    assert partial.footer_from_page == ("初审人", "复审人")


def test_page_footer_submission_is_accepted_with_the_warning() -> None:
    archive = build_zip(
        [("检查.docx", build_docx(TITLE, BODY, PAGE, footer_in="page_footer")), ("现场.jpg", make_photo(seed=31))]
    )
    sub = unpack((Attachment("检查.zip", "application/zip", archive),), Limits())
    verdict = evaluate(Facts(sub, "routine", len(archive), ""), Rules())
    assert verdict.accepted, [r.code for r in verdict.problems]
    (warning,) = verdict.warnings
    assert warning.code == "footer_in_page_footer" and warning.detail == "撰稿人、初审人、复审人"
    assert "应写在正文末尾，本次已从页脚读取" in warning.hint


def test_placeholders_in_the_page_footer_are_still_refused() -> None:
    template = ["撰稿人：XX单位（科室）XXX", "初审人：XXX    复审人：XXX"]
    ms = read_docx(build_docx(TITLE, BODY, template, footer_in="page_footer"))
    sub = Submission((FoundFile("a.docx", b"", "manuscript"),), (("a.docx", ms),), (), (), ())
    facts = Facts(sub, "routine", 1, "", photos_needed=False)
    problems = evaluate(facts, Rules()).problems
    # Every field left as XXX is named once, in the placeholder reason.
    assert [r.code for r in problems] == ["placeholder_left"]
    assert "撰稿人、初审人、复审人" in problems[0].message
