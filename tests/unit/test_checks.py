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
    assert got == [
        "missing_title",
        "empty_body",
        "missing_drafter",
        "missing_first_reviewer",
        "missing_second_reviewer",
        "placeholder_left",
    ]


def test_placeholders_in_title_and_body() -> None:
    sub = submission(manuscript(title="市应急局参加XXX企业演练", body=("XX公司开展演练。",)))
    verdict = evaluate(Facts(sub, "routine", 1, ""), Rules())
    assert [(r.code, r.detail) for r in verdict.problems] == [
        ("placeholder_left", "标题"),
        ("placeholder_left", "正文"),
    ]
    assert "标题中还留有模板占位符" in verdict.problems[0].message


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


def test_experience_pieces_have_the_same_minimum_length_as_research() -> None:
    def with_chars(n: int) -> Submission:
        return submission(Manuscript("经验材料", ("字" * n,), GOOD_FOOTER, n, ()))

    assert codes(with_chars(1999), kind="experience") == ["research_too_short"]
    assert codes(with_chars(2000), kind="experience") == []
