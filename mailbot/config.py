"""Settings: one documented schema, loaded from config.toml, validated before anything connects.

Every setting and its default lives in the dataclasses below; `config.toml` in the repository is the
commented example. Secrets never live in the file: only the names of the environment variables (or
files) that hold them.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from mailbot.domain.columns import Column, parse_columns
from mailbot.domain.scoring import PointTable

SECURITY = ("ssl", "starttls", "none")


class ConfigError(Exception):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class ServerLogin:
    """How to reach and log in to a mail server; the password itself comes from env or file."""

    host: str = ""
    port: int = 0
    security: str = "ssl"
    username: str = ""
    password_env: str = ""
    password_file: str = ""
    timeout_seconds: int = 60
    # Values read from [secrets] file at load time; never a key of config.toml, never printed.
    file_secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False, compare=False)

    def password(self) -> str:
        return _secret(self.password_env, self.password_file, type(self).__name__, dict(self.file_secrets))


@dataclass(frozen=True)
class MailboxConfig(ServerLogin):
    kind: Literal["imap", "maildir"] = "imap"
    port: int = 993
    password_env: str = "MAILBOT_IMAP_PASSWORD"
    folder: str = "INBOX"
    processed_folder: str = "mailbot/processed"
    rejected_folder: str = "mailbot/rejected"
    held_folder: str = "mailbot/held"
    poll_seconds: int = 60
    idle: bool = True
    path: str = ""


@dataclass(frozen=True)
class SmtpConfig(ServerLogin):
    kind: Literal["smtp", "directory"] = "smtp"
    port: int = 465
    password_env: str = "MAILBOT_SMTP_PASSWORD"
    from_address: str = ""
    from_name: str = "应急管理局信息报送"
    directory: str = ""
    max_attempts: int = 8
    retry_seconds: int = 60


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = "sqlite:///var/mailbot.db"
    schema: str = ""  # PostgreSQL only: this mailbox's own schema when several share one database


@dataclass(frozen=True)
class SecretsConfig:
    file: str = ""  # KEY=VALUE lines, the same file systemd's EnvironmentFile= reads


@dataclass(frozen=True)
class StorageConfig:
    dir: str = "var/storage"


@dataclass(frozen=True)
class OfficeConfig:
    name: str = "局办公室"
    recipients: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()


@dataclass(frozen=True)
class LimitsConfig:
    max_message_bytes: int = 50 * 1024 * 1024
    max_archive_bytes: int = 200 * 1024 * 1024
    max_archive_members: int = 500
    max_compression_ratio: float = 100.0
    min_photo_side: int = 600
    min_research_chars: int = 2000
    replies_per_sender_per_hour: int = 20


@dataclass(frozen=True)
class ChecksConfig:
    require_photos: bool = True


@dataclass(frozen=True)
class QuotaKind:
    kind: str
    weekly: int
    monthly: int


@dataclass(frozen=True)
class QuotasConfig:
    weekly: int = 1
    monthly: int = 4
    relax_short_weeks: bool = True
    min_workdays_for_weekly: int = 3
    relaxed_weeks: tuple[str, ...] = ()
    monthly_reminder_days: int = 3
    kinds: tuple[QuotaKind, ...] = ()


@dataclass(frozen=True)
class CalendarConfig:
    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityConfig:
    require_authentication: bool = False  # hold mail whose sender the receiving server did not authenticate
    trusted_authserv_ids: tuple[str, ...] = ()  # e.g. ["mx.163.com"]: whose Authentication-Results count


@dataclass(frozen=True)
class ScheduleConfig:
    enabled: bool = True
    reminder_time: str = "09:00"


@dataclass(frozen=True)
class WebConfig:
    """The office's register in a browser (`mailbot web`, or inside `mailbot run` when enabled)."""

    enabled: bool = False
    host: str = "127.0.0.1"  # loopback only: nginx with TLS faces the office's network
    port: int = 8080
    secure_cookies: bool = False  # true once served over https, as it must be beyond this machine
    proxies: int = 0  # reverse proxies in front (1 for nginx): trust that many X-Forwarded-For hops
    session_hours: int = 8
    secret_key_env: str = "MAILBOT_WEB_SECRET_KEY"  # signs the session cookies; unset: a key kept in [storage] dir
    threads: int = 4


@dataclass(frozen=True)
class Liaison:
    name: str
    email: str
    phone: str = ""
    wechat: str = ""


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str = "科室"
    liaisons: tuple[Liaison, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    mailbox: MailboxConfig = field(default_factory=MailboxConfig)
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    office: OfficeConfig = field(default_factory=OfficeConfig)
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    scoring: PointTable = field(default_factory=PointTable)
    checks: ChecksConfig = field(default_factory=ChecksConfig)
    quotas: QuotasConfig = field(default_factory=QuotasConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    secrets: SecretsConfig = field(default_factory=SecretsConfig)
    web: WebConfig = field(default_factory=WebConfig)
    units: tuple[Unit, ...] = ()
    columns: tuple[Column, ...] = ()
    timezone: str = "Asia/Shanghai"
    base_dir: Path = Path(".")

    def storage_dir(self) -> Path:
        return self.resolve(self.storage.dir)

    def resolve(self, path: str) -> Path:
        """Relative paths in the file are relative to the file, never to the working directory."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def database_url(self) -> str:
        url = self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite:///:memory:":
            return prefix + str(self.resolve(url[len(prefix) :]))
        return url


def _secret(env: str, path: str, what: str, from_file: dict[str, str]) -> str:
    if path:
        try:
            return Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{what}: password_file {path!r} cannot be read: {exc.strerror}") from None
    if env and os.environ.get(env):  # an empty variable counts as unset
        return os.environ[env]
    creds = os.environ.get("CREDENTIALS_DIRECTORY")
    if creds and env and (Path(creds) / env).is_file():
        return (Path(creds) / env).read_text(encoding="utf-8").strip()
    return from_file.get(env, "")


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


SECTIONS: dict[str, type] = {
    "mailbox": MailboxConfig,
    "smtp": SmtpConfig,
    "database": DatabaseConfig,
    "storage": StorageConfig,
    "office": OfficeConfig,
    "limits": LimitsConfig,
    "scoring": PointTable,
    "checks": ChecksConfig,
    "quotas": QuotasConfig,
    "calendar": CalendarConfig,
    "schedule": ScheduleConfig,
    "security": SecurityConfig,
    "secrets": SecretsConfig,
    "web": WebConfig,
}


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


def load_config(path: Path | None = None) -> Config:
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


def with_overrides(config: Config, **sections: Any) -> Config:
    """For `mailbot demo`: the same units and rules, other transports."""
    return replace(config, **sections)
