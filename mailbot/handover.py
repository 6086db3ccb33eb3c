"""The hand-over between the analysis worker and the main process: the analysis without its bytes.

The worker writes every attachment and unpacked file into the message's staging directory inside
storage, named by its SHA-256, and returns only facts and digests; the main process moves the files
of a recorded item into place and drops the rest. So the main process never holds a copy of a
message or of what it unpacked, whatever their size.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from mailbot.adapters.storage import Storage, stage
from mailbot.domain.mime import ParsedMail
from mailbot.domain.submission import Submission


@dataclass(frozen=True)
class Analysis:
    mail: ParsedMail
    submission: Submission | None  # None when the sender is not one whose attachments we open


def hand_over(analysis: Analysis, staging: Path) -> Analysis:
    """The analysis without its bytes: attachments and unpacked files are written to `staging`
    named by their digest (archives found inside are only hashed: their bytes are in the raw
    message), and the docx's images, already inspected, are dropped."""
    shutil.rmtree(staging, ignore_errors=True)  # a worker killed on this message may have begun it
    staging.mkdir(parents=True)
    digests: dict[int, str] = {}  # a loose attachment is also a found file: the same bytes, once

    def digest(data: bytes, write: bool = True) -> str:
        if id(data) not in digests:
            digests[id(data)] = stage(staging, data) if write else hashlib.sha256(data).hexdigest()
        return digests[id(data)]

    mail = analysis.mail
    attachments = tuple(replace(a, data=b"", sha256=digest(a.data)) for a in mail.attachments)
    sub = analysis.submission
    if sub is not None:
        files = tuple(replace(f, data=b"", sha256=digest(f.data, f.kind != "archive")) for f in sub.files)
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
