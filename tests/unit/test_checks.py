"""Each rule on plain values: the codes it yields and the Chinese it says."""

from __future__ import annotations

from mailbot.domain.checks import CATALOGUE, Facts, Rules, evaluate, reason
from mailbot.domain.footer import Drafter, Footer
from mailbot.domain.manuscript import Manuscript
from mailbot.domain.photos import Photo
from mailbot.domain.submission import Finding, FoundFile, Submission

GOOD_FOOTER = Footer(
    drafters=(Drafter("张三", "盘山县应急管理局（办公室）"),),
    first_reviewer="李四",
    second_reviewer="王五",
    placeholders=(),
)
BIG = Photo("现场.jpg", 1600, 1200, "JPEG", 300_000)


def manuscript(
    title: str = "盘山县开展应急演练", body: tuple[str, ...] = ("演练内容。" * 20,), footer: Footer = GOOD_FOOTER
) -> Manuscript:
    return Manuscript(title=title, body=body, footer=footer, body_chars=sum(len(p) for p in body), images=())


def submission(
    ms: Manuscript | None = None,
    photos: tuple[Photo, ...] = (BIG,),
    extra: tuple[FoundFile, ...] = (),
    findings: tuple[Finding, ...] = (),
) -> Submission:
    ms = ms or manuscript()
    files = (FoundFile("a.zip/稿件.docx", b"", "manuscript"), *extra)
    return Submission(
        files=files, manuscripts=(("a.zip/稿件.docx", ms),), legacy_documents=(), photos=photos, findings=findings
    )


def codes(
    sub: Submission, kind: str = "routine", size: int = 1000, text: str = "", rules: Rules = Rules()
) -> list[str]:
    return [r.code for r in evaluate(Facts(sub, kind, size, text), rules).problems]


def test_good_submission_passes() -> None:
    verdict = evaluate(Facts(submission(), "routine", 1000, ""), Rules())
    assert verdict.accepted and verdict.warnings == ()


def test_every_missing_field_is_reported_at_once() -> None:
    footer = Footer(drafters=(), first_reviewer=None, second_reviewer=None, placeholders=("撰稿人", "初审人"))
    got = codes(submission(manuscript(title="", body=(), footer=footer)))
    # 撰稿人 and 初审人 were left as "XXX": named once, in the placeholder reason, not again as missing.
    assert got == ["missing_title", "empty_body", "missing_second_reviewer", "placeholder_left"]


def test_a_footer_full_of_placeholders_gives_one_reason_naming_every_field() -> None:
    footer = Footer(drafters=(), first_reviewer=None, second_reviewer=None, placeholders=("撰稿人", "初审人", "复审人"))
    body = ("XXX同志带队检查了XXX。",)
    problems = evaluate(
        Facts(submission(manuscript(title="关于XXX的报道", body=body, footer=footer)), "routine", 1000, ""), Rules()
    ).problems
    assert [p.code for p in problems] == ["placeholder_left"]
    assert "标题、正文、撰稿人、初审人、复审人中还留有模板占位符" in problems[0].message


def test_placeholders_in_title_and_body() -> None:
    sub = submission(manuscript(title="市应急局参加XXX企业演练", body=("XX公司开展演练。",)))
    verdict = evaluate(Facts(sub, "routine", 1, ""), Rules())
    assert [(r.code, r.detail) for r in verdict.problems] == [("placeholder_left", "标题、正文")]
    assert "标题、正文中还留有模板占位符" in verdict.problems[0].message


def test_photos_required_for_news_not_for_research() -> None:
    assert codes(submission(photos=())) == ["missing_photos"]
    long_body = ("调研内容。" * 500,)
    assert codes(submission(manuscript(body=long_body), photos=()), kind="research") == []
    assert codes(submission(photos=()), rules=Rules(require_photos=False)) == []


def test_research_length_boundary() -> None:
    def with_chars(n: int) -> Submission:
        return submission(Manuscript("调研报告", ("字" * n,), GOOD_FOOTER, n, ()))

    assert codes(with_chars(1999), kind="research") == ["research_too_short"]
    assert codes(with_chars(2000), kind="research") == []
    assert codes(with_chars(1999), kind="routine") == []


def test_tiny_photos_reject_only_when_nothing_better_exists() -> None:
    tiny = Photo("小图.jpg", 160, 120, "JPEG", 3000)
    assert codes(submission(photos=(tiny,))) == ["photo_too_small"]
    verdict = evaluate(Facts(submission(photos=(BIG, tiny)), "routine", 1, ""), Rules())
    assert verdict.accepted and [w.code for w in verdict.warnings] == ["photo_too_small"]


def test_broken_photo_is_named() -> None:
    broken = Photo("坏.jpg", problem="photo_broken")
    verdict = evaluate(Facts(submission(photos=(BIG, broken)), "routine", 1, ""), Rules())
    assert [(r.code, r.detail) for r in verdict.problems] == [("photo_broken", "坏.jpg")]
    assert "坏.jpg" in verdict.problems[0].message


def test_no_attachment_vs_large_attachment_link() -> None:
    empty = Submission((), (), (), (), ())
    assert codes(empty) == ["no_attachment"]
    assert codes(empty, text="从QQ邮箱发来的超大附件 下载") == ["large_attachment_link"]


def test_oversized_message() -> None:
    assert codes(submission(), size=60 * 1024 * 1024) == ["oversized_message"]


def test_archive_problem_suppresses_manuscript_noise() -> None:
    sub = Submission((FoundFile("a.zip", b"", "archive"),), (), (), (), (Finding("archive_encrypted", "a.zip"),))
    assert codes(sub) == ["archive_encrypted"]


def test_legacy_and_multiple_manuscripts() -> None:
    legacy = Submission((FoundFile("a.zip/稿件.doc", b"", "legacy"),), (), ("稿件.doc",), (), ())
    assert codes(legacy) == ["legacy_document"]
    two = Submission(
        (FoundFile("z/一.docx", b"", "manuscript"), FoundFile("z/二.docx", b"", "manuscript")),
        (("z/一.docx", manuscript()), ("z/二.docx", manuscript())),
        (),
        (BIG,),
        (),
    )
    assert codes(two) == ["multiple_manuscripts"]


def test_drafter_without_unit_is_a_warning() -> None:
    footer = Footer((Drafter("张三", None),), "李四", "王五", ())
    verdict = evaluate(Facts(submission(manuscript(footer=footer)), "routine", 1, ""), Rules())
    assert verdict.accepted and [w.code for w in verdict.warnings] == ["missing_drafter_unit"]


def test_catalogue_renders_every_code_in_chinese() -> None:
    for code in CATALOGUE:
        r = reason(code, "示例.docx")
        assert r.message and r.hint and "{" not in r.message + r.hint


# ---- readings of 二(三), 一(二)2 and annex 1 -------------------------------------------------------------


def test_reading_6_three_reviews_by_three_people() -> None:
    """二(三) 三审: 科室负责人初审, 分管领导复审, 办公室终审 — one person may not fill two roles."""
    same = Footer(
        drafters=(Drafter("张三", "宣教科"),), first_reviewer="李四", second_reviewer="李 四", placeholders=()
    )
    verdict = evaluate(Facts(submission(manuscript(footer=same)), "routine", 1, ""), Rules())
    (problem,) = verdict.problems
    assert problem.code == "same_reviewer"
    assert "初审人和复审人是同一人（李四）" in problem.message and "不同的人" in problem.message
    assert "分别写明两位审核人的姓名" in problem.hint
    own = Footer(drafters=(Drafter("张三", "宣教科"),), first_reviewer="张三", second_reviewer="王五", placeholders=())
    (problem,) = evaluate(Facts(submission(manuscript(footer=own)), "routine", 1, ""), Rules()).problems
    assert problem.code == "reviewer_is_drafter"
    assert problem.message.startswith("张三（撰稿人、初审人）既是撰稿人又是审核人")
    assert codes(submission(manuscript(footer=same)), rules=Rules(distinct_reviewers=False)) == []
    assert codes(submission()) == []  # 张三 drafts, 李四 and 王五 review


def test_reading_7_a_short_tagged_piece_is_told_where_the_tag_was() -> None:
    sub = submission(Manuscript("汛期调研", ("字" * 100,), GOOD_FOOTER, 100, ()))
    facts = Facts(sub, "research", 1, "", kind_where="邮件主题中的“【调研】”")
    (problem,) = evaluate(facts, Rules()).problems
    assert problem.code == "research_too_short"
    assert "依据邮件主题中的“【调研】”" in problem.message and "正文为 100 字，不足 2000 字" in problem.message
    assert "请去掉邮件主题中的“【调研】”后重新发送" in problem.hint


def test_reading_8_photos_where_annex_1_asks_for_text_and_images() -> None:
    """News items (文字+影像) need photos; 调研/经验 pieces and photo-less columns (部门文件, 文件解读) do not."""
    long_body = submission(manuscript(body=("内容。" * 1000,)), photos=())
    assert codes(long_body) == ["missing_photos"]
    assert codes(long_body, kind="experience") == []
    assert [r.code for r in evaluate(Facts(long_body, "routine", 1, "", photos_needed=False), Rules()).problems] == []
    assert codes(long_body, kind="research", rules=Rules(photo_kinds=("routine", "research"))) == ["missing_photos"]


def test_experience_pieces_have_the_same_minimum_length_as_research() -> None:
    def with_chars(n: int) -> Submission:
        return submission(Manuscript("经验材料", ("字" * n,), GOOD_FOOTER, n, ()))

    assert codes(with_chars(1999), kind="experience") == ["research_too_short"]
    assert codes(with_chars(2000), kind="experience") == []
