"""One email's attachments -> the files, manuscripts and photos it carries (unpack and parse).

Nothing here decides; it gathers facts, and every failure becomes a finding for the checks instead
of an exception, so one bad attachment never hides what is wrong with the rest.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import BinaryIO

from mailbot.domain.archive import (
    ARCHIVE_BOMB,
    ARCHIVE_TOO_LARGE,
    ARCHIVE_TOO_MANY_MEMBERS,
    ArchiveError,
    Limits,
    archive_kind,
    read_archive,
)
from mailbot.domain.manuscript import Manuscript, ManuscriptError, read_docx
from mailbot.domain.mime import Attachment
from mailbot.domain.photos import PHOTO_EXTENSIONS, DecodeBudget, Photo, inspect_photo
from mailbot.domain.tnef import is_tnef, unwrap_tnef
from mailbot.domain.vocabulary import ItemKind

LEGACY_EXTENSIONS = frozenset({".doc", ".wps", ".rtf", ".pdf"})


@dataclass(frozen=True)
class Finding:
    """A fact found while unpacking or parsing, named by a stable check code."""

    code: str
    detail: str = ""


@dataclass(frozen=True)
class FoundFile:
    path: str
    data: bytes = field(repr=False)
    kind: str  # archive (zip, 7z, rar, Outlook's winmail.dat) | manuscript | legacy | photo | other
    size: int = -1  # of the bytes; -1: len(data)
    sha256: str = ""  # set when the bytes were handed over as a file of this digest (`data` is then empty)

    def __post_init__(self) -> None:
        if self.size < 0:
            object.__setattr__(self, "size", len(self.data))


@dataclass(frozen=True)
class Submission:
    files: tuple[FoundFile, ...]
    manuscripts: tuple[tuple[str, Manuscript], ...]
    legacy_documents: tuple[str, ...]
    photos: tuple[Photo, ...]
    findings: tuple[Finding, ...]

    @property
    def manuscript(self) -> Manuscript | None:
        return self.manuscripts[0][1] if len(self.manuscripts) == 1 else None


Opener = Callable[[str], BinaryIO]  # opens an attachment's `file` for reading
_HEAD = 16  # bytes of a file's start that tell an archive or winmail.dat


def _read(att: Attachment, opener: Opener, size: int = -1) -> bytes:
    """An attachment's bytes from its file: the first `size`, or all of them."""
    with opener(att.file) as source:
        return source.read(size)


def _suffix(name: str) -> str:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower()


def _kind(name: str, data: bytes) -> str:
    suffix = _suffix(name)
    if archive_kind(name, data):
        return "archive"
    if suffix == ".docx":
        return "manuscript"
    if suffix in LEGACY_EXTENSIONS:
        return "legacy"
    if suffix in PHOTO_EXTENSIONS:
        return "photo"
    return "other"


def unpack(attachments: tuple[Attachment, ...], limits: Limits, opener: Opener | None = None) -> Submission:
    """``limits`` bound the whole message: every file found is stored, so 10,000 attachments or
    a hundred archives each just inside the limits must cost no more than one full archive.

    An attachment decoded to a file (its `file`, opened with `opener`: the analysis worker's) is
    read as it is needed: an archive from the file, a photo or manuscript whole, anything else not
    at all."""
    files: list[FoundFile] = []
    findings: list[Finding] = []
    if len(attachments) > limits.max_members:
        findings.append(Finding(ARCHIVE_TOO_MANY_MEMBERS, str(limits.max_members)))
        attachments = attachments[: limits.max_members]
    members_seen = unpacked = 0
    attached: list[Attachment] = []
    for att in attachments:
        on_disk = opener if att.file else None
        if not is_tnef(att.name, att.content_type, _read(att, on_disk, _HEAD) if on_disk else att.data):
            attached.append(att if on_disk else replace(att, file=""))
            continue
        data = _read(att, on_disk) if on_disk else att.data
        # Outlook's rich-text mode wraps every attachment in one winmail.dat: what it holds is
        # what the liaison attached, archives included, counted against the same limits.
        files.append(FoundFile(att.name, data, "archive"))
        left = replace(
            limits, max_total_bytes=limits.max_total_bytes - unpacked, max_members=limits.max_members - members_seen
        )
        try:
            wrapped = unwrap_tnef(data, left)
        except ArchiveError as exc:
            findings.append(Finding(exc.code, _archive_detail(exc, att.name, limits)))
            continue
        members_seen += len(wrapped)
        unpacked += sum(len(m.data) for m in wrapped)
        attached.extend(Attachment(f"{att.name}/{m.path}", "", m.data) for m in wrapped)
    for att in attached:
        name = att.name
        if att.file and opener is not None:
            kind = _kind(name, _read(att, opener, _HEAD))
            inspected = kind in ("manuscript", "photo")
            files.append(FoundFile(name, _read(att, opener) if inspected else b"", kind, att.size, att.sha256))
        else:
            kind = _kind(name, att.data)
            files.append(FoundFile(name, att.data, kind))
        if kind != "archive":
            continue
        left = replace(
            limits, max_total_bytes=limits.max_total_bytes - unpacked, max_members=limits.max_members - members_seen
        )
        try:
            if att.file and opener is not None:
                with opener(att.file) as source:
                    members = read_archive(source, name, left)
            else:
                members = read_archive(att.data, name, left)
        except ArchiveError as exc:
            findings.append(Finding(exc.code, _archive_detail(exc, name, limits)))
            continue
        members_seen += len(members)
        unpacked += sum(len(m.data) for m in members)
        files.extend(
            FoundFile(f"{name}/{m.path}", m.data, _kind(m.path, m.data))
            for m in members
            if _kind(m.path, m.data) != "archive"
        )
    manuscripts: list[tuple[str, Manuscript]] = []
    photos: list[Photo] = []
    budget = DecodeBudget()
    # Several manuscripts are rejected as such whatever they say, and each may cost a second
    # to read: only a lone one is opened.
    lone = [f for f in files if f.kind == "manuscript"][1:] == []
    for f in files:
        if f.kind == "manuscript" and lone:
            try:
                manuscripts.append((f.path, read_docx(f.data)))
            except ManuscriptError as exc:
                findings.append(Finding(exc.code, _basename(f.path)))
        elif f.kind == "photo":
            photos.append(inspect_photo(_basename(f.path), f.data, budget))
    for path, ms in manuscripts:
        photos.extend(inspect_photo(f"{_basename(path)}:{_basename(name)}", data, budget) for name, data in ms.images)
    legacy = tuple(_basename(f.path) for f in files if f.kind == "legacy")
    return Submission(tuple(files), tuple(manuscripts), legacy, tuple(photos), tuple(findings))


def _archive_detail(exc: ArchiveError, name: str, limits: Limits) -> str:
    """What the reply's sentence for the code expects: the configured limit (not what was left of
    it for this archive), in MB for sizes, and the attachment's name for a bomb (whose ArchiveError
    carries the ratio: "压缩包“100”的压缩比异常" named no file)."""
    if exc.code == ARCHIVE_TOO_MANY_MEMBERS:
        return str(limits.max_members)
    if exc.code == ARCHIVE_TOO_LARGE:
        return f"超过 {limits.max_total_bytes / (1024 * 1024):g} MB"
    if exc.code == ARCHIVE_BOMB:
        return name
    return exc.detail or name


def _basename(path: str) -> str:
    return PurePosixPath(path.replace("\\", "/")).name


_KINDS = {"调研": "research", "经验": "experience"}
# A bracketed tag that is a kind marker: 【调研】, 【经验】, 【调研报告】, 【经验材料】, 【调研类信息】 ...
_MARKER = re.compile(r"(调研|经验)类?(?:信息|报告|材料|文章|做法)?")
_KIND_LINE = re.compile(r"\s*(?:信息)?类别\s*[:：]\s*(调研|经验)\S*\s*")
_TITLE_RESEARCH = re.compile(r"调研报告|调研材料|的调研$")
_TITLE_EXPERIENCE = re.compile(r"经验材料|经验做法|经验交流")
KIND_LINES = 5  # a 类别 line is looked for among the manuscript's first non-empty paragraphs


def kind_marker(
    subject: str, title: str = "", paragraphs: tuple[str, ...] = (), *, from_title: bool = False
) -> tuple[ItemKind, str]:
    """(kind, where the marker was found). 一(二)2 pieces are declared by the liaison, not guessed: a
    【调研】/【经验】 tag in the subject or a "类别：调研" line in the manuscript, never the ordinary words of a
    title ("经验交流会" is news); `from_title` restores the guess from title words for an office that wants it."""
    # One greedy class up to the bracket: "\s*([^】]+)\s*】" is cubic on "【" + 10,000 spaces.
    for tag in re.findall(r"[【\[]([^】\]]*)[】\]]", subject):
        marker = _MARKER.fullmatch(re.sub(r"\s+", "", tag))
        if marker:
            return ItemKind(_KINDS[marker.group(1)]), f"邮件主题中的“【{tag.strip()}】”"
    for line in [p for p in paragraphs if p.strip()][:KIND_LINES]:
        named = _KIND_LINE.fullmatch(line)
        if named:
            return ItemKind(_KINDS[named.group(1)]), f"稿件中的“{line.strip()}”一行"
    if from_title:
        if _TITLE_RESEARCH.search(title):
            return ItemKind.RESEARCH, f"标题中的“{_TITLE_RESEARCH.search(title).group(0)}”"  # type: ignore[union-attr]
        if _TITLE_EXPERIENCE.search(title):
            return ItemKind.EXPERIENCE, f"标题中的“{_TITLE_EXPERIENCE.search(title).group(0)}”"  # type: ignore[union-attr]
    return ItemKind.ROUTINE, ""


def item_kind(subject: str, title: str, paragraphs: tuple[str, ...] = (), *, from_title: bool = False) -> ItemKind:
    """research / experience only when the liaison marks it so (see kind_marker)."""
    return kind_marker(subject, title, paragraphs, from_title=from_title)[0]


def content_hash(manuscript: Manuscript) -> str:
    """Same title and body text = the same piece, whatever the archive or photos around it."""
    text = manuscript.title + "\n" + "\n".join(manuscript.body)
    return hashlib.sha256(re.sub(r"\s+", "", text).encode("utf-8")).hexdigest()
