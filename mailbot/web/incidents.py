"""Open incidents (突发事件) in the browser: what each waits for and its deadline, and for officers the duty
office's 核报 and 批示 next to it.

A form becomes the same one-line command the duty office sends by email or gives to `mailbot incident`
(`核报 SJ-2026-007 书面`), read by the same parser and carried out by `IncidentDesk.command`, counted
from the moment it is given; the unit is mailed at once.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from mailbot import office
from mailbot.adapters.db import utcnow
from mailbot.bootstrap import App
from mailbot.domain.commands import INCIDENT_VERBS, CommandError, parse_command
from mailbot.domain.vocabulary import DemandKind
from mailbot.incident_watch import open_incidents
from mailbot.incidents import IncidentDesk
from mailbot.web import actions, guard

bp = Blueprint("incidents", __name__)
WORDS = {"verify": "核报", "instruct": "批示"}
VERIFY_KINDS = frozenset({DemandKind.VERIFY_PHONE, DemandKind.VERIFY_WRITTEN})


def _mailbot() -> App:
    return current_app.config["MAILBOT"]


@bp.route("/incidents")
def index() -> str:
    mb = _mailbot()
    rows = [
        (line, bool(line.asked & VERIFY_KINDS), DemandKind.INSTRUCTION in line.asked)
        for line in open_incidents(mb.config, mb.engine, utcnow())
    ]
    return render_template("web/incidents.html.j2", rows=rows)


@bp.route("/incidents/<number>/<verb>", methods=["POST"])
@guard.officer
def act(number: str, verb: str) -> Response:
    """核报 (电话/书面/已电话反馈) or 批示 (its text, or 已反馈) for one incident, as the emailed line would be."""
    if verb not in WORDS:
        abort(404)
    words = " ".join(request.form.get("words", "").split())[:500]
    line = f"{WORDS[verb]} {number[:40]} {words}"
    mb = _mailbot()

    def do(s: Session, by: str) -> office.Done:
        try:
            command = parse_command(line)
            if command.verb not in INCIDENT_VERBS:
                raise CommandError("这里只受理突发事件指令：核报、批示。")
            return IncidentDesk(mb.config, mb.desk.renderer).command(s, command, by, utcnow(), None, ())
        except CommandError as exc:  # the words after 核报/批示 are read when the command is carried out
            raise office.OfficeError(str(exc).splitlines()[0]) from None

    if actions.run(verb, line[:200], do) is not None:
        actions.send_soon(mb)  # the unit's 核报/批示 notice goes out now, urgent
    return redirect(url_for("incidents.index"))
