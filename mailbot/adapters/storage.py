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
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from mailbot.domain.mime import header_end
from mailbot.faults import failure_point

STAGING = "staging"  # files the analysis worker unpacked, per message, until the message is recorded
_HEAD_CHUNK = 64 * 1024


class StorageFull(OSError):
    """The storage disk (or the service user's quota) is full: nothing can be recorded until space is
    freed. Its own error, so the daemon says so plainly instead of "mailbox unavailable"."""


class Storage:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._leftovers_cleared = False
        self._adopted: list[Path] = []  # since the last let_go: its write-back has not begun
        self._cooling: list[Path] = []  # adopted before it: written back by now, as a rule

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
        self._write(path.with_name(f".{path.name}.{os.getpid()}.tmp"), (data,), lambda: path, durable)
        return digest, rel

    def put_message(self, raw: bytes | Iterable[bytes]) -> tuple[str, str, int]:
        """A raw message, whole or in pieces as a Source fetches it, durably: (sha256, path, size)."""
        if isinstance(raw, bytes):
            return (*self.put(raw, "raw", ".eml"), len(raw))
        return self.put_parts(raw, "raw", ".eml")

    def put_parts(self, parts: Iterable[bytes], area: str, suffix: str = "") -> tuple[str, str, int]:
        """Store a message that arrives in pieces, durably, without holding more than one piece:
        hashed as it is written to a temporary file in staging (cleared at the next start if this
        process dies meanwhile), then renamed under its digest. Returns (sha256, path, size)."""
        digest = hashlib.sha256()

        def place() -> Path:
            name = digest.hexdigest()
            return self.root / f"{area}/{name[:2]}/{name}{suffix}"

        incoming = self.root / STAGING / f"incoming.{os.getpid()}.tmp"
        path = self._write(incoming, parts, place, durable=True, observe=digest.update)
        return digest.hexdigest(), path.relative_to(self.root).as_posix(), path.stat().st_size

    def _write(
        self,
        tmp: Path,
        parts: Iterable[bytes],
        target: Callable[[], Path],
        durable: bool,
        observe: Callable[[bytes], object] = len,
    ) -> Path:
        """Write `parts` to `tmp` (each shown to `observe`), then rename it to `target()` (known only
        once all is written): atomic, fsynced with its directory when `durable`, and never a partial
        file left behind. A piece is let go before the next is asked for, so that a fetch of the
        next piece never has the last one beside it."""
        try:
            failure_point("storage_write")
            tmp.parent.mkdir(parents=True, exist_ok=True)
            pieces = iter(parts)
            with open(tmp, "wb") as fh:
                while (part := next(pieces, None)) is not None:
                    fh.write(part)
                    observe(part)
                    del part
                if durable:
                    fh.flush()
                    os.fsync(fh.fileno())
            path = target()
            path.parent.mkdir(parents=True, exist_ok=True)
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
        return path

    def get(self, rel: str) -> bytes:
        return (self.root / rel).read_bytes()

    def size(self, rel: str) -> int:
        return (self.root / rel).stat().st_size

    def head(self, rel: str) -> bytes:
        """The stored message's header block, as `mime.header_block` cuts it, without reading the
        body when the blank line is in the first 64 KB (else the whole file, read once: linear)."""
        with open(self.root / rel, "rb") as fh:
            buf = fh.read(_HEAD_CHUNK)
            end = header_end(buf)
            if end + 4 > len(buf):  # no blank line yet, or one cut by the chunk
                buf += fh.read()
                end = header_end(buf)
        return buf[: end + 4]

    # -- staging: what the worker unpacked, on disk until the message is recorded ----------------

    def staging(self, pk: int) -> Path:
        return self.root / STAGING / str(pk)

    def adopt(self, pk: int, digest: str) -> str:
        """Move a staged file into place under its digest (atomic rename on the same disk); returns
        its path relative to the storage root, as `put(..., "files")` would."""
        rel = f"files/{digest[:2]}/{digest}"
        path, staged = self.root / rel, self.staging(pk) / digest
        with full_is_storage_full(self.root):
            failure_point("storage_write")
            if path.exists() and (not staged.exists() or path.stat().st_size == staged.stat().st_size):
                return rel  # stored before, or the same bytes twice in this message (moved already)
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, path)
        self._adopted.append(path)
        return rel

    def let_go(self, rel: str) -> None:
        """A recorded message's raw file, and the files adopted since the last call, leave the page
        cache (POSIX_FADV_DONTNEED): they are written once and seldom read again. Left cached, every
        message takes 10-15 MB of memory never used before, which on a virtual machine costs about
        10 us a page the first time (writing a 6 MB message: 12-16 ms instead of 2 ms), and pushes
        out what is read often, the database. The kernel drops only pages already on disk: the raw
        file is fsynced and goes at once; adopted files are not, so this call starts their
        write-back and the next one lets them go."""
        for path in (self.root / rel, *self._cooling, *self._adopted):
            _drop_cached(path)
        self._cooling, self._adopted = self._adopted, []

    def staged(self, pk: int, digest: str) -> bytes:
        return (self.staging(pk) / digest).read_bytes()

    def clear_leftovers(self) -> None:
        """Before this process's first pass: what a run that died left staged. Not before later passes,
        because another process (the web register releasing a held message) may be staging meanwhile."""
        if not self._leftovers_cleared:
            self.drop_staging()
            self._leftovers_cleared = True

    def drop_staging(self, pk: int | None = None) -> None:
        """A message's staged files once it is recorded (or all of them, before a pass: what a run
        that died left behind). Unpacked files are kept only for recorded items."""
        shutil.rmtree(self.root / STAGING if pk is None else self.staging(pk), ignore_errors=True)


def _drop_cached(path: Path) -> None:
    """Advice only: a file that is gone, or a filesystem that keeps its pages (tmpfs), changes nothing."""
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def stage(directory: Path, data: bytes) -> str:
    """In the worker: write bytes into a message's staging directory under their SHA-256 (written to
    a temporary name first, so a killed worker never leaves a partial file under a digest)."""
    digest = hashlib.sha256(data).hexdigest()
    path = directory / digest
    if path.exists() and path.stat().st_size == len(data):
        return digest
    tmp = directory / f".{digest}.tmp"
    with full_is_storage_full(directory):
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    return digest


def stage_parts(directory: Path, parts: Iterable[bytes]) -> tuple[str, int]:
    """`stage` for bytes that come in pieces (an attachment decoded as it is read): hashed as they
    are written, then renamed under their SHA-256. Returns (digest, size); whatever stops the write,
    no partial file is left."""
    digest, size = hashlib.sha256(), 0
    fd, name = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    tmp = Path(name)
    try:
        with full_is_storage_full(directory), open(fd, "wb") as fh:
            for part in parts:
                digest.update(part)
                fh.write(part)
                size += len(part)
            os.replace(tmp, directory / digest.hexdigest())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


@contextlib.contextmanager
def full_is_storage_full(where: Path) -> Iterator[None]:
    """A full disk or quota becomes StorageFull, so the daemon says plainly what to free."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StorageFull(exc.errno, f"storage {where} is full ({exc.strerror})") from exc
        raise
