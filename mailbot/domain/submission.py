"""One email's attachments -> the files, manuscripts and photos it carries (unpack and parse).

Nothing here decides; it gathers facts, and every failure becomes a finding for the checks instead
of an exception, so one bad attachment never hides what is wrong with the rest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

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
    data: bytes
    kind: str  # archive | manuscript | legacy | photo | other


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


def unpack(attachments: tuple[Attachment, ...], limits: Limits) -> Submission:
    """``limits`` bound the whole message: every file found is stored, so 10,000 attachments or
    a hundred archives each just inside the limits must cost no more than one full archive."""
    files: list[FoundFile] = []
    findings: list[Finding] = []
    if len(attachments) > limits.max_members:
        findings.append(Finding(ARCHIVE_TOO_MANY_MEMBERS, str(limits.max_members)))
        attachments = attachments[: limits.max_members]
    members_seen = unpacked = 0
    for att in attachments:
        kind = _kind(att.name, att.data)
        files.append(FoundFile(att.name, att.data, kind))
        if kind != "archive":
            continue
        left = replace(
            limits, max_total_bytes=limits.max_total_bytes - unpacked, max_members=limits.max_members - members_seen
        )
        try:
            members = read_archive(att.data, att.name, left)
        except ArchiveError as exc:
            findings.append(Finding(exc.code, _archive_detail(exc, att.name, limits)))
            continue
        members_seen += len(members)
        unpacked += sum(len(m.data) for m in members)
        files.extend(
            FoundFile(f"{att.name}/{m.path}", m.data, _kind(m.path, m.data))
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


_RESEARCH = re.compile(r"调研|调查报告")
_EXPERIENCE = re.compile(r"经验")


def item_kind(subject: str, title: str) -> ItemKind:
    """research / experience pieces are marked 【调研】/【经验】 in the subject or named so in the title."""
    # One greedy class up to the bracket: "\s*([^】]+)\s*】" is cubic on "【" + 10,000 spaces.
    tag = re.match(r"\s*[【\[]([^】\]]*)[】\]]", subject)
    label = tag.group(1).strip() if tag else ""
    if _RESEARCH.search(label) or re.search(r"调研报告|调研材料|的调研$", title):
        return ItemKind.RESEARCH
    if _EXPERIENCE.search(label) or re.search(r"经验材料|经验做法|经验交流", title):
        return ItemKind.EXPERIENCE
    return ItemKind.ROUTINE


def content_hash(manuscript: Manuscript) -> str:
    """Same title and body text = the same piece, whatever the archive or photos around it."""
    text = manuscript.title + "\n" + "\n".join(manuscript.body)
    return hashlib.sha256(re.sub(r"\s+", "", text).encode("utf-8")).hexdigest()
