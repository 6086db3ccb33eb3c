"""The analysis worker: parsing and unpacking a message in a second process, on the second core.

Pure CPU work on bytes (MIME, archives, docx, photos), so it can run apart from the process that
talks to the mailbox and the database; a hostile file that crashes a C library kills only the worker.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context

from mailbot.domain.archive import Limits
from mailbot.domain.mime import ParsedMail, parse_message
from mailbot.domain.submission import Submission, unpack

log = logging.getLogger("mailbot")
PR_SET_PDEATHSIG = 1  # prctl option: the signal this process gets when its parent dies


@dataclass(frozen=True)
class Analysis:
    mail: ParsedMail
    submission: Submission


def analyse(raw: bytes, limits: Limits) -> Analysis:
    """Parsing and unpacking: pure CPU work on bytes, so it can run in a worker process."""
    mail = parse_message(raw)
    return Analysis(mail, unpack(mail.attachments, limits))


class Analyser:
    """One worker process parses and unpacks message N while this process fetches N+1 and records
    N-1: the machine's second core does the MIME, archive, docx and photo work. A worker that dies
    (a hostile file crashing a C library) is replaced, and that message is analysed here instead."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, raw: bytes) -> Future[Analysis]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=1, mp_context=get_context("spawn"), initializer=_die_with_parent
            )
        return self._pool.submit(analyse, raw, self.limits)

    def result(self, future: Future[Analysis], raw: bytes) -> Analysis:
        try:
            return future.result()
        except BrokenProcessPool:
            log.error("the analysis worker died; analysing this message in the main process")
            self.close()
            return analyse(raw, self.limits)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _die_with_parent() -> None:
    """A worker must not outlive a main process that was killed (Linux: PR_SET_PDEATHSIG)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() == 1:  # the parent died before the call above took effect
        os._exit(1)
