"""The incident desk: urgent incident reports (突发事件信息报告) recorded, numbered and passed on at once.

A report marked 【首报】【续报】【终报】 skips the routine checks (三审 footer, photos, length: what is
missing becomes a warning), is answered at once with its incident number, and goes to the duty office
marked urgent with the report attached. 核报 and 批示 (the office's commands) become deadlines in the
database; `mailbot.incident_watch` alerts when they pass. Everything runs in the caller's transaction,
like the rest of the desk: a report, its receipt and its duty notice are committed together.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from mailbot.adapters.db import Liaison, Message, Outbox, Unit
from mailbot.adapters.incident_tables import Incident, IncidentAlert, IncidentDemand, IncidentReport
from mailbot.adapters.render import Renderer
from mailbot.compose import reply_subject
from mailbot.config import Config
from mailbot.domain import incidents as rules
from mailbot.domain.commands import Command
from mailbot.domain.footer import parse_footer
from mailbot.domain.formats import local, local_time
from mailbot.domain.mime import ParsedMail, message_ids
from mailbot.domain.submission import Submission
from mailbot.domain.triage import Outcome
from mailbot.domain.vocabulary import (
    DEMAND_NAMES,
    STAGE_NAMES,
    DemandKind,
    Held,
    IncidentMail,
    IncidentStage,
    Verdict,
)
from mailbot.incident_mail import duty_of, limits_of, queue, utc
from mailbot.office import Done, OfficeError

log = logging.getLogger("mailbot")
# Which demands a written answer of each stage closes.
ANSWERS: dict[IncidentStage, tuple[DemandKind, ...]] = {
    IncidentStage.VERIFY: (DemandKind.VERIFY_WRITTEN, DemandKind.VERIFY_PHONE),
    IncidentStage.FEEDBACK: (DemandKind.INSTRUCTION,),
}


@dataclass(frozen=True)
class Urgent:
    """Why a mail is on the fast lane: the stage it declares, and the incident (and demand) it answers."""

    stage: IncidentStage | None
    incident_id: int | None = None
    demand_id: int | None = None


class IncidentDesk:
    """Receives incident reports and carries out 核报/批示; its mail goes straight into the outbox."""

    def __init__(self, config: Config, renderer: Renderer) -> None:
        self.config = config
        self.renderer = renderer
        self.tz = ZoneInfo(config.timezone)
        self.limits = limits_of(config)

    # -- which mail is urgent --------------------------------------------------------------------

    def concerns(self, s: Session, mail: ParsedMail, sub: Submission | None = None) -> Urgent | None:
        """A report marked in its subject, on its first line or its manuscript's, or a mail answering
        our incident mail (by reply or by number); None for everything else, which the desk checks."""
        cfg = self.config.incidents
        if not cfg.enabled:
            return None
        lines = [rules.first_line(mail.text)]
        ms = sub.manuscript if sub is not None else None
        if ms is not None:
            lines += [ms.title, next((p for p in ms.body if p.strip()), "")]
        stage = rules.marked_stage(mail.subject, lines, cfg.markers)
        incident_id, demand_id = self._linked(s, mail)
        if stage is None and incident_id is None:
            return None
        return Urgent(stage, incident_id, demand_id)

    def _linked(self, s: Session, mail: ParsedMail) -> tuple[int | None, int | None]:
        """(incident, demand) a mail answers: a reply to a demand notice or a receipt, else a number."""
        ids = (*mail.references, *message_ids(mail.headers.get("in-reply-to", "")))
        if ids:
            demand = s.exec(select(IncidentDemand).where(col(IncidentDemand.notice_id).in_(ids))).first()
            if demand is not None:
                return demand.incident_id, demand.id
            report = s.exec(select(IncidentReport).where(col(IncidentReport.receipt_id).in_(ids))).first()
            if report is not None:
                return report.incident_id, None
        for number in rules.numbers_in(
            f"{mail.subject}\n{rules.first_line(mail.text)}", self.config.incidents.number_prefix
        ):
            found = s.exec(select(Incident).where(Incident.number == number)).first()
            if found is not None:
                return found.id, None
        return None, None

    # -- receiving a report ------------------------------------------------------------------------

    def receive(
        self, s: Session, row: Message, mail: ParsedMail, sub: Submission, liaison: Liaison, unit: Unit, why: Urgent
    ) -> Outcome:
        """Record the report under its incident (a 首报 opens one), answer it, and tell the duty office."""
        assert row.id is not None and unit.id is not None
        stage = why.stage
        demand = s.get(IncidentDemand, why.demand_id) if why.demand_id else None
        if demand is not None and stage not in (IncidentStage.FINAL, IncidentStage.FOLLOW_UP):
            stage = IncidentStage.FEEDBACK if demand.kind == DemandKind.INSTRUCTION else IncidentStage.VERIFY
        stage = stage or IncidentStage.FOLLOW_UP  # an unmarked reply to our incident mail
        if stage == IncidentStage.FIRST and why.incident_id is not None:
            stage = IncidentStage.FOLLOW_UP  # a reply to the receipt keeps 【首报】 in its subject
        ms = sub.manuscript
        text_lines = [*mail.text.splitlines(), *((ms.title, *ms.body) if ms else ())]
        arrived = local(row.received_at, self.tz)
        warnings: list[str] = []
        if why.incident_id is None:
            if stage != IncidentStage.FIRST:
                return self._unlinked(s, row, mail, unit, stage)
            incident = self._open(s, row, mail, sub, liaison, unit, text_lines)
            if incident.occurred_at is None:
                warnings.append("未能从报告中识别事发时间，请在正文写明“事发时间：2026年12月2日9时30分”。")
        else:
            found = s.get(Incident, why.incident_id)
            assert found is not None
            incident = found
        assert incident.id is not None
        answered = self._answer(s, incident, row, stage, demand)
        if stage == IncidentStage.FINAL and not incident.closed:
            incident.closed, incident.final_at = True, row.received_at
            s.add(incident)
        footer = ms.footer if ms is not None else parse_footer(mail.text.splitlines())
        missing = [
            label
            for label, value in (
                ("撰稿人", footer.drafters),
                ("初审人", footer.first_reviewer),
                ("复审人", footer.second_reviewer),
            )
            if not value
        ]
        if missing and stage in (IncidentStage.FIRST, IncidentStage.FOLLOW_UP, IncidentStage.FINAL):
            warnings.append(f"报告未写明{'、'.join(missing)}。紧急信息先行受理，请在续报或终报中补齐三审信息。")
        delay = rules.delay_minutes(
            local(incident.occurred_at, self.tz) if incident.occurred_at else None, local(incident.first_at, self.tz)
        )
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "liaison_name": liaison.name,
            "unit_name": unit.name,
            "number": incident.number,
            "title": incident.title,
            "stage_name": STAGE_NAMES[stage],
            "received_at": local_time(arrived, self.tz),
            "occurred_at": local_time(incident.occurred_at, self.tz) if incident.occurred_at else "",
            "delay": rules.duration_text(delay) if delay is not None else "",
            "is_first": stage == IncidentStage.FIRST,
            "closed": incident.closed,
            "answered": answered,
            "warnings": warnings,
            "liaison_phone": liaison.phone,
            "sender": mail.sender,
            "text": mail.text.strip()[:4000],
            "files": [a.name for a in mail.attachments],
        }
        receipt_id = self.queue(
            s,
            row.id,
            IncidentMail.RECEIPT,
            "incident/receipt",
            (mail.sender,),
            reply_subject(f"【{STAGE_NAMES[stage]}已收到】{incident.number} {mail.subject}"),
            context,
            in_reply_to=mail.message_id,
            references=mail.references,
        )
        s.add(
            IncidentReport(
                incident_id=incident.id,
                message_pk=row.id,
                stage=stage,
                received_at=row.received_at,
                receipt_id=receipt_id,
            )
        )
        attached, total = [], 0
        for a in mail.attachments:
            total += a.size
            if total <= self.config.incidents.attach_max_bytes:
                attached.append((a.name or "附件", a.data, a.content_type or "application/octet-stream"))
        self.queue(
            s,
            row.id,
            IncidentMail.DUTY,
            "incident/duty",
            self.duty(),
            f"【紧急】【{STAGE_NAMES[stage]}】{incident.number} {unit.name}：{incident.title}",
            context | {"left_out": len(attached) < len(mail.attachments)},
            urgent=True,
            attachments=tuple(attached),
        )
        log.info("incident %s: %s from %s (%s)", incident.number, stage, unit.name, mail.sender)
        return Outcome(Verdict.INCIDENT, (str(stage), *(["warnings"] if warnings else [])), incident.number, unit.name)

    def _open(
        self,
        s: Session,
        row: Message,
        mail: ParsedMail,
        sub: Submission,
        liaison: Liaison,
        unit: Unit,
        text_lines: list[str],
    ) -> Incident:
        """A new incident numbered in the local year of its 首报's arrival."""
        assert unit.id is not None
        arrived = local(row.received_at, self.tz)
        seq = (s.exec(select(func.max(Incident.seq)).where(Incident.year == arrived.year)).one() or 0) + 1
        ms = sub.manuscript
        title = (ms.title if ms and ms.title.strip() else "") or _untagged(mail.subject) or rules.first_line(mail.text)
        occurred = rules.incident_time(text_lines, arrived)
        incident = Incident(
            number=rules.incident_number(self.config.incidents.number_prefix, arrived.year, seq),
            year=arrived.year,
            seq=seq,
            unit_id=unit.id,
            liaison_id=liaison.id,
            title=(title or "（无标题）")[:200],
            occurred_at=occurred.astimezone(UTC) if occurred else None,
            first_at=row.received_at,
        )
        s.add(incident)
        s.flush()
        return incident

    def _answer(
        self, s: Session, incident: Incident, row: Message, stage: IncidentStage, demand: IncidentDemand | None
    ) -> str:
        """A written answer closes the demand it replies to, or the incident's latest open one of its kind."""
        kinds = ANSWERS.get(stage, ())
        if demand is None and kinds:
            demand = s.exec(
                select(IncidentDemand)
                .where(
                    IncidentDemand.incident_id == incident.id,
                    col(IncidentDemand.answered_at).is_(None),
                    col(IncidentDemand.kind).in_(kinds),
                )
                .order_by(col(IncidentDemand.id).desc())
            ).first()
        if demand is None or demand.answered_at is not None:
            return ""
        demand.answered_at, demand.answered_how, demand.answer_pk = row.received_at, "written", row.id
        s.add(demand)
        when = "按时" if utc(row.received_at) <= utc(demand.due_at) else "逾期"
        return f"{DEMAND_NAMES[demand.kind]}{when}反馈（截止 {local_time(demand.due_at, self.tz)}）"

    def _unlinked(self, s: Session, row: Message, mail: ParsedMail, unit: Unit, stage: IncidentStage) -> Outcome:
        """A 续报 naming no incident: held, and the duty office told which open incidents it may belong to."""
        open_ = s.exec(select(Incident).where(col(Incident.closed).is_(False)).order_by(col(Incident.id).desc())).all()
        own = [i for i in open_ if i.unit_id == unit.id]
        candidates = [f"{i.number}《{i.title}》（首报 {local_time(i.first_at, self.tz)}）" for i in (own or open_)[:5]]
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "unit_name": unit.name,
            "sender": mail.sender,
            "subject": mail.subject or "(无主题)",
            "stage_name": STAGE_NAMES[stage],
            "received_at": local_time(row.received_at, self.tz),
            "candidates": candidates,
            "prefix": self.config.incidents.number_prefix,
        }
        self.queue(
            s,
            row.id,
            IncidentMail.HELD,
            "incident/held",
            self.duty(),
            f"【紧急】【待确认】{unit.name}的{STAGE_NAMES[stage]}未注明事件编号",
            context,
            urgent=True,
        )
        return Outcome(Verdict.HELD, (Held.INCIDENT_UNLINKED,), unit=unit.name)

    # -- the office's commands -----------------------------------------------------------------------

    def command(
        self, s: Session, command: Command, by: str, at: datetime, message_pk: int | None, refs: tuple[str, ...]
    ) -> Done:
        """核报 / 批示 and their phone answers; `at` is when the office asked (the command's arrival)."""
        asked = rules.parse_incident_command(command.verb, command.reason, self.config.incidents.number_prefix)
        incident = self._incident(s, asked.number, refs)
        assert incident.id is not None
        unit = s.get(Unit, incident.unit_id)
        assert unit is not None
        if asked.action in ("verify_answered", "instruct_answered"):
            kinds = ANSWERS[IncidentStage.VERIFY if asked.action == "verify_answered" else IncidentStage.FEEDBACK]
            demand = s.exec(
                select(IncidentDemand)
                .where(
                    IncidentDemand.incident_id == incident.id,
                    col(IncidentDemand.answered_at).is_(None),
                    col(IncidentDemand.kind).in_(kinds),
                )
                .order_by(col(IncidentDemand.id).desc())
            ).first()
            if demand is None:
                raise OfficeError(
                    f"事件 {incident.number} 没有待反馈的{'核报' if 'verify' in asked.action else '批示'}。"
                )
            demand.answered_at, demand.answered_how = at, "phone"
            s.add(demand)
            late = utc(at) > utc(demand.due_at)
            return Done(
                f"已登记：{unit.name}已电话反馈事件 {incident.number} 的{DEMAND_NAMES[demand.kind]}"
                f"（{'逾期' if late else '按时'}，截止 {local_time(demand.due_at, self.tz)}）。"
            )
        assert asked.kind is not None
        due = rules.demand_due(asked.kind, local(at, self.tz), self.limits)
        demand = IncidentDemand(
            incident_id=incident.id, kind=asked.kind, text=asked.text, asked_at=at, due_at=due.astimezone(UTC), by=by
        )
        people = s.exec(select(Liaison).where(Liaison.unit_id == incident.unit_id, col(Liaison.active))).all()
        if not people:
            raise OfficeError(f"{unit.name}没有在用的信息宣传员邮箱，无法发送通知，请电话联系。")
        context: dict[str, object] = {
            "office_name": self.config.office.name,
            "liaison_name": "、".join(p.name for p in people if p.name),
            "unit_name": unit.name,
            "number": incident.number,
            "title": incident.title,
            "kind": str(asked.kind),
            "demand_name": DEMAND_NAMES[asked.kind],
            "text": asked.text,
            "asked_at": local_time(at, self.tz),
            "due_at": local_time(due, self.tz),
        }
        word = "批示" if asked.kind == DemandKind.INSTRUCTION else "核报"
        demand.notice_id = self.queue(
            s,
            message_pk,
            IncidentMail.DEMAND,
            "incident/demand",
            tuple(p.email for p in people if p.email),
            f"【紧急】【{word}】{incident.number} 请于 {local(due, self.tz):%H:%M} 前反馈：{incident.title}",
            context,
            urgent=True,
        )
        s.add(demand)
        s.flush()
        return Done(
            f"已通知{unit.name}（{'、'.join(p.email for p in people if p.email)}）：事件 {incident.number} "
            f"{DEMAND_NAMES[asked.kind]}，截止 {local_time(due, self.tz)}。"
        )

    def _incident(self, s: Session, number: str | None, refs: tuple[str, ...]) -> Incident:
        """By number, or the incident of the notice the command replies to (a duty notice or an alert)."""
        if number is None and refs:
            sent = s.exec(select(Outbox).where(col(Outbox.message_id).in_(refs))).all()
            pks = [o.message_pk for o in sent if o.message_pk]
            report = s.exec(select(IncidentReport).where(col(IncidentReport.message_pk).in_(pks))).first()
            alert = s.exec(select(IncidentAlert).where(col(IncidentAlert.outbox_id).in_([o.id for o in sent]))).first()
            incident_id = report.incident_id if report else alert.incident_id if alert else None
            if incident_id is not None:
                found = s.get(Incident, incident_id)
                assert found is not None
                return found
        if number is None:
            raise OfficeError("没有指明事件编号：请写明编号（如 SJ-2026-007），或直接回复该事件的值班通知。")
        found = s.exec(select(Incident).where(Incident.number == number)).first()
        if found is None:
            raise OfficeError(f"没有编号为 {number} 的突发事件。")
        return found

    # -- mail ------------------------------------------------------------------------------------

    def duty(self) -> tuple[str, ...]:
        return duty_of(self.config)

    def queue(self, s: Session, message_pk: int | None, *args: Any, **kwargs: Any) -> str:
        return queue(self.config, self.renderer, s, message_pk, *args, **kwargs)


def _untagged(subject: str) -> str:
    """The subject without its 【tags】: what the report is about."""
    return re.sub(r"[【\[〔][^】\]〕]{0,20}[】\]〕]", "", subject).strip(" ：:，,")
