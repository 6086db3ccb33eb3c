"""Which way a message goes before its attachments are read: from plain facts, no I/O.

The order of the rules is the policy: the same bytes are never answered twice; robots are never
answered; an unauthenticated sender is held before anything it asks is done; office admins may
command (each command confirmed by a one-time code); a bare reply to our own mail goes to a person;
only a registered liaison within the hourly reply limit has its submission checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mailbot.domain.vocabulary import Held, Verdict


@dataclass(frozen=True)
class Outcome:
    """What happened to one message: its verdict, the codes behind it, the item and unit it concerns."""

    verdict: Verdict | str
    reasons: tuple[str, ...] = ()
    item_number: str = ""
    unit: str = ""


class Route(StrEnum):
    SEEN_BEFORE = "seen_before"  # answered already: record, never reply
    IGNORE = "ignore"  # a robot or ourselves: record, never reply
    HOLD = "hold"  # a person in the office decides
    COMMAND = "command"  # carry out an office command
    CHECK = "check"  # a liaison's submission: unpack and check it
    INCIDENT = "incident"  # a liaison's urgent incident report or answer: the fast lane, no routine checks


@dataclass(frozen=True)
class Arrival:
    """What the desk knows about a message before unpacking it."""

    seen_before: bool  # the same bytes already have a final verdict
    loop: str | None  # why it must not be answered (a robot, ourselves), or None
    authenticated: bool  # the receiving server vouched for the sender (or nobody asked it to)
    from_admin: bool  # the sender is in [office] admins
    looks_like_command: bool
    answers_our_mail: bool  # In-Reply-To/References name a message we sent
    has_attachments: bool
    liaison_known: bool  # an active liaison has this address
    replies_last_hour: int  # replies sent to this address in the last hour
    replies_per_hour: int  # the limit
    quotes_code: bool = False  # an admin's mail quotes the one-time code of a command sent to it
    incident: bool = False  # marked 【首报】/【续报】/【终报】..., or answering our incident mail


@dataclass(frozen=True)
class Triage:
    route: Route
    reason: str = ""  # for IGNORE the loop reason, for HOLD the `Held` code


def triage(a: Arrival) -> Triage:
    """The first rule that applies decides."""
    if a.seen_before:
        return Triage(Route.SEEN_BEFORE)
    if a.loop:
        return Triage(Route.IGNORE, a.loop)
    if not a.authenticated:
        return Triage(Route.HOLD, Held.UNAUTHENTICATED)
    bare_reply = a.answers_our_mail and not a.has_attachments
    if a.from_admin and (a.looks_like_command or bare_reply or a.quotes_code):
        return Triage(Route.COMMAND)
    if a.incident and a.liaison_known and a.replies_last_hour < a.replies_per_hour:
        return Triage(Route.INCIDENT)  # before the bare-reply rule: a 核报 answer is a plain reply
    if bare_reply:
        return Triage(Route.HOLD, Held.COMMAND_REFUSED if a.looks_like_command else Held.REPLY_TO_NOTICE)
    if not a.liaison_known:
        return Triage(Route.HOLD, Held.UNKNOWN_SENDER)
    if a.replies_last_hour >= a.replies_per_hour:
        return Triage(Route.HOLD, Held.RATE_LIMITED)
    return Triage(Route.CHECK)
