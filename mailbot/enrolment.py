"""A registered liaison writing from an address not yet on record (annex 4 carries no email column).

The mail is held like any unknown sender's, but when its From name or its manuscript's 撰稿人 names a
registered liaison, the office is told who it seems to be and asked to confirm with one line
(`登记 张三 兴隆台区应急管理局`). The confirmation (office.enrol) records the address and releases the
held message, which is then checked and answered like any submission.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from mailbot.adapters.db import Liaison, Message, PendingLiaison, Unit
from mailbot.domain.archive import Limits
from mailbot.domain.mime import ParsedMail
from mailbot.domain.registry import named_liaisons
from mailbot.domain.submission import Submission
from mailbot.domain.vocabulary import Held
from mailbot.handover import Analysis
from mailbot.worker import Analyser, Task, analyse_within

if TYPE_CHECKING:
    from mailbot.ingest import Desk

log = logging.getLogger("mailbot")
RELEASE_TASK: Task = analyse_within  # what the worker runs on a released message (a test makes it fail)


def propose(s: Session, row: Message, mail: ParsedMail, sub: Submission | None, limits: Limits) -> dict[str, str]:
    """What the held notice proposes: `confirm`, the line that confirms the registered liaison the mail names
    (recorded as awaiting confirmation), or else `enrol`, the line that registers a new one. A stranger's
    attachments are never opened for this: only a footer the worker already read (it reads none for
    unknown senders today) adds names to the sender's own display name."""
    names = [mail.sender_name]
    if sub is not None and sub.manuscript is not None:
        names += [d.name for d in sub.manuscript.footer.drafters]
    registered = [(p.id, p.name, p.email) for p in s.exec(select(Liaison).where(col(Liaison.active))) if p.id]
    found = named_liaisons(names, registered)
    liaison = s.get(Liaison, found[0]) if found else None
    unit = s.get(Unit, liaison.unit_id) if liaison is not None else None
    if row.id is None or liaison is None or liaison.id is None or unit is None:
        return {"sender_name": mail.sender_name, "enrol": f"登记 姓名 单位 {mail.sender}"}
    s.add(PendingLiaison(message_pk=row.id, email=mail.sender, liaison_id=liaison.id))
    return {
        "sender_name": mail.sender_name,
        "liaison": liaison.name,
        "liaison_unit": unit.name,
        "known_address": liaison.email or "",
        "confirm": f"登记 {liaison.name} {unit.name} {mail.sender}",  # the address: a summary lists several
    }


def release_held(desk: Desk, s: Session, pk: int) -> None:
    """A held message whose sender the office has just registered (登记): checked and answered now, as if it
    had come from a registered address, its arrival time (which the date rules count from) unchanged."""
    row = s.get(Message, pk)
    if row is None or row.verdict != "held" or row.id is None:
        return
    analysis = _analysed(desk, row.raw_path, row.id)
    if analysis is None:  # the worker hit its memory or CPU limit: it stays held, now for that reason
        row.reasons = Held.ANALYSIS_FAILED
        s.add(row)
        log.warning("held message %s not released: its analysis failed in the worker", pk)
        return
    mail = analysis.mail
    try:
        liaison = s.exec(select(Liaison).where(Liaison.email == mail.sender, col(Liaison.active))).first()
        unit = s.get(Unit, liaison.unit_id) if liaison is not None else None
        if liaison is None or unit is None:
            return
        row.unit_id, row.liaison_id = unit.id, liaison.id
        outcome = desk._check(s, row, mail, analysis.submission, liaison, unit)  # a registered sender's path
    finally:
        desk.storage.drop_staging(row.id)  # a recorded item has taken its files
    row.verdict, row.reasons = outcome.verdict, " ".join(outcome.reasons)
    s.add(row)
    log.info("held message %s released for %s: %s %s", pk, unit.name, outcome.verdict, outcome.item_number or "-")


def _analysed(desk: Desk, raw_path: str, pk: int) -> Analysis | None:
    """The held mail, most likely a stranger's, is opened only where any mail is: in a worker process under
    the memory and CPU limits, whichever process the office confirmed it from (daemon, CLI or web)."""
    limits = desk.config.limits
    analyser = Analyser(desk.limits, limits.worker_memory_mb, limits.worker_cpu_seconds, task=RELEASE_TASK)
    try:
        return analyser.result(analyser.submit(desk.storage.root / raw_path, desk.storage.staging(pk)))
    finally:
        analyser.close()
