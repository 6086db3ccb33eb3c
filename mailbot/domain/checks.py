"""The bureau's submission rules, one small function each, over plain values.

Every failed rule is a `Reason`: a stable code (for logs, tests and statistics), the problem in plain
Chinese, and what the liaison should do, so that one corrected re-send fixes everything at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mailbot.domain.footer import has_placeholder
from mailbot.domain.submission import Finding, Submission
from mailbot.domain.text import printable
from mailbot.domain.tnef import OUTLOOK_TNEF
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
    "outlook_tnef": (
        "附件“{detail}”是 Outlook 以 RTF（多信息文本）格式发信时生成的打包文件，已损坏，系统取不出其中的稿件和照片。",
        "请在 Outlook 中把邮件格式设置为 HTML 或纯文本：写邮件时点“设置文本格式”，选“HTML”或“纯文本”"
        "（长期设置：“文件”→“选项”→“邮件”→“使用此格式撰写邮件”选“HTML”），再重新添加附件发送。",
    ),
    "archive_unsupported": ("附件“{detail}”的压缩格式无法识别。", "请使用 zip、7z 或 rar 格式压缩。"),
    "manuscript_not_docx": (
        "稿件“{detail}”不是真正的 .docx 文件（可能是改了扩展名的 .doc、.wps，或设置了打开密码）。",
        "请去掉文档密码，在 Word 或 WPS 中“另存为” .docx 格式后重新发送。",
    ),
    "manuscript_too_complex": (
        "稿件“{detail}”结构异常复杂（含大量空行、换行或分页符），系统无法读取。",
        "请在 Word 中删去多余的空行和分页符，或将正文复制到一个新文档后“另存为”新的 .docx 文件，重新发送。",
    ),
    "manuscript_corrupt": ("稿件“{detail}”已损坏，无法打开。", "请在 Word 中打开确认无误后重新保存并发送。"),
    "missing_title": ("稿件没有标题。", "请在正文第一行写明标题。"),
    "empty_body": ("稿件正文为空。", "请补充正文内容后重新发送。"),
    "missing_drafter": ("稿件末尾缺少撰稿人。", "请在文末注明“撰稿人：单位（科室）姓名”。"),
    "missing_first_reviewer": ("稿件末尾缺少初审人。", "请在文末注明“初审人：姓名”（科室负责人初审）。"),
    "missing_second_reviewer": ("稿件末尾缺少复审人。", "请在文末注明“复审人：姓名”（分管领导复审）。"),
    "same_reviewer": (
        "初审人和复审人是同一人（{detail}）。“三审”要求由不同的人把关：科室负责人初审，科室分管领导复审，办公室终审。",
        "请由科室负责人初审、分管领导复审，在文末分别写明两位审核人的姓名后重新发送。",
    ),
    "reviewer_is_drafter": (
        "{detail}既是撰稿人又是审核人。“三审”要求审核人不能审核自己撰写的稿件。",
        "请由撰稿人以外的科室负责人初审、分管领导复审，改正文末署名后重新发送。",
    ),
    "placeholder_left": ("{detail}中还留有模板占位符“XXX”。", "请把“XXX”替换为实际内容后重新发送。"),
    "missing_photos": ("新闻类信息需要“文字+影像”，但没有找到照片。", "请把现场照片（jpg 格式）和稿件一起压缩后发送。"),
    "photo_broken": ("照片“{detail}”无法打开，可能已损坏。", "请重新导出这张照片后发送。"),
    "photo_bomb": ("照片“{detail}”的像素数异常，已拒收。", "请发送相机或手机拍摄的原图。"),
    "photo_too_small": ("照片“{detail}”尺寸过小，像是缩略图。", "请发送原图（长边不小于 {min_side} 像素）。"),
    "research_too_short": (
        "本稿按调研/经验类信息登记（依据{where}），正文为 {detail} 字，不足 {min_chars} 字。",
        "请补充内容至 {min_chars} 字以上；如是常规信息，请去掉{where}后重新发送。",
    ),
    "solicitation_unknown": (
        "主题中写了“约稿”，但没有找到对应的约稿任务（{detail}）。",
        "本稿已按常规信息登记；如是约稿，请在主题中写明约稿题目，例如“【约稿】题目”。",
    ),
    "column_unknown": (
        "没有名为“{detail}”的栏目，本稿已按常规信息登记。",
        "如需报送栏目稿件，请在邮件主题开头写明栏目名称，例如【动态要闻】。",
    ),
    "column_near_miss": ("栏目“{detail}”已按“{column}”登记。", "如登记有误，请联系办公室更正。"),
    "footer_in_page_footer": (
        "稿件的{detail}写在了 Word 的页脚（每页底部）里。",
        "撰稿人、初审人、复审人应写在正文末尾，本次已从页脚读取；下次请直接写在正文最后。",
    ),
    "missing_drafter_unit": (
        "撰稿人“{detail}”未注明单位（科室）。",
        "可按“撰稿人：单位（科室）姓名”格式注明，本次按发件单位计分。",
    ),
}


# Sentences a hint carries only when their value is known: an empty list of columns says nothing.
_WHEN_GIVEN: dict[str, tuple[str, str]] = {"column_unknown": ("columns", "可用栏目：{columns}。")}


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
    distinct_reviewers: bool = True  # 二(三) 三审: drafter, 初审人 and 复审人 are different people
    photo_kinds: tuple[str, ...] = ("routine",)  # annex 1: news (文字+影像) needs photos; research does not


@dataclass(frozen=True)
class Facts:
    """What the rules look at: the unpacked submission plus a few facts of the email itself."""

    submission: Submission
    kind: str  # routine | research | experience
    message_bytes: int
    body_text: str
    photos_needed: bool | None = None  # a column's own rule; None: the kind decides (Rules.photo_kinds)
    kind_where: str = ""  # where the 调研/经验 marker was found, for the reason that quotes it

    def needs_photos(self, rules: Rules) -> bool:
        """Annex 1 asks 文字+影像 of news items; a column (部门文件, 文件解读) or a kind says otherwise."""
        return self.kind in rules.photo_kinds if self.photos_needed is None else self.photos_needed


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
    detail = printable(detail)  # a member named "a\x01.jpg" must not break the workbook or XML later
    values = {
        "detail": detail,
        "min_side": rules.min_photo_side,
        "min_chars": rules.min_research_chars,
        "columns": "",
        "column": "",
        "where": "主题中的【调研】【经验】字样",
        **extra,
    }
    if code in _WHEN_GIVEN and values[_WHEN_GIVEN[code][0]]:
        hint += _WHEN_GIVEN[code][1]
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
    # An archive or winmail.dat that could not be opened already explains the missing manuscript.
    if not sub.files or any(f.code.startswith("archive_") or f.code == OUTLOOK_TNEF for f in sub.findings):
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
    # A field left as "XXX" is named once, in the placeholder reason, not again as missing.
    left = set(footer.placeholders)
    if not footer.drafters and "撰稿人" not in left:
        yield Finding("missing_drafter")
    if not footer.first_reviewer and "初审人" not in left:
        yield Finding("missing_first_reviewer")
    if not footer.second_reviewer and "复审人" not in left:
        yield Finding("missing_second_reviewer")
    where = ["标题"] if has_placeholder(ms.title) else []
    where += ["正文"] if any(has_placeholder(p) for p in ms.body) else []
    where += list(footer.placeholders)
    if where:
        yield Finding("placeholder_left", "、".join(where))


def _person(name: str) -> str:
    return re.sub(r"[\s\u3000·•.]", "", name)


def check_reviewers(facts: Facts, rules: Rules) -> Iterator[Finding]:
    """二(三): 科室负责人初审, 分管领导复审, 办公室终审: three checks by three people, so one person may not
    fill two of the footer's roles."""
    ms = facts.submission.manuscript
    if ms is None or not rules.distinct_reviewers:
        return
    footer = ms.footer
    first, second = _person(footer.first_reviewer or ""), _person(footer.second_reviewer or "")
    if first and first == second:
        yield Finding("same_reviewer", (footer.first_reviewer or "").strip())
    drafters = {_person(d.name) for d in footer.drafters}
    for role, name in (("初审人", footer.first_reviewer), ("复审人", footer.second_reviewer)):
        if name and _person(name) in drafters:
            yield Finding("reviewer_is_drafter", f"{name.strip()}（撰稿人、{role}）")


def check_photos(facts: Facts, rules: Rules) -> Iterator[Finding]:
    if facts.submission.manuscript is None:
        return
    photos = facts.submission.photos
    for p in photos:
        if p.problem:
            yield Finding(p.problem, p.name)
    usable = [p for p in photos if not p.problem]
    if rules.require_photos and facts.needs_photos(rules) and not photos:
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
    check_reviewers,
    check_photos,
    check_length,
)


def warnings_for(facts: Facts, rules: Rules) -> Iterator[Finding]:
    """Worth telling the liaison, not worth a rejection."""
    ms = facts.submission.manuscript
    if ms is not None:
        if ms.footer_from_page:
            yield Finding("footer_in_page_footer", "、".join(ms.footer_from_page))
        yield from (Finding("missing_drafter_unit", d.name) for d in ms.footer.drafters if not d.unit)
    usable = [p for p in facts.submission.photos if not p.problem]
    if any(max(p.width, p.height) >= rules.min_photo_side for p in usable):
        yield from (Finding("photo_too_small", p.name) for p in usable if max(p.width, p.height) < rules.min_photo_side)


def evaluate(facts: Facts, rules: Rules) -> CheckResult:
    problems = [f for check in CHECKS for f in check(facts, rules)]
    unique = list(dict.fromkeys(problems))
    return CheckResult(
        problems=tuple(reason(f.code, f.detail, rules, where=facts.kind_where) for f in unique),
        warnings=tuple(
            reason(f.code, f.detail, rules, where=facts.kind_where) for f in dict.fromkeys(warnings_for(facts, rules))
        ),
    )
