"""Retention: raw messages and unpacked files older than a date are deleted on request.

Records (items, reviews, adoptions, the ledger of messages) stay: they are the bureau's register and
small. Disclosure rules ask that review records be kept at least three years, so purging anything younger
needs --force. Files are content-addressed and may be shared by an older and a newer message: a file
is deleted only when no message on or after the date still refers to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from mailbot.adapters.db import Message, StoredFile
from mailbot.adapters.storage import Storage
from mailbot.domain.calendar import local_day_bounds

KEEP_YEARS = 3


@dataclass(frozen=True)
class Purged:
    messages: int
    files: int
    bytes: int


def earliest_allowed(today: date) -> date:
    try:
        return today.replace(year=today.year - KEEP_YEARS)
    except ValueError:  # 29 February
        return today.replace(year=today.year - KEEP_YEARS, day=28)


def purge(
    engine: Engine, storage: Storage, before: date, tz: str, *, dry_run: bool, progress: Callable[[int, int], None]
) -> Purged:
    cutoff = local_day_bounds(before, tz)[0]
    with Session(engine) as s:
        old = s.exec(select(Message).where(col(Message.received_at) < cutoff, Message.raw_path != "")).all()
        newer = s.exec(select(Message).where(col(Message.received_at) >= cutoff)).all()
        keep_raw = {m.raw_path for m in newer}
        newer_ids = [m.id for m in newer]
        keep_files = set(s.exec(select(StoredFile.sha256).where(col(StoredFile.message_pk).in_(newer_ids))).all())
        files = deleted_bytes = 0
        for n, message in enumerate(old, 1):
            paths = [message.raw_path] if message.raw_path not in keep_raw else []
            stored = s.exec(select(StoredFile).where(StoredFile.message_pk == message.id)).all()
            paths += [f"files/{f.sha256[:2]}/{f.sha256}" for f in stored if f.sha256 not in keep_files]
            for rel in dict.fromkeys(paths):
                path = storage.root / rel
                if path.exists():
                    files += 1
                    deleted_bytes += path.stat().st_size
                    if not dry_run:
                        path.unlink()
            if not dry_run:
                message.raw_path = ""
                s.add(message)
                for f in stored:
                    s.delete(f)
            progress(n, len(old))
        if not dry_run:
            s.commit()
        return Purged(len(old), files, deleted_bytes)
