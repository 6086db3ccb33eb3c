"""The office's actions from the browser: 终审, 采用, 评分, 扣分, 约稿 and the registry, through mailbot.office.

Each runs the same service function as the CLI and the email commands, recorded with who
(web:<account>) and when; its audit entry is written in the same transaction, so an action is never
on record without its entry nor the other way round. The unit hears of an adoption or a return by the
same notice the CLI sends, and a sender confirmed by 登记 gets the reply to the mail that was held; both
are queued with the action and sent in the background.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from sqlmodel import Session
from werkzeug.wrappers import Response

from mailbot import office
from mailbot.adapters.db import AuditEntry
from mailbot.bootstrap import App
from mailbot.ports import ConnectionFailure
from mailbot.schedule import local_today
from mailbot.web import guard

log = logging.getLogger("mailbot.web")
bp = Blueprint("actions", __name__)
LEVELS = ("city", "province", "national")


def _mailbot() -> App:
    return current_app.config["MAILBOT"]


def _date(name: str) -> date:
    text = request.form.get(name, "").strip()
    if not text:
        return local_today(_mailbot())
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise office.OfficeError(f"日期“{text}”无法识别，请写成 2026-11-20。") from None


_SENDING = threading.Lock()


def _send_notices(app: App) -> None:
    """One sender at a time in this process: SQLite has no SKIP LOCKED to keep two from sending a row twice."""
    if not _SENDING.acquire(blocking=False):
        return  # the running send loops until nothing is due, this notice included
    try:
        app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; the notice to the unit stays queued: %s", exc)
    except Exception:  # a background send must not take the web server down; the daemon retries
        log.exception("sending the notice after a web action failed")
    finally:
        _SENDING.release()


def run(action: str, target: str, do: Callable[[Session, str], office.Done]) -> office.Done | None:
    """Carry out one action as the signed-in officer; the outcome is flashed for the next page."""
    app = _mailbot()
    actor = g.account.actor
    with Session(app.engine) as s:
        try:
            done = do(s, actor)
        except office.OfficeError as exc:
            s.rollback()
            s.add(
                AuditEntry(
                    account=actor, client=guard.client(), action=action, target=target, detail=str(exc), ok=False
                )
            )
            s.commit()
            flash(f"未执行：{exc}", "error")
            return None
        app.desk.office.released(s, done)  # 登记: held mail from the address is checked and answered
        s.add(AuditEntry(account=actor, client=guard.client(), action=action, target=target, detail=done.summary))
        s.commit()
    if done.notify and done.item_id is not None:
        app.desk.notify_unit(done.item_id, done.notify)
    if done.notify or done.release:
        send_soon(app)
    flash(done.summary, "ok")
    return done


def send_soon(app: App) -> None:
    wake = current_app.config["MAILBOT_WAKE"]
    if wake is not None:
        wake()
    else:
        threading.Thread(target=_send_notices, args=(app,), name="web-notice", daemon=True).start()


def _back(number: str) -> Response:
    return redirect(url_for("pages.item", number=number))


@bp.route("/items/<number>/review", methods=["POST"])
@guard.officer
def review(number: str) -> Response:
    decision = request.form.get("decision", "")
    if decision not in ("approved", "returned"):
        abort(400, "终审结论只能是通过或退回。")
    reason = request.form.get("reason", "")[:500]
    run("review", number, lambda s, by: office.review(s, number, decision, reason, by))
    return _back(number)


@bp.route("/items/<number>/adopt", methods=["POST"])
@guard.officer
def adopt(number: str) -> Response:
    level = request.form.get("level", "")
    if level not in LEVELS:
        abort(400, "采用级别只能是市级、省级或国家级。")
    publication = request.form.get("publication", "")[:200]
    run("adopt", number, lambda s, by: office.adopt(s, number, level, publication, _date("on"), by))
    return _back(number)


@bp.route("/items/<number>/grade", methods=["POST"])
@guard.officer
def grade(number: str) -> Response:
    value = request.form.get("grade", "")
    if value not in ("0", "1", "2", "3"):
        abort(400, "约稿评分只能是 0、1、2、3。")
    run("grade", number, lambda s, by: office.grade(s, number, int(value), by))
    return _back(number)


@bp.route("/units/<int:unit_id>/deduct", methods=["POST"])
@guard.officer
def deduct(unit_id: int) -> Response:
    from mailbot.adapters.db import Unit

    app = _mailbot()
    with Session(app.engine) as s:
        unit = s.get(Unit, unit_id)
    if unit is None:
        abort(404)
    try:
        points = float(request.form.get("points", "").strip())
    except ValueError:
        points = 0.0
    reason, person = request.form.get("reason", "")[:500], request.form.get("person", "")[:64].strip()
    run("deduct", unit.name, lambda s, by: office.deduct(s, unit.name, points, reason, _date("on"), by, person))
    return redirect(url_for("pages.unit", unit_id=unit_id, period=request.form.get("period", "")))


@bp.route("/solicitations", methods=["POST"])
@guard.officer
def solicit() -> Response:
    topic = request.form.get("topic", "")[:200]
    units = [u for u in request.form.getlist("units") if u]

    def do(s: Session, by: str) -> office.Done:
        row = office.solicit(s, topic, _date("deadline"), units, by)
        return office.Done(f"约稿《{row.topic}》已登记，截止 {row.deadline}，{'、'.join(units) or '全部单位'}。")

    run("solicit", topic, do)
    return redirect(url_for("pages.solicitation_list"))
