"""The bureau's submission rules, one small function each, over plain values.

Every failed rule is a `Reason`: a stable code (for logs, tests and statistics), the problem in plain
Chinese, and what the liaison should do, so that one corrected re-send fixes everything at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailbot.domain.footer import has_placeholder
from mailbot.domain.submission import Finding, Submission
from mailbot.domain.vocabulary import ItemKind

# code -> (what is wrong, how to fix it); {detail} is the file, field or figure concerned.
CATALOGUE: dict[str, tuple[str, str]] = {
    "no_attachment": ("邮件中没有附件。", "请将稿件（.docx）和照片压缩成一个压缩包，作为附件发送。"),
    "large_attachment_link": (
        "附件是以“超大附件”下载链接的形式发送的，系统无法下载。",
        "请压缩照片后以普通附件发送，或分成几封邮件发送（每封不超过 20MB）。",
    ),
    "oversized_message": ("邮件过大（{detail}）。", "请压缩照片（每张 1-2MB 即可）后重新发送。"),
    "no_manuscript": ("附件中没有找到 Word 稿件（.docx）。", "请把稿件（.docx 格式）和照片一起压缩后发送。"),
    "legacy_document": (
        "稿件“{detail}”是旧版 Word 或 WPS 格式，系统无法读取。",
        "请在 Word 或 WPS 中“另存为” .docx 格式后重新发送。",
    ),
    "multiple_manuscripts": (
        "一个压缩包中有多篇稿件（{detail}）。",
        "按照“一事一报”，每封邮件只报送一篇稿件，请分开发送。",
    ),
    "archive_corrupt": ("压缩包“{detail}”已损坏，无法打开。", "请重新压缩后发送（建议使用 zip 格式）。"),
    "archive_encrypted": ("压缩包“{detail}”设置了密码，系统无法打开。", "请去掉密码，重新压缩后发送。"),
    "archive_unsafe_path": (
        "压缩包中的文件“{detail}”路径不安全（含“..”、绝对路径或快捷方式）。",
        "请只压缩稿件和照片本身，重新发送。",
    ),
    "archive_too_large": ("压缩包解压后过大（{detail}）。", "请压缩照片后重新发送。"),
    "archive_too_many_members": ("压缩包中的文件过多（{detail}）。", "请只放入稿件和相关照片，重新压缩后发送。"),
    "archive_bomb": ("压缩包“{detail}”的压缩比异常，疑似恶意文件，已拒收。", "请直接压缩稿件和照片后重新发送。"),
    "archive_nested_too_deep": (
        "压缩包中嵌套了多层压缩包（{detail}）。",
        "请把所有文件放入同一个压缩包，不要层层嵌套。",
    ),
    "archive_unsupported": ("附件“{detail}”的压缩格式无法识别。", "请使用 zip、7z 或 rar 格式压缩。"),
    "manuscript_not_docx": (
        "稿件“{detail}”不是真正的 .docx 文件（可能是改了扩展名的 .doc、.wps，或设置了打开密码）。",
        "请去掉文档密码，在 Word 或 WPS 中“另存为” .docx 格式后重新发送。",
    ),
    "manuscript_corrupt": ("稿件“{detail}”已损坏，无法打开。", "请在 Word 中打开确认无误后重新保存并发送。"),
    "missing_title": ("稿件没有标题。", "请在正文第一行写明标题。"),
    "empty_body": ("稿件正文为空。", "请补充正文内容后重新发送。"),
    "missing_drafter": ("稿件末尾缺少撰稿人。", "请在文末注明“撰稿人：单位（科室）姓名”。"),
    "missing_first_reviewer": ("稿件末尾缺少初审人。", "请在文末注明“初审人：姓名”（科室负责人初审）。"),
    "missing_second_reviewer": ("稿件末尾缺少复审人。", "请在文末注明“复审人：姓名”（分管领导复审）。"),
    "placeholder_left": ("{detail}中还留有模板占位符“XXX”。", "请把“XXX”替换为实际内容后重新发送。"),
    "missing_photos": ("新闻类信息需要“文字+影像”，但没有找到照片。", "请把现场照片（jpg 格式）和稿件一起压缩后发送。"),
    "photo_broken": ("照片“{detail}”无法打开，可能已损坏。", "请重新导出这张照片后发送。"),
    "photo_bomb": ("照片“{detail}”的像素数异常，已拒收。", "请发送相机或手机拍摄的原图。"),
    "photo_unsupported": (
        "照片“{detail}”是 HEIC 等格式，部分电脑无法打开。",
        "请在手机上设置为“兼容格式”或转成 jpg 后发送。",
    ),
    "photo_too_small": ("照片“{detail}”尺寸过小，像是缩略图。", "请发送原图（长边不小于 {min_side} 像素）。"),
    "research_too_short": (
        "调研/经验类信息正文为 {detail} 字，不足 {min_chars} 字。",
        "请补充内容至 {min_chars} 字以上；如是常规信息，请去掉主题中的【调研】【经验】字样。",
    ),
    "solicitation_unknown": (
        "主题中写了“约稿”，但没有找到对应的约稿任务（{detail}）。",
        "本稿已按常规信息登记；如是约稿，请在主题中写明约稿题目，例如“【约稿】题目”。",
    ),
    "column_unknown": (
        "没有名为“{detail}”的栏目，本稿已按常规信息登记。",
        "如需报送栏目稿件，请在邮件主题开头写明栏目名称，例如【动态要闻】。可用栏目：{columns}。",
    ),
    "column_near_miss": ("栏目“{detail}”已按“{column}”登记。", "如登记有误，请联系办公室更正。"),
    "missing_drafter_unit": (
        "撰稿人“{detail}”未注明单位（科室）。",
        "可按“撰稿人：单位（科室）姓名”格式注明，本次按发件单位计分。",
    ),
}


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    hint: str
    detail: str = ""


@dataclass(frozen=True)
class Rules:
    require_photos: bool = True
    min_photo_side: int = 600
    min_research_chars: int = 2000
    max_message_bytes: int = 50 * 1024 * 1024


@dataclass(frozen=True)
class Facts:
    """What the rules look at: the unpacked submission plus a few facts of the email itself."""

    submission: Submission
    kind: str  # routine | research | experience
    message_bytes: int
    body_text: str
    photos_needed: bool | None = None  # a column's own rule; None: news items (routine) need photos

    @property
    def needs_photos(self) -> bool:
        return self.kind == ItemKind.ROUTINE if self.photos_needed is None else self.photos_needed


@dataclass(frozen=True)
class CheckResult:
    """The problems (any one rejects the submission) and warnings (told, not fatal) found in it."""

    problems: tuple[Reason, ...]
    warnings: tuple[Reason, ...]

    @property
    def accepted(self) -> bool:
        return not self.problems


def reason(code: str, detail: str = "", rules: Rules = Rules(), **extra: str) -> Reason:
    message, hint = CATALOGUE[code]
    values = {
        "detail": detail,
        "min_side": rules.min_photo_side,
        "min_chars": rules.min_research_chars,
        "columns": "",
        "column": "",
        **extra,
    }
    return Reason(code, message.format(**values), hint.format(**values), detail)


Check = Callable[[Facts, Rules], Iterator[Finding]]


def check_message(facts: Facts, rules: Rules) -> Iterator[Finding]:
    if facts.message_bytes > rules.max_message_bytes:
        yield Finding("oversized_message", f"{facts.message_bytes / 1048576:.1f} MB")
    if not facts.submission.files:
        text = facts.body_text
        if "超大附件" in text or "文件中转站" in text or "largefile" in text.lower():
            yield Finding("large_attachment_link")
        else:
            yield Finding("no_attachment")


def check_unpacking(facts: Facts, rules: Rules) -> Iterator[Finding]:
    yield from facts.submission.findings


def check_manuscript_count(facts: Facts, rules: Rules) -> Iterator[Finding]:
    sub = facts.submission
    if not sub.files or any(f.code.startswith("archive_") for f in sub.findings):
        return
    docx_seen = any(f.kind == "manuscript" for f in sub.files)
    if sub.legacy_documents and not docx_seen:
        for name in sub.legacy_documents:
            yield Finding("legacy_document", name)
    elif not docx_seen:
        yield Finding("no_manuscript")
    elif len([f for f in sub.files if f.kind == "manuscript"]) > 1:
        names = [f.path.rsplit("/", 1)[-1] for f in sub.files if f.kind == "manuscript"]
        yield Finding("multiple_manuscripts", "、".join(names))


def check_fields(facts: Facts, rules: Rules) -> Iterator[Finding]:
    ms = facts.submission.manuscript
    if ms is None:
        return
    if not ms.title.strip():
        yield Finding("missing_title")
    if not ms.body_chars:
        yield Finding("empty_body")
    footer = ms.footer
    if not footer.drafters:
        yield Finding("missing_drafter")
    if not footer.first_reviewer:
        yield Finding("missing_first_reviewer")
    if not footer.second_reviewer:
        yield Finding("missing_second_reviewer")
    if has_placeholder(ms.title):
        yield Finding("placeholder_left", "标题")
    if any(has_placeholder(p) for p in ms.body):
        yield Finding("placeholder_left", "正文")
    if footer.placeholders:
        yield Finding("placeholder_left", "、".join(footer.placeholders))


def check_photos(facts: Facts, rules: Rules) -> Iterator[Finding]:
    if facts.submission.manuscript is None:
        return
    photos = facts.submission.photos
    for p in photos:
        if p.problem:
            yield Finding(p.problem, p.name)
    usable = [p for p in photos if not p.problem]
    if rules.require_photos and facts.needs_photos and not photos:
        yield Finding("missing_photos")
    elif usable and all(max(p.width, p.height) < rules.min_photo_side for p in usable):
        yield from (Finding("photo_too_small", p.name) for p in usable)


def check_length(facts: Facts, rules: Rules) -> Iterator[Finding]:
    ms = facts.submission.manuscript
    if ms is not None and facts.kind != ItemKind.ROUTINE and 0 < ms.body_chars < rules.min_research_chars:
        yield Finding("research_too_short", str(ms.body_chars))


CHECKS: tuple[Check, ...] = (
    check_message,
    check_unpacking,
    check_manuscript_count,
    check_fields,
    check_photos,
    check_length,
)


def warnings_for(facts: Facts, rules: Rules) -> Iterator[Finding]:
    """Worth telling the liaison, not worth a rejection."""
    ms = facts.submission.manuscript
    if ms is not None:
        yield from (Finding("missing_drafter_unit", d.name) for d in ms.footer.drafters if not d.unit)
    usable = [p for p in facts.submission.photos if not p.problem]
    if any(max(p.width, p.height) >= rules.min_photo_side for p in usable):
        yield from (Finding("photo_too_small", p.name) for p in usable if max(p.width, p.height) < rules.min_photo_side)


def evaluate(facts: Facts, rules: Rules) -> CheckResult:
    problems = [f for check in CHECKS for f in check(facts, rules)]
    unique = list(dict.fromkeys(problems))
    return CheckResult(
        problems=tuple(reason(f.code, f.detail, rules) for f in unique),
        warnings=tuple(reason(f.code, f.detail, rules) for f in dict.fromkeys(warnings_for(facts, rules))),
    )
