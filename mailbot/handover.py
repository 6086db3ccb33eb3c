"""The hand-over between the analysis worker and the main process: the analysis without its bytes.

The worker writes every attachment and unpacked file into the message's staging directory inside
storage, named by its SHA-256, and returns only facts and digests; the main process moves the files
of a recorded item into place and drops the rest. So the main process never holds a copy of a
message or of what it unpacked, whatever their size.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from mailbot.adapters.storage import Storage, stage, stage_parts
from mailbot.domain.lift import Spill, Spilled
from mailbot.domain.mime import ParsedMail
from mailbot.domain.submission import Submission


@dataclass(frozen=True)
class Analysis:
    mail: ParsedMail
    submission: Submission | None  # None when the sender is not one whose attachments we open


def fresh_staging(staging: Path) -> None:
    """An empty staging directory for a message, before its analysis writes anything there."""
    shutil.rmtree(staging, ignore_errors=True)  # a worker killed on this message may have begun it
    staging.mkdir(parents=True)


def spill_into(staging: Path) -> Spill:
    """The worker's Spill: a large attachment is decoded straight into `staging`, hashed as it is
    written, so neither its base64 text nor its bytes are ever whole in the worker's memory."""

    def spill(pieces: Iterator[bytes]) -> Spilled:
        digest, size = stage_parts(staging, pieces)
        path = staging / digest
        return Spilled(digest, size, str(path), path.read_bytes)

    return spill


def hand_over(analysis: Analysis, staging: Path) -> Analysis:
    """The analysis without its bytes: attachments and unpacked files are written to `staging`
    named by their digest (archives found inside are only hashed: their bytes are in the raw
    message), and the docx's images, already inspected, are dropped. What is there already (a
    spilled attachment, a file read from one) is not written again."""
    staging.mkdir(parents=True, exist_ok=True)
    digests: dict[int, str] = {}  # a loose attachment is also a found file: the same bytes, once

    def digest(data: bytes, known: str, write: bool = True) -> str:
        if known:
            return known
        if id(data) not in digests:
            digests[id(data)] = stage(staging, data) if write else hashlib.sha256(data).hexdigest()
        return digests[id(data)]

    mail = analysis.mail
    attachments = tuple(replace(a, data=b"", sha256=digest(a.data, a.sha256), file="") for a in mail.attachments)
    sub = analysis.submission
    if sub is not None:
        files = tuple(replace(f, data=b"", sha256=digest(f.data, f.sha256, f.kind != "archive")) for f in sub.files)
        manuscripts = tuple((path, replace(ms, images=())) for path, ms in sub.manuscripts)
        sub = replace(sub, files=files, manuscripts=manuscripts)
    return Analysis(replace(mail, attachments=attachments), sub)


def with_bytes(storage: Storage, pk: int | None, mail: ParsedMail, limit: int | None = None) -> ParsedMail:
    """The attachments' bytes read back from staging (up to `limit` in all), for the rare step in
    the main process that needs them: the duty notice of an incident, or unpacking there for a
    sender who became a liaison while the worker read the mail."""
    assert pk is not None
    total, loaded = 0, []
    for a in mail.attachments:
        total += a.size
        fits = limit is None or total <= limit
        loaded.append(replace(a, data=storage.staged(pk, a.sha256)) if a.sha256 and fits else a)
    return replace(mail, attachments=tuple(loaded))
