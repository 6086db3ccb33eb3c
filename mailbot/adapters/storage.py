"""Content-addressed files on disk: raw messages and the files unpacked from them.

Names come only from SHA-256 digests, never from a sender's file names, so nothing an archive says
can place a file outside the storage directory; writes are atomic and fsynced so a crash leaves
either the whole file or none.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from pathlib import Path

from mailbot.faults import failure_point


class StorageFull(OSError):
    """The storage disk (or the service user's quota) is full: nothing can be recorded until space is
    freed. Its own error, so the daemon says so plainly instead of "mailbox unavailable"."""


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, data: bytes, area: str, suffix: str = "", *, durable: bool = True) -> tuple[str, str]:
        """Store bytes once; returns (sha256, path relative to the storage root).

        `durable` fsyncs: the raw message must survive a power cut before it leaves the mailbox;
        unpacked files need not, they can always be unpacked again from it.
        """
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{area}/{digest[:2]}/{digest}{suffix}"
        path = self.root / rel
        if path.exists() and path.stat().st_size == len(data):
            return digest, rel
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            failure_point("storage_write")
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            os.replace(tmp, path)
            if durable:
                dir_fd = os.open(path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except BaseException as exc:  # never leave a partial file behind, whatever stopped the write
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(exc.errno, f"storage {self.root} is full ({exc.strerror})") from exc
            raise
        return digest, rel

    def get(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()
