"""Local accounts of the office's register: argon2 password hashes, sign-in with a brake, the audit trail.

The brake counts failed sign-ins in the audit table rather than in memory, so it holds across the
threads of one server, the processes of several, and a restart: five wrong passwords for one account
or from one client lock further attempts for LOCK_MINUTES.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, or_, select

from mailbot.adapters.db import AuditEntry, WebAccount, utcnow

ROLES = {"viewer": "查看", "officer": "办理"}
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the account does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("mailbot: no such account")


class AccountError(Exception):
    """The account command cannot be carried out; the message says why, in Chinese."""


@dataclass(frozen=True)
class Signed:
    """A signed-in person as the session keeps them."""

    id: int
    name: str
    role: str
    generation: int

    @property
    def actor(self) -> str:
        """How actions taken in the browser are recorded, next to the CLI's cli:<login>."""
        return f"web:{self.name}"

    @property
    def may_act(self) -> bool:
        return self.role == "officer"


def _check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise AccountError("账号名只能由字母、数字和 . _ - 组成，最长 64 个字符。")
    return name


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"密码至少需要 {MIN_PASSWORD} 个字符。")


def add(engine: Engine, name: str, role: str, password: str, by: str = "cli") -> WebAccount:
    name = _check_name(name)
    if role not in ROLES:
        raise AccountError("角色只能是 viewer（查看）或 officer（办理）。")
    _check_password(password)
    with Session(engine) as s:
        if s.exec(select(WebAccount).where(WebAccount.name == name)).first():
            raise AccountError(f"账号 {name} 已经存在。")
        row = WebAccount(name=name, role=role, password_hash=_hasher.hash(password))
        s.add(row)
        s.add(AuditEntry(account=by, action="account_add", target=name, detail=role))
        s.commit()
        s.refresh(row)
        return row


def _change(engine: Engine, name: str, action: str, by: str, **values: object) -> None:
    with Session(engine) as s:
        row = s.exec(select(WebAccount).where(WebAccount.name == name.strip())).first()
        if row is None:
            raise AccountError(f"没有账号 {name}。")
        for key, value in values.items():
            setattr(row, key, value)
        row.generation += 1  # every open session of the account ends
        s.add(row)
        s.add(AuditEntry(account=by, action=action, target=row.name))
        s.commit()


def set_password(engine: Engine, name: str, password: str, by: str = "cli") -> None:
    _check_password(password)
    _change(engine, name, "account_passwd", by, password_hash=_hasher.hash(password), active=True)


def disable(engine: Engine, name: str, by: str = "cli") -> None:
    _change(engine, name, "account_disable", by, active=False)


def listing(engine: Engine) -> list[WebAccount]:
    with Session(engine) as s:
        return list(s.exec(select(WebAccount).order_by(col(WebAccount.name))))


def current(engine: Engine, account_id: int, generation: int) -> Signed | None:
    """The session's account if it is still active and its password unchanged since sign-in."""
    with Session(engine) as s:
        row = s.get(WebAccount, account_id)
        if row is None or not row.active or row.generation != generation:
            return None
        assert row.id is not None
        return Signed(row.id, row.name, row.role, row.generation)


def audit(
    engine: Engine, account: str, action: str, target: str = "", detail: str = "", *, client: str = "", ok: bool = True
) -> None:
    with Session(engine) as s:
        s.add(AuditEntry(account=account, client=client, action=action, target=target, detail=detail[:2000], ok=ok))
        s.commit()


def locked_until(engine: Engine, name: str, client: str, now: datetime | None = None) -> datetime | None:
    """When the brake lets this account or client try again, or None if it may try now."""
    now = now or utcnow()
    since = now - timedelta(minutes=LOCK_MINUTES)
    with Session(engine) as s:
        failures = s.exec(
            select(func.count(), func.max(AuditEntry.at)).where(
                AuditEntry.action == "login_failed",
                col(AuditEntry.at) >= since,
                or_(AuditEntry.account == name, AuditEntry.client == client),
            )
        ).one()
    count, last = failures
    if count < MAX_FAILURES or last is None:
        return None
    last = last if last.tzinfo else last.replace(tzinfo=now.tzinfo)
    return last + timedelta(minutes=LOCK_MINUTES)


def sign_in(engine: Engine, name: str, password: str, client: str) -> Signed | datetime | None:
    """The account, the moment the brake lifts (too many failures), or None for a wrong name or password."""
    name = name.strip()[:64]
    until = locked_until(engine, name, client)
    if until is not None:
        audit(engine, name, "login_locked", client=client, ok=False)
        return until
    with Session(engine) as s:
        row = s.exec(select(WebAccount).where(WebAccount.name == name)).first()
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
            good = row is not None and row.active
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            good = False
        if good and row is not None and _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
            s.add(row)
            s.commit()
        signed = Signed(row.id, row.name, row.role, row.generation) if good and row and row.id else None
    audit(engine, name, "login" if signed else "login_failed", client=client, ok=signed is not None)
    return signed
