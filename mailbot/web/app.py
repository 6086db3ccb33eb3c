"""The Flask application: built from the same App (engine, desk, transport) the daemon and the CLI use.

Pages are server-rendered Jinja2 from templates/web; errors answer in Chinese with no traceback, path
or setting in them, whatever went wrong.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, g, redirect, render_template, request, url_for
from jinja2 import StrictUndefined
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from mailbot.adapters.render import templates_dir
from mailbot.bootstrap import App
from mailbot.config import _secret
from mailbot.web import accounts, guard

log = logging.getLogger("mailbot.web")
auth = Blueprint("auth", __name__)
ERRORS = {
    400: "请求无效",
    403: "没有权限：您的账号只能查看，不能办理。",
    404: "没有找到这一页或这条记录。",
    405: "不支持这种操作。",
    429: "尝试次数过多，请稍后再试。",
}


class RegisterFlask(Flask):
    """Templates end in .html.j2, which Flask would not escape by default: escape every one."""

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        return True


def secret_key(app: App) -> bytes:
    """From the environment or the [secrets] file; else a random key kept once in the storage directory
    (readable by the service user only), so sessions survive a restart without a setting to fill in."""
    web = app.config.web
    given = _secret(web.secret_key_env, "", "[web]", dict(app.config.mailbox.file_secrets))
    if given:
        return given.encode("utf-8")
    path = app.config.storage_dir() / "web-session.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(secrets.token_bytes(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_bytes()


def create_app(app: App, *, key: bytes | None = None, wake: Callable[[], None] | None = None) -> Flask:
    """`wake`: inside `mailbot run`, the daemon's outbox thread sends the unit's notices (one sender per
    process); on its own, the register sends them itself, as the CLI does."""
    web = app.config.web
    root = Path(templates_dir())
    flask = RegisterFlask(
        "mailbot.web", template_folder=str(root), static_folder=str(root / "web" / "static"), static_url_path="/static"
    )
    flask.jinja_env.undefined = StrictUndefined
    flask.config.update(
        MAILBOT=app,
        MAILBOT_WAKE=wake,
        SECRET_KEY=key or secret_key(app),
        SESSION_COOKIE_NAME="mailbot_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=web.session_hours),
        MAX_CONTENT_LENGTH=64 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    guard.install(flask)
    from mailbot.web import actions, bulletins, incidents, pages, registry

    for blueprint in (auth, pages.bp, actions.bp, bulletins.bp, registry.bp, incidents.bp):
        flask.register_blueprint(blueprint)
    flask.register_error_handler(HTTPException, _http_error)
    flask.register_error_handler(Exception, _crash)
    flask.jinja_env.globals["office_name"] = app.config.office.name
    return flask


def _http_error(exc: HTTPException) -> tuple[str, int]:
    code = exc.code or 500
    message = ERRORS.get(code, "出错了")
    if code == 400 and exc.description and not exc.description.startswith("The browser"):
        message = exc.description
    return render_template("web/error.html.j2", code=code, message=message), code


def _crash(exc: Exception) -> tuple[str, int]:
    if isinstance(exc, HTTPException):
        return _http_error(exc)
    log.exception("web request failed: %s %s", request.method, request.path)
    return render_template("web/error.html.j2", code=500, message="系统内部错误，已记录在日志中。"), 500


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link cannot send the officer elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("pages.items")
    return target


@auth.route("/login", methods=["GET", "POST"])
def login() -> Any:
    mb = _mailbot()
    if request.method == "GET":
        return render_template("web/login.html.j2", name="", next=request.args.get("next", ""))
    name = request.form.get("name", "")
    result = accounts.sign_in(mb.engine, name, request.form.get("password", ""), guard.client())
    if isinstance(result, accounts.Signed):
        guard.begin(result)
        return redirect(_safe_next(request.form.get("next")))
    if result is None:
        flash("账号或密码不正确。", "error")
        code = 401
    else:
        minutes = max(1, round((result - accounts.utcnow()).total_seconds() / 60))
        flash(f"密码错误次数过多，该账号（或本机）已暂停登录，请 {minutes} 分钟后再试。", "error")
        code = 429
    return render_template("web/login.html.j2", name=name, next=request.form.get("next", "")), code


@auth.route("/logout", methods=["POST"])
def logout() -> Response:
    from flask import session

    if g.account is not None:
        accounts.audit(_mailbot().engine, g.account.actor, "logout", client=guard.client())
    session.clear()
    return redirect(url_for("auth.login"))


def _mailbot() -> App:
    from flask import current_app

    return current_app.config["MAILBOT"]
