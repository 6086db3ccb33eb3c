"""The registry of 信息宣传员 in the browser: every unit with its liaisons, and for officers 登记, 调整, 停用
and the confirmation of a held sender.

A form is read by the emailed command's own rule (`registry_form`) and carried out by `office.apply`,
as the one-line reply `登记 张三 宣教科` is; a confirmed sender's held mail is released by the same
`OfficeMail.released`, so the browser keeps the registry by exactly the rules the email commands do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from mailbot import office
from mailbot.adapters.db import Liaison, Message, Unit
from mailbot.bootstrap import App
from mailbot.domain.commands import CommandError, registry_form
from mailbot.domain.vocabulary import Held, Verdict
from mailbot.schedule import local_today
from mailbot.web import actions, guard, records

bp = Blueprint("registry", __name__)
VERB_WORDS = {"enrol": "登记", "move": "调整", "retire": "停用"}


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    phone: str
    active: bool
    since: str


@dataclass(frozen=True)
class Roll:
    """One unit (单位/科室) and its liaisons, those in service first."""

    name: str
    kind: str
    aliases: str
    people: list[Person]


@dataclass(frozen=True)
class Proposal:
    """What the held notice proposed for an unknown sender: a registered liaison it seems to be, or
    only its display name; the officer corrects it before confirming."""

    name: str
    unit: str
    known: bool  # the mail names a liaison already registered (annex 4 without the address)


def _mailbot() -> App:
    return current_app.config["MAILBOT"]


def rolls(s: Session, tz: str) -> list[Roll]:
    people: dict[int, list[Person]] = {}
    query = select(Liaison).order_by(col(Liaison.active).desc(), col(Liaison.id))
    for p in s.exec(query):
        since = records.local_date(p.since, tz).isoformat()
        people.setdefault(p.unit_id, []).append(Person(p.name, p.email or "", p.phone, p.active, since))
    return [
        Roll(u.name, u.kind, "、".join(a for a in u.aliases.split("\n") if a), people.get(u.id or 0, []))
        for u in s.exec(select(Unit).order_by(col(Unit.id)))
    ]


def unit_names(s: Session) -> list[str]:
    return [u.name for u in s.exec(select(Unit).order_by(col(Unit.id)))]


def proposals(s: Session, ids: list[int]) -> dict[int, Proposal]:
    """For each held unknown sender, what `enrolment.propose` suggested when the mail was held (kept on
    the message as its held note): the form starts from it."""
    if not ids:
        return {}
    found: dict[int, Proposal] = {}
    for row in s.exec(select(Message).where(col(Message.id).in_(ids), Message.reasons == Held.UNKNOWN_SENDER)):
        note: dict[str, str] = json.loads(row.held_note) if row.held_note else {}
        name = note.get("liaison") or note.get("sender_name", "")
        if row.id is not None:
            found[row.id] = Proposal("".join(name.split()), note.get("liaison_unit", ""), "liaison" in note)
    return found


@bp.route("/registry")
def index() -> str:
    mb = _mailbot()
    with Session(mb.engine) as s:
        units = rolls(s, mb.config.timezone)
    return render_template("web/registry.html.j2", units=units, names=[u.name for u in units])


def _act(verb: str, name: str, unit: str, email: str = "") -> office.Done | None:
    """One registry command from a form, as `登记|调整|停用 姓名 单位 [邮箱]` by email would be."""
    target = " ".join(f for f in (name.strip(), unit.strip(), email.strip()) if f)[:200]

    def do(s: Session, by: str) -> office.Done:
        try:
            command = registry_form(verb, name, unit, email)
        except CommandError as exc:
            raise office.OfficeError(str(exc).splitlines()[0]) from None
        return office.apply(s, command, None, by, local_today(_mailbot()))

    return actions.run(verb, target, do)


def _field(name: str) -> str:
    return request.form.get(name, "")[:200]


@bp.route("/registry/<verb>", methods=["POST"])
@guard.officer
def act(verb: str) -> Response:
    if verb not in VERB_WORDS:
        abort(404)
    _act(verb, _field("name"), _field("unit"), _field("email") if verb == "enrol" else "")
    return redirect(url_for("registry.index"))


@bp.route("/held/<int:message_id>/enrol", methods=["POST"])
@guard.officer
def confirm(message_id: int) -> Response:
    """登记 from the held list: the address is the held message's own sender, never one typed in, so
    the message it stands next to is the one released."""
    with Session(_mailbot().engine) as s:
        row = s.get(Message, message_id)
    if row is None:
        abort(404)
    if row.verdict != Verdict.HELD or row.reasons != Held.UNKNOWN_SENDER:
        flash("这封来信已不在待登记的暂存邮件中（可能已由他人处理）。", "error")
    else:
        _act("enrol", _field("name"), _field("unit"), row.sender)
    return redirect(url_for("pages.held"))
