"""Pages to read: the register, one item, its files, a unit's points explained, held mail, 约稿.

Files and raw messages are served from storage by row id and always as downloads: the name on the
page is the sender's file name, never where the server keeps it.
"""

from __future__ import annotations

import mimetypes
import re
from datetime import date
from io import BytesIO
from typing import Any

from flask import Blueprint, abort, current_app, flash, render_template, request, send_file
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from mailbot.adapters.db import AuditEntry, Item, Message, StoredFile, Unit
from mailbot.adapters.storage import Storage
from mailbot.bootstrap import App
from mailbot.domain.calendar import Period, month_of, parse_period
from mailbot.domain.commands import LEVEL_NAMES
from mailbot.domain.vocabulary import KIND_LABELS, Held
from mailbot.queries import STATUS_NAMES, solicitations
from mailbot.schedule import local_today
from mailbot.web import explain, guard, records, registry

bp = Blueprint("pages", __name__)
SOURCE_NAMES = {"submission": "报送", "column": "栏目", "adoption": "采用", "solicitation": "约稿", "deduction": "扣分"}
# What the office can do next about held mail, by the reason it was held. An unknown sender is
# confirmed on the same page (登记, officers only), which releases the held mail like the emailed 登记.
HELD_NEXT = {
    "unknown_sender": "核实发件人身份：确是信息宣传员的（新人，或已登记者换了邮箱），由办理人员在此写明姓名和"
    "单位（科室）确认登记，暂存的来信随即按正常稿件审核并答复发件人；不是的，无须处理。",
    "rate_limited": "查看原始邮件；如无异常，稍后的来信会照常自动回复。",
    "reply_to_notice": "下载原始邮件，人工答复发件人的问题。",
    "command_refused": "核实发件人；需要执行的指令请由管理员在本系统中办理。",
    "unauthenticated": "与单位电话核实是否本人发送；确认后请其从单位邮箱重新报送。",
    "internal_error": "下载原始邮件人工处理，并把日志中的错误告知维护人员。",
}


def mailbot() -> App:
    return current_app.config["MAILBOT"]


def period_arg(default: Period | None = None) -> Period:
    today = local_today(mailbot())
    text = request.args.get("period", "").strip()
    if text:
        try:
            return parse_period(text)
        except ValueError:
            flash(f"期间“{text}”无法识别，请写成 2026-W48、2026-11、2026-Q4 或 2026。", "error")
    return default or month_of(today)


def _int(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() else None


@bp.route("/")
def items() -> str:
    mb = mailbot()
    period = period_arg()
    filters = records.Filters(
        period=period,
        unit_id=_int("unit"),
        kind=request.args.get("kind", "") if request.args.get("kind") in KIND_LABELS else "",
        column=request.args.get("column", "")[:200],
        status=request.args.get("status", "") if request.args.get("status") in STATUS_NAMES else "",
        solicited=request.args.get("solicited", "") if request.args.get("solicited") in ("yes", "no") else "",
        text=request.args.get("q", "")[:200],
        page=_int("page") or 1,
    )
    with Session(mb.engine) as s:
        found = records.search(s, mb.config, filters)
        units = list(s.exec(select(Unit).order_by(col(Unit.id))))
        unit_total = None
        if filters.unit_id:
            entries = records.bulletin_ledger(s, mb.config, period, local_today(mb), frozenset({filters.unit_id}))
            unit_total = records.unit_totals(entries, period).get(filters.unit_id, 0.0)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template(
        "web/items.html.j2",
        found=found,
        f=filters,
        units=units,
        columns=[c.name for c in mb.config.columns],
        kinds=KIND_LABELS,
        statuses=STATUS_NAMES,
        unit_total=unit_total,
        args=args,
    )


@bp.route("/items/<number>")
def item(number: str) -> str:
    if not re.fullmatch(r"\d{4}-\d{1,6}", number):
        abort(404)
    mb = mailbot()
    with Session(mb.engine) as s:
        page = records.item_page(s, mb.config, number, local_today(mb))
        if page is None:
            abort(404)
        numbers = _numbers(s, [e.item_id for e in page.ledger])
    return render_template(
        "web/item.html.j2",
        p=page,
        levels=LEVEL_NAMES,
        sources=SOURCE_NAMES,
        numbers=numbers,
        today=local_today(mb).isoformat(),
        received=records.local(page.item.received_at, mb.config.timezone),
    )


def _numbers(s: Session, ids: list[int | None]) -> dict[int, str]:
    wanted = [i for i in set(ids) if i is not None]
    if not wanted:
        return {}
    return {i: n for i, n in s.exec(select(Item.id, Item.number).where(col(Item.id).in_(wanted))) if i is not None}


@bp.route("/files/<int:file_id>")
def stored_file(file_id: int) -> Response:
    mb = mailbot()
    with Session(mb.engine) as s:
        row = s.get(StoredFile, file_id)
    if row is None or row.kind == "archive" or not re.fullmatch(r"[0-9a-f]{64}", row.sha256):
        abort(404)  # an archive is kept inside its raw message, not on its own
    storage = Storage(mb.config.storage_dir())
    try:
        data = storage.get(f"files/{row.sha256[:2]}/{row.sha256}")  # the layout Storage.put gives area "files"
    except OSError:
        abort(404)
    name = records.display_name(row.path)
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return send_file(BytesIO(data), mimetype=kind, as_attachment=True, download_name=name)


@bp.route("/messages/<int:message_id>.eml")
def raw_message(message_id: int) -> Response:
    mb = mailbot()
    with Session(mb.engine) as s:
        row = s.get(Message, message_id)
    if row is None:
        abort(404)
    try:
        data = Storage(mb.config.storage_dir()).get(row.raw_path)
    except OSError:
        abort(404)
    return send_file(BytesIO(data), mimetype="message/rfc822", as_attachment=True, download_name=f"邮件{row.id}.eml")


@bp.route("/units")
def units() -> str:
    mb = mailbot()
    period = period_arg()
    with Session(mb.engine) as s:
        rows = explain.standings(s, mb.config, period, local_today(mb))
    return render_template("web/units.html.j2", rows=rows, period=period)


@bp.route("/units/<int:unit_id>")
def unit(unit_id: int) -> str:
    mb = mailbot()
    period = period_arg()
    with Session(mb.engine) as s:
        account = explain.unit_account(s, mb.config, unit_id, period, local_today(mb))
        if account is None:
            abort(404)
        numbers = _numbers(s, [e.item_id for e in account.lines])
    return render_template(
        "web/unit.html.j2",
        a=account,
        period=period,
        sources=SOURCE_NAMES,
        numbers=numbers,
        today=local_today(mb).isoformat(),
    )


@bp.route("/held")
def held() -> str:
    mb = mailbot()
    with Session(mb.engine) as s:
        rows = records.held(s, mb.config)
        proposed = registry.proposals(s, [m.id for m in rows if m.reason == Held.UNKNOWN_SENDER])
        names = registry.unit_names(s)
    return render_template("web/held.html.j2", rows=rows, next_steps=HELD_NEXT, proposed=proposed, names=names)


@bp.route("/solicitations")
def solicitation_list() -> str:
    mb = mailbot()
    with Session(mb.engine) as s:
        names = [u.name for u in s.exec(select(Unit).order_by(col(Unit.id)))]
    return render_template(
        "web/solicitations.html.j2",
        rows=solicitations(mb.engine, mb.config.timezone),
        units=names,
        today=local_today(mb).isoformat(),
    )


AUDIT_NAMES = {
    "login": "登录",
    "login_failed": "登录失败",
    "login_locked": "登录被暂停",
    "logout": "退出",
    "review": "终审",
    "adopt": "采用",
    "grade": "约稿评分",
    "deduct": "扣分",
    "solicit": "登记约稿",
    "account_add": "开设账号",
    "account_passwd": "更改密码",
    "account_disable": "停用账号",
    "enrol": "登记宣传员",
    "move": "调整宣传员",
    "retire": "停用宣传员",
    "verify": "突发事件核报",
    "instruct": "突发事件批示",
}


@bp.route("/audit")
@guard.officer
def audit() -> str:
    """The last 300 entries of the audit trail: who signed in, who did what, from where."""
    mb = mailbot()
    with Session(mb.engine) as s:
        rows = list(s.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(300)))
    tz = mb.config.timezone
    entries = [
        (records.local(r.at, tz), r.account, AUDIT_NAMES.get(r.action, r.action), r.target, r.detail, r.client, r.ok)
        for r in rows
    ]
    return render_template("web/audit.html.j2", entries=entries)


@bp.app_template_filter("day")
def _day(value: date) -> str:
    return value.isoformat()


@bp.app_context_processor
def _nav() -> dict[str, Any]:
    return {"nav": request.endpoint or ""}
