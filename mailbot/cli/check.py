"""`mailbot check`: says what an administrator must fix before the daemon can run, and writes nothing.

Every line names what was checked (host and port, path, variable) so the fix is obvious; a failure
exits 1, warnings alone exit 0.
"""

from __future__ import annotations

import argparse
import imaplib
import os
import shutil
import smtplib
import socket
import sqlite3
import ssl
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from imapclient.exceptions import IMAPClientError, LoginError

from mailbot.config import Config, ConfigError, ServerLogin, load_config
from mailbot.domain.units import resolve_units

PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net", "example.cn")


def _secret_problem(name: str, login: ServerLogin) -> str | None:
    """An unset password is its own problem, not an authentication failure."""
    if not login.username:
        return None
    try:
        present = bool(login.password())
    except ConfigError as exc:
        return str(exc)
    if present:
        return None
    where = f"password_file {login.password_file}" if login.password_file else f"variable {login.password_env}"
    return (
        f"{name}: FAILED: the password is not set: {where} is empty or unset "
        "(put it in the secrets file, e.g. /etc/mailbot/secrets, or export it; 163.com: the 授权码)"
    )


def _explain(exc: BaseException) -> str:
    if isinstance(exc, socket.gaierror):
        return "host name not found (check host, and DNS on this machine)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens on that port: check port and security)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "no answer within timeout_seconds (firewall, or the wrong port)"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc}): check security = ssl/starttls/none for this port"
    if isinstance(exc, LoginError | smtplib.SMTPAuthenticationError):
        return "login refused: check username and the password (163.com/QQ: the authorization code, 授权码)"
    if isinstance(exc, IMAPClientError | imaplib.IMAP4.error | smtplib.SMTPException):
        return f"the server said: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _servers(config: Config) -> list[str]:
    from mailbot.bootstrap import build_source, build_transport

    lines = []
    mb, smtp = config.mailbox, config.smtp
    probes: list[tuple[str, str, ServerLogin | None, Any]] = [
        (
            "mailbox",
            f"{mb.host}:{mb.port} ({mb.security}, user {mb.username}, folder {mb.folder})"
            if mb.kind == "imap"
            else f"maildir {config.resolve(mb.path)}",
            mb if mb.kind == "imap" else None,
            build_source(config),
        ),
        (
            "smtp",
            f"{smtp.host}:{smtp.port} ({smtp.security}, user {smtp.username or '-'})"
            if smtp.kind == "smtp"
            else f"directory {config.resolve(smtp.directory)}",
            smtp if smtp.kind == "smtp" else None,
            build_transport(config),
        ),
    ]
    for name, where, login, probe in probes:
        problem = _secret_problem(f"{name} {where}", login) if login else None
        if problem:
            lines.append(problem)
            continue
        try:
            probe.check()
            lines.append(f"{name} {where}: ok")
        except Exception as exc:  # the operator needs the reason, whatever layer raised it
            lines.append(f"{name} {where}: FAILED: {_explain(exc)}")
    return lines


def _nearest_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _writable_line(what: str, path: Path) -> str:
    if path.exists():
        ok = os.access(path if path.is_dir() else path.parent, os.W_OK)
        state = "exists" if ok else "exists but is not writable by this user"
    else:
        parent = _nearest_existing(path.parent)
        ok = os.access(parent, os.W_OK)
        state = "will be created" if ok else f"cannot be created ({parent} is not writable by this user)"
    return f"{what} {path}: {state}" if ok else f"{what} {path}: FAILED: {state}"


def _database(config: Config) -> str:
    url = config.database_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        path = Path(url[len("sqlite:///") :])
        line = _writable_line("database", path)
        if "FAILED" in line or not path.exists():
            return line
        try:  # read-only: check never creates or migrates anything
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                version = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.Error as exc:
            return f"database {path}: FAILED: cannot be read ({exc})"
        return f"{line}, schema {version[0] if version else 'empty'}"
    from sqlalchemy import create_engine, inspect, text

    shown = url.split("@")[-1]
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            has_schema = inspect(conn).has_table("alembic_version", schema=config.database.schema or None)
        engine.dispose()
    except Exception as exc:  # the driver's own errors vary; the operator needs the sentence
        return f"database {shown}: FAILED: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    return f"database {shown}: ok ({'migrated' if has_schema else 'empty: created at first start'})"


def warnings(config: Config) -> list[str]:
    """What works but should be fixed: placeholders, missing system packages, unmatched columns."""
    found = []
    addresses = [config.smtp.from_address, *config.office.recipients, *config.office.admins]
    addresses += [p.email for u in config.units for p in u.liaisons]
    placeholders = [a for a in addresses if a.rsplit("@", 1)[-1].lower() in PLACEHOLDER_DOMAINS]
    if placeholders:
        found.append(
            f"{len(placeholders)} address(es) are still the example's placeholders (e.g. {placeholders[0]}): "
            "put the real office and liaison addresses in the config"
        )
    if not config.office.recipients:
        found.append("[office] recipients is empty: digests and held-mail notices go nowhere")
    if not any(shutil.which(tool) for tool in ("unar", "unrar", "bsdtar")):
        found.append("no RAR tool found: compressed .rar archives will be refused (apt-get install unar)")
    from mailbot.adapters.chart import find_cjk_font  # Pillow: only for this check, not every command

    if find_cjk_font() is None:
        found.append("no Chinese font: charts show numbers instead of unit names (apt-get install fonts-wqy-microhei)")
    table = [(i, u.name, u.kind, list(u.aliases)) for i, u in enumerate(config.units)]
    for column in config.columns:
        _found, missing = resolve_units(column.units, table)
        if missing:
            found.append(f"column {column.name}: responsible unit(s) {'、'.join(missing)} match no [[units]] name")
    from mailbot.reminders import work_calendar

    today = datetime.now(ZoneInfo(config.timezone)).date()
    if not work_calendar(config).knows(today.replace(month=12, day=31)):
        found.append(
            f"the holiday calendar does not know {today.year}'s official holidays: weekdays are used; "
            "add them under [calendar] holidays / workdays"
        )
    return found


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config: FAILED: {exc}")
        return 1
    people = sum(len(u.liaisons) for u in config.units)
    print(f"config {config.base_dir}: ok ({len(config.units)} units, {people} liaisons)")
    lines = [_database(config), _writable_line("storage", config.storage_dir()), *_servers(config)]
    for line in lines:
        print(line)
    for warning in warnings(config):
        print(f"warning: {warning}")
    return 1 if any(": FAILED" in line for line in lines) else 0


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    sub.add_parser("check", help="validate the config, paths, mailbox and SMTP login; writes nothing").set_defaults(
        func=cmd_check
    )
