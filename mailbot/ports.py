"""The ports: what the desk needs from a mailbox and a mail server, and how a server says no.

Adapters (IMAP, Maildir, SMTP, a directory) implement these and import them from here, never from
the use cases, so the dependency points one way: use cases -> ports <- adapters.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Event
from typing import Protocol

from mailbot.domain.arrival import Fetched, Streamed


@dataclass(frozen=True)
class MailRef:
    """Where a message lives: the ledger's key, unique per mailbox identity (UIDVALIDITY)."""

    mailbox: str
    folder: str
    uidvalidity: int
    uid: str


class Source(Protocol):
    """A mailbox: IMAP or Maildir. Listing and fetching never change it; only `file` does."""

    key: str
    folder: str

    def open(self) -> None: ...
    def close(self) -> None: ...
    def listing(self) -> tuple[int, list[str]]: ...
    def fetch(self, uid: str) -> Streamed: ...  # the bytes, in pieces, and the mailbox's arrival time
    def sizes(self, uids: list[str]) -> dict[str, int]: ...  # each message's size, before fetching any
    def fetch_headers(self, uid: str) -> Fetched: ...  # only the header of a message too large to fetch
    def file(self, uid: str, folder: str) -> None: ...
    def wait(self, seconds: float, stop: Event) -> None: ...


class Transport(Protocol):
    """Hands a composed message to a mail server (or a directory, in tests and dry runs)."""

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None: ...
    def close(self) -> None: ...


class TemporaryFailure(Exception):
    """The server deferred this message (4xx): try it again later."""


class ConnectionFailure(Exception):
    """The server cannot be reached or refused the login: nothing is wrong with the messages."""


class PermanentFailure(Exception):
    """The server refused this message for good (5xx); retrying would not help."""
