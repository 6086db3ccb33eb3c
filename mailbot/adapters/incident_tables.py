"""Tables of the incident desk: incidents, their reports, what the duty office asked, and each alert sent.

Every deadline is a row (`IncidentDemand.due_at`) and every alert a unique key (`IncidentAlert.key`)
written in the transaction that queues its mail: a restart loses no deadline and repeats no alert.
Imported by `mailbot.adapters.db`, so these tables are part of the one schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def _now() -> datetime:
    return datetime.now(UTC)


class Incident(SQLModel, table=True):
    """One incident, numbered by its 首报 (SJ-2026-007); closed by its 终报."""

    __table_args__ = (UniqueConstraint("year", "seq"),)
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, index=True)
    year: int
    seq: int
    unit_id: int = Field(foreign_key="unit.id", index=True)
    liaison_id: int | None = Field(default=None, foreign_key="liaison.id")
    title: str = Field(sa_column=Column(Text, nullable=False))
    occurred_at: datetime | None = None  # 事发时间, when the report gives one
    first_at: datetime = Field(index=True)  # arrival of the 首报 in the mailbox
    final_at: datetime | None = None  # arrival of the 终报
    closed: bool = Field(default=False, index=True)


class IncidentReport(SQLModel, table=True):
    """A written report on an incident: 首报, 续报, 终报, a 核报 answer or 批示 feedback."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    message_pk: int = Field(foreign_key="message.id", unique=True)
    stage: str  # a vocabulary.IncidentStage
    received_at: datetime
    receipt_id: str = Field(default="", index=True)  # Message-ID of our receipt: replies to it link here


class IncidentDemand(SQLModel, table=True):
    """What the duty office asked of the unit (核报, 批示), when it is due and when it was answered."""

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    kind: str  # a vocabulary.DemandKind
    text: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # the 批示
    asked_at: datetime
    due_at: datetime = Field(index=True)
    by: str
    notice_id: str = Field(default="", index=True)  # Message-ID of the notice to the unit
    answered_at: datetime | None = None
    answered_how: str = ""  # written | phone
    answer_pk: int | None = Field(default=None, foreign_key="message.id")


class IncidentAlert(SQLModel, table=True):
    """One row per alert or reminder sent: the key that makes each go out once."""

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True)
    incident_id: int = Field(foreign_key="incident.id", index=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    created_at: datetime = Field(default_factory=_now)
