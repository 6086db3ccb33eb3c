"""Reading config.toml into the settings schema, checked before anything connects: unknown keys,
wrong types and numbers out of range are refused with the key's name and what is allowed.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import fields, replace
from datetime import date
from pathlib import Path
from typing import Any

from mailbot.config import (
    SECTIONS,
    SECURITY,
    Config,
    ConfigError,
    QuotaKind,
    QuotasConfig,
)
from mailbot.domain.columns import parse_columns
from mailbot.domain.units import Liaison, Unit

# (section, key) -> the range a number must fall in. Every other number only has to be >= 0: counts,
# sizes, seconds and points are never negative.
_KB, _MB, _GB = 1024, 1024 * 1024, 1024 * 1024 * 1024
RANGES: dict[tuple[str, str], tuple[float, float]] = {
    ("mailbox", "port"): (1, 65535),
    ("smtp", "port"): (1, 65535),
    ("mailbox", "timeout_seconds"): (5, 3600),
    ("smtp", "timeout_seconds"): (5, 3600),
    ("mailbox", "poll_seconds"): (5, 3600),  # providers throttle faster polling
    ("smtp", "max_attempts"): (1, 100),
    ("smtp", "retry_seconds"): (1, 86400),
    ("limits", "max_message_bytes"): (64 * _KB, 2 * _GB),
    ("limits", "max_archive_bytes"): (_MB, 10 * _GB),
    ("limits", "max_archive_members"): (1, 100_000),
    ("limits", "max_compression_ratio"): (2, 10_000),
    ("limits", "min_photo_side"): (0, 20_000),
    ("limits", "min_research_chars"): (0, 100_000),
    ("limits", "replies_per_sender_per_hour"): (1, 1_000_000),
    ("checks", "correction_window_days"): (0, 365),
    ("limits", "mails_per_recipient_per_hour"): (1, 10_000),
    ("limits", "mails_per_recipient_per_day"): (1, 100_000),
    ("limits", "held_notice_minutes"): (1, 24 * 60),
    ("limits", "worker_memory_mb"): (128, 64 * 1024),
    ("limits", "worker_cpu_seconds"): (1, 3600),
    ("security", "confirm_minutes"): (1, 24 * 60),
    ("quotas", "weekly"): (0, 50),
    ("quotas", "monthly"): (0, 200),
    ("quotas", "min_workdays_for_weekly"): (0, 7),
    ("quotas", "monthly_reminder_days"): (0, 23),
    ("incidents", "verify_phone_minutes"): (1, 1440),
    ("incidents", "verify_written_minutes"): (1, 1440),
    ("incidents", "instruction_hours"): (1, 72),
    ("incidents", "final_report_hours"): (1, 720),
    ("incidents", "final_reminder_hours"): (1, 720),
}
MAX_POINTS = 100.0  # [scoring]: no single event is worth more in any bureau's rules


def _in_range(section: str, key: str, value: float) -> None:
    low, high = RANGES.get((section, key), (0, MAX_POINTS if section == "scoring" else math.inf))
    if not low <= value <= high:
        allowed = f">= {low:g}" if high == math.inf else f"from {low:g} to {high:g}"
        raise ConfigError(f"[{section}] {key} = {value:g} is out of range: it must be {allowed}")


def read_secrets_file(path: Path) -> tuple[tuple[str, str], ...]:
    """KEY=VALUE lines as systemd's EnvironmentFile= reads them: # comments, optional quotes."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"[secrets] file {path} cannot be read: {exc.strerror} (run mailbot as the service user, "
            "e.g. sudo -u mailbot mailbot ...)"
        ) from None
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs.append((key, value))
    return tuple(pairs)


def _section(cls: type, data: dict[str, Any], name: str) -> Any:
    known = {f.name: f for f in fields(cls) if f.name != "file_secrets"}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"[{name}] unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    defaults = cls()
    for key, value in data.items():
        default = getattr(defaults, key)
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"[{name}] {key} must be true or false, not {value!r}")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"[{name}] {key} must be a number, not {value!r}")
            if isinstance(default, int) and not isinstance(default, bool) and not isinstance(value, int):
                raise ConfigError(f"[{name}] {key} must be a whole number, not {value!r}")
            _in_range(name, key, value)
        elif isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"[{name}] {key} must be a list of strings")
            value = tuple(value)
        elif not isinstance(value, str):
            raise ConfigError(f"[{name}] {key} must be a string, not {value!r}")
        values[key] = value
    return cls(**values)


def _units(raw: Any) -> tuple[Unit, ...]:
    if not isinstance(raw, list):
        raise ConfigError("[[units]] must be an array of tables")
    units: list[Unit] = []
    seen_emails: dict[str, str] = {}
    for i, entry in enumerate(raw, 1):
        if not isinstance(entry, dict) or not str(entry.get("name", "")).strip():
            raise ConfigError(f"[[units]] entry {i} needs a name")
        name = str(entry["name"]).strip()
        liaisons: list[Liaison] = []
        for person in entry.get("liaisons", []):
            if not isinstance(person, dict) or "@" not in str(person.get("email", "")):
                raise ConfigError(f"unit {name!r}: every liaison needs an email address")
            email = str(person["email"]).strip().lower()
            if email in seen_emails and seen_emails[email] != name:
                raise ConfigError(f"{email} is a liaison of both {seen_emails[email]!r} and {name!r}")
            seen_emails[email] = name
            liaisons.append(
                Liaison(
                    name=str(person.get("name", "")).strip(),
                    email=email,
                    phone=str(person.get("phone", "")),
                    wechat=str(person.get("wechat", "")),
                )
            )
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list):
            raise ConfigError(f"unit {name!r}: aliases must be a list of strings")
        units.append(
            Unit(
                name=name,
                kind=str(entry.get("kind", "科室")),
                liaisons=tuple(liaisons),
                aliases=tuple(str(a) for a in aliases),
            )
        )
    return tuple(units)


def _quota_kinds(raw: Any) -> tuple[QuotaKind, ...]:
    """[quotas.kinds."科室"] weekly = 1, monthly = 4: other quotas for one kind of unit."""
    if not isinstance(raw, dict):
        raise ConfigError("[quotas.kinds] must be a table of unit kinds")
    kinds = []
    for kind, value in raw.items():
        if not isinstance(value, dict) or set(value) - {"weekly", "monthly"}:
            raise ConfigError(f"[quotas.kinds.{kind}] takes only weekly and monthly")
        rule = QuotasConfig()
        weekly, monthly = value.get("weekly", rule.weekly), value.get("monthly", rule.monthly)
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (weekly, monthly)):
            raise ConfigError(f"[quotas.kinds.{kind}] weekly and monthly must be whole numbers >= 0")
        kinds.append(QuotaKind(str(kind), weekly, monthly))
    return tuple(kinds)


def parse_config(data: dict[str, Any], base_dir: Path) -> Config:
    unknown = sorted(set(data) - set(SECTIONS) - {"units", "columns", "timezone"})
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(unknown)}")
    sections = {name: dict(data.get(name, {})) for name in SECTIONS}
    kinds = _quota_kinds(sections["quotas"].pop("kinds", {}))
    parts = {name: _section(cls, sections[name], name) for name, cls in SECTIONS.items()}
    parts["quotas"] = replace(parts["quotas"], kinds=kinds)
    if parts["secrets"].file:
        path = Path(parts["secrets"].file).expanduser()
        found = read_secrets_file(path if path.is_absolute() else base_dir / path)
        parts["mailbox"] = replace(parts["mailbox"], file_secrets=found)
        parts["smtp"] = replace(parts["smtp"], file_secrets=found)
    try:
        columns = parse_columns(data.get("columns", []))
    except ValueError as exc:
        raise ConfigError(f"[[columns]] {exc}") from None
    config = Config(
        **parts,
        units=_units(data.get("units", [])),
        columns=columns,
        timezone=str(data.get("timezone", "Asia/Shanghai")),
        base_dir=base_dir,
    )
    validate(config)
    return config


def validate(config: Config) -> None:
    mb, smtp = config.mailbox, config.smtp
    if mb.kind not in ("imap", "maildir"):
        raise ConfigError(f'[mailbox] kind must be "imap" or "maildir", not {mb.kind!r}')
    if mb.kind == "imap" and (not mb.host or not mb.username):
        raise ConfigError('[mailbox] host and username are required for kind = "imap"')
    if mb.kind == "maildir" and not mb.path:
        raise ConfigError('[mailbox] path is required for kind = "maildir"')
    if smtp.kind not in ("smtp", "directory"):
        raise ConfigError(f'[smtp] kind must be "smtp" or "directory", not {smtp.kind!r}')
    if smtp.kind == "smtp" and not smtp.host:
        raise ConfigError('[smtp] host is required for kind = "smtp"')
    if smtp.kind == "directory" and not smtp.directory:
        raise ConfigError('[smtp] directory is required for kind = "directory"')
    for section, security in (("mailbox", mb.security), ("smtp", smtp.security)):
        if security not in SECURITY:
            raise ConfigError(f"[{section}] security must be one of {', '.join(SECURITY)}, not {security!r}")
    if "@" not in smtp.from_address:
        raise ConfigError("[smtp] from_address must be an email address")
    if mb.poll_seconds < 5:
        raise ConfigError("[mailbox] poll_seconds must be at least 5 (providers throttle faster polling)")
    for day in (*config.calendar.holidays, *config.calendar.workdays):
        try:
            date.fromisoformat(day)
        except ValueError:
            raise ConfigError(f"[calendar] {day!r} is not a date like 2027-01-01") from None
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", config.schedule.reminder_time):
        raise ConfigError(f"[schedule] reminder_time must be HH:MM, not {config.schedule.reminder_time!r}")
    if config.scoring.solicitation not in ("grade", "sum"):
        raise ConfigError(f'[scoring] solicitation must be "grade" or "sum", not {config.scoring.solicitation!r}')
    if config.scoring.adoption_levels not in ("highest", "sum"):
        raise ConfigError(
            f'[scoring] adoption_levels must be "highest" or "sum", not {config.scoring.adoption_levels!r}'
        )
    for channel in config.duties.deduct_channels:
        if channel not in ("website", "wechat"):
            raise ConfigError(f'[duties] deduct_channels: {channel!r} is not "website" or "wechat"')
    for week in config.quotas.relaxed_weeks:
        if not re.fullmatch(r"\d{4}-W\d{2}", week):
            raise ConfigError(f"[quotas] relaxed_weeks: {week!r} is not an ISO week like 2026-W41")
    if config.database.schema and (
        config.database.url.startswith("sqlite") or not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", config.database.schema)
    ):
        raise ConfigError("[database] schema needs a PostgreSQL url and a lower-case name like panjin_city")
    if config.security.require_authentication and not config.security.trusted_authserv_ids:
        raise ConfigError(
            "[security] require_authentication needs trusted_authserv_ids (your mail server's name "
            "in its Authentication-Results headers, e.g. mx.163.com)"
        )
    if config.security.skip_confirmation_when_authenticated and not config.security.trusted_authserv_ids:
        raise ConfigError("[security] skip_confirmation_when_authenticated needs trusted_authserv_ids")
    url = config.database.url
    if not (url.startswith("sqlite:") or url.startswith("postgresql")):
        raise ConfigError("[database] url must be a sqlite:/// or postgresql+psycopg:// URL")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(config.timezone)
    except Exception:  # zoneinfo raises several types for a bad key
        raise ConfigError(f"timezone {config.timezone!r} is not a known time zone") from None


SYSTEM_CONFIG = Path("/etc/mailbot/config.toml")


def default_path() -> Path:
    """$MAILBOT_CONFIG, else ./config.toml, else the installed /etc/mailbot/config.toml."""
    if os.environ.get("MAILBOT_CONFIG"):
        return Path(os.environ["MAILBOT_CONFIG"])
    local = Path("config.toml")
    return SYSTEM_CONFIG if not local.exists() and SYSTEM_CONFIG.exists() else local


def load(path: Path | None = None) -> Config:
    path = path or default_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, path.resolve().parent)
