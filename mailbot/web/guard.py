"""Who is asking and whether they may: the signed session, CSRF tokens, roles, headers on every answer.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict, Secure when configured) holding only the
account id, its generation and a CSRF token: a new password or a disabled account ends every session
at its next request. Every POST must carry the session's token, so a page elsewhere cannot act for
a signed-in officer even if a browser ignored SameSite.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for

from mailbot.web import accounts

F = TypeVar("F", bound=Callable[..., Any])
OPEN_ENDPOINTS = {"auth.login", "static"}
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def client() -> str:
    """The client's address; behind nginx, waitress has taken it from X-Forwarded-For ([web] proxies)."""
    return (request.remote_addr or "")[:64]


def install(flask: Flask) -> None:
    @flask.before_request
    def _check() -> Response | None:
        g.account = None
        if "uid" in session:
            g.account = accounts.current(
                current_app.config["MAILBOT"].engine, int(session["uid"]), int(session.get("gen", -1))
            )
            if g.account is None:
                session.clear()
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            if not sent or not hmac.compare_digest(sent, str(session.get("csrf", ""))):
                abort(400, "表单已失效（缺少或不匹配的校验码），请刷新页面后重试。")
        if g.account is None and request.endpoint not in OPEN_ENDPOINTS:
            return cast(Response, redirect(url_for("auth.login", next=request.full_path.rstrip("?"))))
        return None

    @flask.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.pop("Server", None)
        return response

    @flask.context_processor
    def _context() -> dict[str, Any]:
        return {"csrf_token": csrf_token, "account": g.get("account")}


def officer(view: F) -> F:
    """Only officers act; a viewer gets 403 and nothing is recorded."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        account = g.get("account")
        if account is None or not account.may_act:
            abort(403)
        return view(*args, **kwargs)

    return cast(F, wrapped)


def begin(signed: accounts.Signed) -> None:
    """A fresh session on sign-in (a new CSRF token too), so nothing from before carries over."""
    session.clear()
    session.permanent = True
    session["uid"], session["gen"] = signed.id, signed.generation
    csrf_token()
