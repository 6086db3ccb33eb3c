"""A Maildir inbox, for hosts where the MTA delivers locally (and for `mailbot demo`)."""

from __future__ import annotations

import mailbox
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from threading import Event

from mailbot.domain.arrival import Fetched, Streamed

PIECE = 2 * 1024 * 1024  # read and stored a piece at a time, as the IMAP source fetches


def _delivery_order(key: str) -> list[int | str]:
    """Keys are "<seconds>.M<usec>P<pid>Q<n>.<host>": compare their numbers as numbers (Q9 before Q10)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


class MaildirSource:
    def __init__(self, path: Path, folder: str = "INBOX") -> None:
        self.path = path
        self.folder = folder
        self.key = f"maildir:{path}"
        self._box: mailbox.Maildir | None = None

    def open(self) -> None:
        self._box = mailbox.Maildir(self.path, factory=None, create=True)

    def close(self) -> None:
        self._box = None

    def check(self) -> None:
        """The Maildir exists (or can be made) and can be listed."""
        mailbox.Maildir(self.path, factory=None, create=True).keys()

    def _inbox(self) -> mailbox.Maildir:
        if self._box is None:
            raise RuntimeError("maildir source used before open()")
        return self._box

    def listing(self) -> tuple[int, list[str]]:
        """Maildir keys never repeat, so one constant stands in for UIDVALIDITY."""
        return 1, sorted(self._inbox().keys(), key=_delivery_order)

    def sizes(self, uids: list[str]) -> dict[str, int]:
        """The file sizes: a message over the limit is never read whole."""
        return {uid: os.path.getsize(self._path_of(uid)) for uid in uids}

    def fetch_headers(self, uid: str) -> Fetched:
        """Only the header, read line by line up to the blank line that ends it."""
        head = bytearray()
        with open(self._path_of(uid), "rb") as fh:
            for line in fh:
                head += line
                if line in (b"\r\n", b"\n") or len(head) > 1024 * 1024:
                    break
        return Fetched(bytes(head), self._arrived(uid))

    def _path_of(self, uid: str) -> Path:
        return self.path / self._inbox()._lookup(uid)  # type: ignore[attr-defined]  # noqa: SLF001

    def _arrived(self, uid: str) -> datetime | None:
        try:
            return datetime.fromtimestamp(os.path.getmtime(self._path_of(uid)), UTC)
        except (OSError, KeyError):
            head = uid.split(".", 1)[0]
            return datetime.fromtimestamp(int(head), UTC) if head.isdigit() else None

    def fetch(self, uid: str) -> Streamed:
        """The file in pieces, and the delivery time: its mtime, else the timestamp that opens its name."""
        return Streamed(self._pieces(self._path_of(uid)), self._arrived(uid))

    @staticmethod
    def _pieces(path: Path) -> Iterator[bytes]:
        with open(path, "rb") as fh:
            while part := fh.read(PIECE):
                yield part

    def wait(self, seconds: float, stop: Event) -> None:
        """Local delivery is cheap to watch: look at new/ every second."""
        deadline = time.monotonic() + seconds
        while not stop.wait(1) and time.monotonic() < deadline:
            if any((self.path / "new").iterdir()):
                return

    def file(self, uid: str, folder: str) -> None:
        box = self._inbox()
        name = folder.replace("/", ".")
        target = box.get_folder(name) if name in box.list_folders() else box.add_folder(name)
        target.add(box.get_bytes(uid))  # bytes, not a Message: nothing is parsed again
        box.remove(uid)
