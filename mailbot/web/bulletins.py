"""Every digest and bulletin sent, to read and download again, and a bulletin for any period on demand.

A sent one is shown from its outbox row, the very message that went out (its HTML, chart and .xlsx
taken from the MIME parts), not rebuilt: later corrections must not change what was issued. One built
on demand goes through digests.build_report and render, as `mailbot digest` does.
"""

from __future__ import annotations

import base64
from io import BytesIO
from typing import Any

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, send_file
from sqlmodel import Session, col, select
from werkzeug.wrappers import Response

from mailbot import digest_mail, digests
from mailbot.adapters.db import Outbox
from mailbot.bootstrap import App
from mailbot.domain.calendar import Period, parse_period
from mailbot.schedule import local_today
from mailbot.web.records import OUTBOX_STATES, local, parse

bp = Blueprint("bulletins", __name__)
KIND_NAMES = {"weekly": "周报", "monthly": "月度通报", "quarterly": "季度通报", "yearly": "年度通报"}
# The bulletin's own HTML carries inline styles (mail clients drop <style>); no script runs in it.
BULLETIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"


def _mailbot() -> App:
    return current_app.config["MAILBOT"]


@bp.route("/bulletins")
def index() -> str:
    app = _mailbot()
    with Session(app.engine) as s:
        rows = s.exec(
            select(  # type: ignore[call-overload]
                Outbox.id, Outbox.kind, Outbox.subject, Outbox.state, Outbox.created_at, Outbox.sent_at
            )
            .where(col(Outbox.kind).startswith("digest"))
            .order_by(col(Outbox.id).desc())
        ).all()
    tz = app.config.timezone
    sent = [
        (i, KIND_NAMES.get(k.removeprefix("digest_"), k), subj, OUTBOX_STATES.get(st, st), local(c, tz), sa)
        for i, k, subj, st, c, sa in rows
    ]
    default = digest_mail.last_complete("monthly", local_today(app)).label
    return render_template("web/bulletins.html.j2", sent=sent, kinds=KIND_NAMES, default=default)


def _sent(outbox_id: int) -> Outbox:
    with Session(_mailbot().engine) as s:
        row = s.get(Outbox, outbox_id)
    if row is None or not row.kind.startswith("digest"):
        abort(404)
    return row


def _part(row: Outbox, wanted: str) -> bytes:
    for part in parse(row.raw).walk():
        if part.get_content_type() == wanted and not part.is_multipart():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload
    abort(404)


def _page(html: str) -> Response:
    response = make_response(html)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    response.headers["Content-Security-Policy"] = BULLETIN_CSP
    return response


@bp.route("/bulletins/<int:outbox_id>")
def sent_html(outbox_id: int) -> Response:
    row = _sent(outbox_id)
    html = _part(row, "text/html").decode("utf-8", errors="replace")
    return _page(html.replace("cid:chart", f"/bulletins/{outbox_id}/chart.png"))


@bp.route("/bulletins/<int:outbox_id>/chart.png")
def sent_chart(outbox_id: int) -> Response:
    return send_file(BytesIO(_part(_sent(outbox_id), "image/png")), mimetype="image/png")


@bp.route("/bulletins/<int:outbox_id>.xlsx")
def sent_xlsx(outbox_id: int) -> Response:
    row = _sent(outbox_id)
    name = f"{row.subject.split('】')[-1] or '通报'}.xlsx"
    return send_file(
        BytesIO(_part(row, digest_mail.XLSX)), mimetype=digest_mail.XLSX, as_attachment=True, download_name=name
    )


def _wanted() -> tuple[str, Period] | None:
    kind = request.args.get("kind", "")
    if kind not in KIND_NAMES:
        flash("请选择通报类型。", "error")
        return None
    text = request.args.get("period", "").strip()
    try:
        period = parse_period(text)
    except ValueError:
        flash(f"期间“{text}”无法识别，请写成 2026-W48、2026-11、2026-Q4 或 2026。", "error")
        return None
    if period.kind != digests.PERIOD_KIND[kind]:
        example = digest_mail.last_complete(kind, local_today(_mailbot())).label
        flash(f"{period.label} 不是一个{KIND_NAMES[kind]}的期间（例如 {example}）。", "error")
        return None
    return kind, period


def _render(kind: str, period: Period) -> digest_mail.Rendered:
    app = _mailbot()
    return digest_mail.render(app.config, app.engine, app.desk.renderer, kind, period)


@bp.route("/bulletins/build")
def build() -> Any:
    wanted = _wanted()
    if wanted is None:
        return redirect("/bulletins")
    rendered = _render(*wanted)
    chart = "data:image/png;base64," + base64.b64encode(rendered.chart).decode("ascii")
    return _page(rendered.html.replace("cid:chart", chart))


@bp.route("/bulletins/build.xlsx")
def build_xlsx() -> Any:
    wanted = _wanted()
    if wanted is None:
        return redirect("/bulletins")
    rendered = _render(*wanted)
    name = f"{rendered.report.title}.xlsx"
    return send_file(BytesIO(rendered.xlsx), mimetype=digest_mail.XLSX, as_attachment=True, download_name=name)
