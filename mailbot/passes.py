"""Passes over a mailbox: every message in the open folder gets a verdict and is filed, in order.

`ingest_pass` is the daemon's unit of work; `poll_once` adds the outbox for `mailbot poll --once`.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from threading import Event
from typing import TYPE_CHECKING

from mailbot.domain.triage import Outcome
from mailbot.domain.vocabulary import MessageState
from mailbot.faults import crash_point
from mailbot.handover import Analysis
from mailbot.ingest import Desk
from mailbot.ports import ConnectionFailure, MailRef, Source, Transport
from mailbot.worker import ATTEMPTS, TRIM_BYTES, Analyser, release_memory

if TYPE_CHECKING:
    from mailbot.adapters.db import Message

log = logging.getLogger("mailbot")
# Earlier messages left with the worker, unrecorded, when the next is handed over: with two the
# worker always has one queued while this process records (with one, each waited on the other when
# a message was heavier than the last: backlog 7.5 -> 8.0 msg/s). Their bytes are on disk only.
IN_FLIGHT = 2


@dataclass(frozen=True)
class PassReport:
    outcomes: tuple[tuple[str, Outcome], ...]
    sent: int


@dataclass
class _InFlight:
    uid: str
    ref: MailRef
    pk: int
    size: int  # of the raw message, which is on disk: the worker reads it from there
    raw_path: str
    future: Future[Analysis] | None
    unpack: bool = True
    failed: bool = False  # analysed and failed ATTEMPTS times already (across restarts)


def ingest_pass(
    source: Source,
    desk: Desk,
    stop: Event | None = None,
    analyser: Analyser | None = None,
    recorded: Callable[[], None] | None = None,
) -> list[tuple[str, Outcome]]:
    """Every message in the open folder gets a verdict and is filed, in order; `stop` is checked
    between messages. With an analyser, messages are analysed in the worker while the next is
    fetched (up to IN_FLIGHT earlier ones); the raw bytes are stored before any analysis starts, as
    always, and the worker reads them from there: this process keeps no copy of a message once it
    is stored. `recorded` is called as each message is filed (its reply was queued with its verdict), so
    the daemon's sender need not wait for the rest of the pass."""
    results: list[tuple[str, Outcome]] = []
    desk.storage.clear_leftovers()  # what a run that died left unrecorded; nothing of ours is in flight yet
    uidvalidity, uids = source.listing()
    desk.reconcile(source.key, source.folder, uidvalidity, uids)
    pending: deque[_InFlight] = deque()
    sizes = source.sizes(uids)
    limit = desk.config.limits.max_message_bytes

    def file(uid: str, ref: MailRef, outcome: Outcome) -> None:
        source.file(uid, desk.folder_for(outcome.verdict))
        crash_point("mailbox_updated")
        desk.mark_filed(ref)
        results.append((uid, outcome))
        if recorded is not None:  # a reply sent means its message is filed, as it always has
            recorded()

    def start(uid: str, ref: MailRef, pk: int, stored: Message) -> _InFlight:
        size, raw_path = stored.size, stored.raw_path
        if analyser is None:
            return _InFlight(uid, ref, pk, size, raw_path, None)
        if desk.failures(pk) >= ATTEMPTS:  # it took the worker down twice, in earlier runs too
            return _InFlight(uid, ref, pk, size, raw_path, None, failed=True)
        unpack = desk.wants_unpacking(desk.storage.head(raw_path))
        return _InFlight(uid, ref, pk, size, raw_path, submit(raw_path, pk, unpack), unpack)

    def submit(raw_path: str, pk: int, unpack: bool) -> Future[Analysis]:
        assert analyser is not None
        return analyser.submit(desk.storage.root / raw_path, desk.storage.staging(pk), unpack)

    def finish() -> None:
        job = pending.popleft()
        analysis, failed, future = None, job.failed, job.future
        while analyser is not None and future is not None:
            analysis, future = analyser.result(future), None
            if analysis is None:  # the worker died or hit a limit: counted, tried once more, then held
                failed = desk.count_failure(job.pk) >= ATTEMPTS
                future = None if failed else submit(job.raw_path, job.pk, job.unpack)
        outcome = desk.record(job.pk, job.ref, analysis, failed=failed)
        desk.storage.drop_staging(job.pk)  # what the item did not take: unpacked files stay only with items
        desk.storage.let_go(job.raw_path)  # read by the worker and recorded: its pages serve the next one
        file(job.uid, job.ref, outcome)
        if job.size >= TRIM_BYTES:  # its garbage is gone: give the pages back
            del job, analysis
            release_memory()

    for uid in uids:
        if stop is not None and stop.is_set():
            break
        ref = MailRef(source.key, source.folder, uidvalidity, uid)
        known = desk.state(ref)
        if known is not None and known.state == MessageState.FILED:
            continue  # filed earlier but the move was not seen yet: nothing more to do
        if known is not None and known.state != MessageState.STORED:
            while pending:  # filed in order
                finish()
            file(uid, ref, Outcome(known.verdict, tuple(known.reasons.split())))
            continue
        if sizes.get(uid, 0) > limit:  # refused unread: its header answers the sender, the rest stays put
            head = source.fetch_headers(uid)
            pk = desk.store_raw(ref, head.raw, head.arrived, size=sizes[uid])
            while pending:
                finish()
            file(uid, ref, desk.record(pk, ref))
            continue
        fetched = source.fetch(uid)  # its first piece; the others as they are written away
        crash_point("fetched")
        pk = desk.store_raw(ref, fetched.parts, fetched.arrived)
        del fetched
        crash_point("raw_stored")
        stored = desk.state(ref)
        assert stored is not None
        job = start(uid, ref, pk, stored)
        if len(pending) >= IN_FLIGHT:
            finish()
        pending.append(job)
    while pending:
        finish()
    desk.held.send()
    return results


def poll_once(source: Source, desk: Desk, transport: Transport, analyser: Analyser | None = None) -> PassReport:
    """One full pass for `mailbot poll --once`: ingest everything, then send what is due."""
    source.open()
    try:
        results = ingest_pass(source, desk, analyser=analyser)
    finally:
        source.close()
    try:
        sent = desk.drain_outbox(transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable, replies stay queued for the next run: %s", exc)
        sent = 0
    return PassReport(tuple(results), sent)
