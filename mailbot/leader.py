"""One active poller per mailbox; the others wait as standbys (paperless-ngx #13336: overlapping
fetch runs answered mail twice).

On PostgreSQL the leader holds a session advisory lock on a connection of its own: when the process
dies, the server drops the connection and the lock with it, and a standby takes over at its next
try. On SQLite (one machine) a file lock in the storage directory does the same.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError


def lock_key(mailbox_key: str) -> int:
    """A stable signed 64-bit key per mailbox, so several mailboxes can share one database."""
    return int.from_bytes(hashlib.sha256(mailbox_key.encode()).digest()[:8], "big", signed=True)


class Leadership:
    def __init__(self, engine: Engine, mailbox_key: str, storage_dir: Path) -> None:
        self.engine = engine
        self.key = lock_key(mailbox_key)
        self.path = storage_dir / "leader.lock"
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None

    def try_acquire(self) -> bool:
        if self.held:
            return self.alive()
        if self.engine.dialect.name == "postgresql":
            conn = self.engine.connect()
            if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar():
                conn.commit()
                self._conn = conn
                return True
            conn.close()
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def alive(self) -> bool:
        """Still the leader? A lost database connection means the lock is gone too."""
        if self._conn is None:
            return self._fd is not None
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except SQLAlchemyError:  # the session, and with it the lock, is gone
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
                self._conn.commit()
            except SQLAlchemyError:  # the connection is already broken: the server released the lock
                pass
            finally:
                self._conn.close()
                self._conn = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
