"""The bureau mailbox over IMAP (imapclient), with the quirks of Chinese providers handled.

- 163.com / 126 / yeah.net refuse SELECT ("Unsafe Login") until the client sends the RFC 2971 ID
  command; we send it after LOGIN whenever the server offers ID, and for those hosts even when it
  does not advertise it.
- Messages are fetched with BODY.PEEK[] so nothing is marked \\Seen before it is processed, in
  partial FETCHes of 2 MiB written away one by one, and searched by UID only (some servers reject
  SEARCH with CHARSET).
- A message leaves the folder only after its verdict and reply are committed: MOVE where the server
  has it, else COPY + \\Deleted + UID EXPUNGE of that one UID.
"""

from __future__ import annotations

import logging
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import datetime
from threading import Event
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

import mailbot
from mailbot.config import MailboxConfig
from mailbot.domain.arrival import Fetched, Streamed

log = logging.getLogger("mailbot.imap")
IDLE_RENEW_SECONDS = 25 * 60
FETCH_CHUNK = 2 * 1024 * 1024  # the most of a message the daemon holds at once (a round trip per piece)
FETCH_MOST = 1024**3  # a server that keeps answering partial FETCHes is stopped here
ID_REQUIRED_HOSTS = ("163.com", "126.com", "yeah.net", "188.com")
CLIENT_ID = {"name": "mailbot", "version": mailbot.__version__, "vendor": "mailbot", "os": "linux"}


def _closed(client: IMAPClient) -> bool:
    """imapclient's idle_check swallows EOF and returns nothing: peek to tell silence from a hang-up."""
    sock = client.socket()
    timeout = sock.gettimeout()
    sock.settimeout(0)  # with a timeout set, Python waits for data before recv, MSG_DONTWAIT or not
    try:  # the plain-socket recv, so that TLS sockets can be peeked too
        return socket.socket.recv(sock, 1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)


class ImapSource:
    def __init__(self, config: MailboxConfig) -> None:
        self.config = config
        self.folder = config.folder
        self.key = f"imap://{config.username}@{config.host}:{config.port}"
        self._client: IMAPClient | None = None
        self.chunk = FETCH_CHUNK
        self._delimiter = "/"

    @property
    def client(self) -> IMAPClient:
        if self._client is None:
            raise RuntimeError("IMAP source used before open()")
        return self._client

    def connect(self) -> IMAPClient:
        cfg = self.config
        context = ssl.create_default_context()
        client = IMAPClient(
            cfg.host, port=cfg.port, ssl=cfg.security == "ssl", ssl_context=context, timeout=cfg.timeout_seconds
        )
        if not logging.getLogger("imapclient.imaplib").isEnabledFor(logging.DEBUG):
            # imapclient sets imaplib's debug level to 5, where imaplib formats every response with
            # its literal (the whole message, twice, as repr) for a logger that then drops it: two
            # more copies of a 28 MB message in memory, and CPU for each megabyte fetched.
            client._imap.debug = 0  # noqa: SLF001
        try:
            if cfg.security == "starttls":
                client.starttls(context)
            client.login(cfg.username, cfg.password())
            self._identify(client)
        except BaseException:
            client.shutdown()
            raise
        return client

    def _identify(self, client: IMAPClient) -> None:
        """Send ID before SELECT: required by 163.com, harmless elsewhere."""
        advertised = client.has_capability("ID")
        if not advertised and not self.config.host.endswith(ID_REQUIRED_HOSTS):
            return
        try:
            if advertised:
                client.id_(CLIENT_ID)
            else:
                args = " ".join(f'"{k}" "{v}"' for k, v in CLIENT_ID.items())
                client._imap._simple_command("ID", f"({args})")  # noqa: SLF001 - not advertised, send it anyway
        except IMAPClientError as exc:
            log.warning("IMAP ID command refused by %s: %s", self.config.host, exc)

    def open(self) -> None:
        self._client = self.connect()
        listed = self.client.list_folders(pattern=self.folder)
        delimiter = listed[0][1] if listed and listed[0][1] else b"/"
        self._delimiter = delimiter.decode() if isinstance(delimiter, bytes) else str(delimiter)
        for folder in {self.config.processed_folder, self.config.rejected_folder, self.config.held_folder}:
            name = self.server_name(folder)
            if not self.client.folder_exists(name):
                self.client.create_folder(name)
                log.info("created IMAP folder %s", name)

    def server_name(self, folder: str) -> str:
        """Config writes folders with "/"; servers differ (Dovecot maildir uses ".")."""
        return folder.replace("/", self._delimiter)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.logout()
            except (IMAPClientError, OSError):
                self._client.shutdown()
            self._client = None

    def listing(self) -> tuple[int, list[str]]:
        info = self.client.select_folder(self.folder)
        uidvalidity = int(info[b"UIDVALIDITY"])
        return uidvalidity, [str(uid) for uid in sorted(self.client.search("ALL"))]

    def fetch(self, uid: str) -> Streamed:
        """The bytes and INTERNALDATE (when the server received the mail). A message larger than
        `chunk` comes in partial FETCHes (BODY.PEEK[]<offset.length>), each asked for when the one
        before has been written away: the daemon never holds a whole large message."""
        self.client.normalise_times = False  # keep INTERNALDATE's zone instead of the host's local time
        entry = self._fetch(uid, [f"BODY.PEEK[]<0.{self.chunk}>", "INTERNALDATE"], b"BODY[]<0>")
        first = bytes(entry[b"BODY[]<0>"])
        arrived = entry.get(b"INTERNALDATE")
        return Streamed(self._rest(uid, first), arrived if isinstance(arrived, datetime) else None)

    def _rest(self, uid: str, first: bytes) -> Iterator[bytes]:
        """The first piece, then the next ones until a piece comes back shorter than asked for."""
        offset, part = 0, first
        del first  # `part` is the only reference, let go below before the next piece is fetched
        while True:
            yield part
            if len(part) < self.chunk:
                return
            offset += len(part)
            if offset > FETCH_MOST:
                raise IMAPClientError(f"message UID {uid}: the server sends more than {FETCH_MOST} bytes")
            del part  # written away by the caller: not kept beside the next piece
            key = f"BODY[]<{offset}>".encode()
            part = bytes(self._fetch(uid, [f"BODY.PEEK[]<{offset}.{self.chunk}>"], key)[key])

    def _fetch(self, uid: str, items: list[str], key: bytes) -> dict[bytes, Any]:
        entry = self.client.fetch([int(uid)], items).get(int(uid))
        if entry is None or key not in entry:
            raise IMAPClientError(f"message UID {uid} vanished from {self.folder}")
        return entry

    def sizes(self, uids: list[str]) -> dict[str, int]:
        """RFC822.SIZE of every listed message in one round trip: a message over the limit is never
        fetched whole (a 250 MB mail would otherwise be read into memory to be refused)."""
        if not uids:
            return {}
        data = self.client.fetch([int(u) for u in uids], ["RFC822.SIZE"])
        return {str(uid): int(entry.get(b"RFC822.SIZE", 0)) for uid, entry in data.items()}

    def fetch_headers(self, uid: str) -> Fetched:
        """Only the header and INTERNALDATE: enough to answer the sender and keep a record."""
        self.client.normalise_times = False
        entry = self._fetch(uid, ["BODY.PEEK[HEADER]", "INTERNALDATE"], b"BODY[HEADER]")
        arrived = entry.get(b"INTERNALDATE")
        return Fetched(bytes(entry[b"BODY[HEADER]"]), arrived if isinstance(arrived, datetime) else None)

    def file(self, uid: str, folder: str) -> None:
        client, folder = self.client, self.server_name(folder)
        if client.has_capability("MOVE"):
            client.move([int(uid)], folder)
            return
        client.copy([int(uid)], folder)
        client.add_flags([int(uid)], [b"\\Deleted"])
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([int(uid)])
        else:
            log.warning("server lacks MOVE and UIDPLUS: UID %s flagged \\Deleted, left for the next EXPUNGE", uid)

    def wait(self, seconds: float, stop: Event) -> None:
        """Until new mail, `seconds`, or stop: IDLE where offered (re-issued well inside the
        29-minute limit of RFC 2177), else a plain sleep before the next poll."""
        client = self.client
        if not (self.config.idle and client.has_capability("IDLE")):
            stop.wait(seconds)
            return
        deadline = time.monotonic() + min(seconds, IDLE_RENEW_SECONDS)
        client.idle()
        log.debug("IDLE: waiting up to %.0f s for new mail", deadline - time.monotonic())
        try:
            while not stop.is_set() and time.monotonic() < deadline:
                responses = client.idle_check(timeout=1)
                if any(r and r[0] == b"BYE" for r in responses) or (not responses and _closed(client)):
                    raise ConnectionError("IMAP server closed the connection during IDLE")
                if any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses):
                    break
        except ConnectionError:
            client.shutdown()
            self._client = None
            raise
        client.idle_done()

    def check(self) -> None:
        client = self.connect()
        try:
            client.select_folder(self.folder, readonly=True)
        finally:
            client.logout()
