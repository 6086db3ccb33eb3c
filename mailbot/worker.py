"""The analysis worker: parsing and unpacking a message in a second process, on the second core.

Pure CPU work on bytes (MIME, archives, docx, photos), so it can run apart from the process that
talks to the mailbox and the database. The worker runs under hard limits (address space, CPU time):
a hostile file that exhausts them, or crashes a C library, kills only the worker. Its message is
never analysed in the main process instead; the caller retries it once in a fresh worker and then
holds it for the office, so one small message cannot stall the mailbox.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
import logging
import mmap
import os
import resource
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from pathlib import Path
from typing import BinaryIO

from mailbot.domain.archive import Limits
from mailbot.domain.lift import Raw
from mailbot.domain.mime import parse_message
from mailbot.domain.submission import unpack
from mailbot.handover import Analysis, fresh_staging, hand_over, spill_into

log = logging.getLogger("mailbot")
PR_SET_PDEATHSIG = 1  # prctl option: the signal this process gets when its parent dies
ATTEMPTS = 2  # failed analyses of one message before it is held for the office
# After a message this large, free memory is handed back to the system: glibc keeps what a big
# parse freed (its mmap threshold grows), so a long-running process would stay at its peak.
TRIM_BYTES = 8 * 1024 * 1024
TRIM_AGAIN_SECONDS = 1.0  # idle this long after a job: the worker trims (the result has been sent)


def analyse(raw: Raw, limits: Limits, unpack_files: bool = True, staging: Path | None = None) -> Analysis:
    """Parsing and unpacking: CPU work on bytes, so it can run in a worker process. With a
    `staging` directory, large attachments are decoded into it and unpacked from there."""
    mail = parse_message(raw, spill_into(staging) if staging is not None else None)
    del raw  # the caller's last reference, when it passed none of its own: not kept while unpacking
    return Analysis(mail, unpack(mail.attachments, limits, _open_file) if unpack_files else None)


def _open_file(path: str) -> BinaryIO:
    return open(path, "rb")


@contextlib.contextmanager
def _mapped(path: str) -> Iterator[Raw]:
    """The stored message as a read-only map of its file: the parse reads it a window at a time
    and gives each window back, so a 28 MB message is never resident whole (an empty file, which
    cannot be mapped, as bytes)."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            yield b""
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            yield mapped


def analyse_within(raw_path: str, staging: str, limits: Limits, unpack_files: bool, cpu_seconds: int) -> Analysis:
    """In the worker: the stored message is read from its file and analysed; every file found goes
    to `staging` and the result carries digests instead of bytes, so the main process never holds
    a copy of the message or of what it unpacked. This message gets `cpu_seconds` more CPU time
    than the worker used so far (RLIMIT_CPU counts the process's whole life); past it the kernel
    kills the worker."""
    _cancel_idle_trim()
    used = resource.getrusage(resource.RUSAGE_SELF)
    spent = int(used.ru_utime + used.ru_stime) + 1
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu_seconds, hard))
    fresh_staging(Path(staging))
    with _mapped(raw_path) as raw:
        analysis = analyse(raw, limits, unpack_files, Path(staging))
    handed = hand_over(analysis, Path(staging))
    del analysis
    # python-docx's package is a cycle (parts <-> relationships) holding the docx's XML trees and
    # images: left to the collector's own schedule, the worker grew by ~1 MB a message (54 -> 105 MB
    # over 40). Cheap (1-3 ms) since the worker froze its start-up objects (_worker_start).
    gc.collect()
    if os.path.getsize(raw_path) >= TRIM_BYTES:
        release_memory()  # the parse's garbage, now
    _schedule_idle_trim()  # and everything, once the result is sent and no other job came
    return handed


_idle_trim: threading.Timer | None = None


def _cancel_idle_trim() -> None:
    if _idle_trim is not None:
        _idle_trim.cancel()


def _schedule_idle_trim() -> None:
    """After the big message's own trim, later ordinary ones still grow glibc's heap (its mmap
    threshold stays raised): when the worker has been idle for a moment, give that back too. Not
    between the jobs of a backlog, where the pages would only be faulted in again."""
    global _idle_trim
    _cancel_idle_trim()
    _idle_trim = threading.Timer(TRIM_AGAIN_SECONDS, release_memory)
    _idle_trim.daemon = True
    _idle_trim.start()


def _find_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None elsewhere (musl, macOS): there, nothing to do."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _find_malloc_trim()


def release_memory() -> None:
    """Return the allocator's free pages to the system (malloc_trim(0)); cheap (~ms), so it is
    called after every large message, in the worker and in the main process."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


Task = Callable[[str, str, Limits, bool, int], Analysis]  # what the worker runs: analyse_within


class Analyser:
    """One worker process parses and unpacks message N while this process fetches N+1 and records
    N-1: the machine's second core does the MIME, archive, docx and photo work."""

    def __init__(self, limits: Limits, memory_mb: int = 512, cpu_seconds: int = 60, task: Task | None = None) -> None:
        self.limits = limits
        self.task: Task = task or analyse_within
        self.memory_mb = memory_mb
        self.cpu_seconds = cpu_seconds
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, raw_path: Path, staging: Path, unpack_files: bool = True) -> Future[Analysis]:
        """The stored message at `raw_path` is analysed; its files arrive in `staging`."""
        try:
            pool = self._pool_now()
            return pool.submit(self.task, str(raw_path), str(staging), self.limits, unpack_files, self.cpu_seconds)
        except BrokenProcessPool:  # the worker died on an earlier message: a fresh one for this
            self.close()
            pool = self._pool_now()
            return pool.submit(self.task, str(raw_path), str(staging), self.limits, unpack_files, self.cpu_seconds)

    def warm(self) -> None:
        """Start the worker now and let it run a tiny sample through every stage, so the first
        real message after start-up does not wait for a process spawn, imports and decoders (about
        half a second). Queued like any job: a message submitted meanwhile simply runs after it."""
        try:
            self._pool_now().submit(_warm_up, self.limits)
        except BrokenProcessPool:  # the next submit starts a fresh worker anyway
            self.close()

    def settle(self) -> None:
        """Before going idle: give memory back. The pool's feeder thread keeps the last message it
        sent to the worker (a local in CPython's multiprocessing) until it sends another, so a tiny
        job goes first; then malloc_trim here (the worker trims itself when idle)."""
        if self._pool is not None:
            try:
                self._pool.submit(_nothing).result(timeout=30)
            except Exception:  # a broken or busy worker: the next submit deals with it
                log.debug("could not settle the analysis worker", exc_info=True)
        release_memory()

    def _pool_now(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=get_context("spawn"),
                initializer=_worker_start,
                initargs=(self.memory_mb,),
            )
        return self._pool

    def result(self, future: Future[Analysis]) -> Analysis | None:
        """The analysis, or None when the worker died or hit a limit (it is replaced)."""
        try:
            return future.result()
        except BrokenProcessPool:
            log.error("the analysis worker died (memory or CPU limit, or a crash); it is restarted")
        except CancelledError:  # queued behind a message that killed the worker; the caller retries it
            log.warning("an analysis was cancelled with its worker; it is tried again")
        except MemoryError:
            log.error("the analysis worker ran out of its memory limit; it is restarted")
        self.close()
        return None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _nothing() -> None:
    """A job that carries nothing (see Analyser.settle)."""


def _warm_up(limits: Limits) -> None:
    """In the worker: parse and unpack a small zipped .docx with one JPEG, touching the MIME,
    archive, docx and photo code (and their lazily loaded parts) once. Failure only costs speed."""
    from mailbot.samples.archives import build_zip
    from mailbot.samples.docx import build_docx
    from mailbot.samples.mail import build_mail
    from mailbot.samples.photos import make_photo

    try:
        manuscript = build_docx("预热", ["正文。"], ["撰稿：甲", "初审：乙", "复审：丙"])
        archive = build_zip([("预热.docx", manuscript), ("预热.jpg", make_photo(64, 48))])
        analyse(build_mail("warm@localhost", "预热", [("预热.zip", archive)]), limits)
    except Exception:  # a warm-up that fails changes nothing but the first message's latency
        log.debug("analysis worker warm-up failed", exc_info=True)
    # What the warm-up imported (python-docx, lxml, Pillow) joins the start-up objects that the
    # collection after every message no longer traverses: 6 ms less per message. Its own garbage first.
    gc.collect()
    gc.freeze()


def _worker_start(memory_mb: int) -> None:
    """The worker's limits, and it must not outlive a main process that was killed (Linux:
    PR_SET_PDEATHSIG)."""
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call above took effect
        os._exit(1)
    gc.freeze()  # the imported modules' objects: never garbage, no longer traversed by each collection
