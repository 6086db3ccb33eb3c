"""Settings: one documented schema of frozen dataclasses, each setting with its default.

`config.toml` in the repository is the commented example; `mailbot.config_file` reads and validates a
file into these. Secrets never live in the file: only the names of the environment variables (or
files) that hold them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from mailbot.domain.columns import Column
from mailbot.domain.scoring import PointTable
from mailbot.domain.units import Unit

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
    document_number: str = ""  # 文号 printed on bulletins, e.g. "盘应急办〔2026〕12号"; empty: none
    # Quarterly and yearly bulletins: each unit's months (月度明细; the monthly bulletins list the items),
    # or every item of the period (信息明细: 100,000 lines for a province's year).
    items_in_long_bulletins: bool = False


@dataclass(frozen=True)
class LimitsConfig:
    max_message_bytes: int = 50 * 1024 * 1024
    max_archive_bytes: int = 200 * 1024 * 1024
    max_archive_members: int = 500
    max_compression_ratio: float = 100.0
    min_photo_side: int = 600
    min_research_chars: int = 2000
    replies_per_sender_per_hour: int = 20
    mails_per_recipient_per_hour: int = 20  # every outgoing mail to one address counts, whatever its kind
    mails_per_recipient_per_day: int = 100  # well inside a 163.com account's daily sending quota
    held_notice_minutes: int = 60  # held mail is told to the office in one summary at most this often
    worker_memory_mb: int = 512  # RLIMIT_AS of the analysis worker
    worker_cpu_seconds: int = 60  # RLIMIT_CPU of the analysis worker


@dataclass(frozen=True)
class ChecksConfig:
    require_photos: bool = True
    photo_kinds: tuple[str, ...] = ("routine",)  # annex 1's 文字+影像: news needs photos, 调研/经验 pieces do not
    distinct_reviewers: bool = True  # 二(三) 三审: 初审人, 复审人 and drafters are different people
    kind_from_title: bool = False  # 调研/经验 only from 【调研】/【经验】 or a 类别 line, never a title's words
    correction_window_days: int = 7  # the unit's piece of the same title again within this: a correction


@dataclass(frozen=True)
class DutiesConfig:
    """Which missed column cycles cost points (三(二)2 deducts for the website's columns)."""

    deduct_channels: tuple[str, ...] = ("website",)
    owe_before_records: bool = False  # true: owe cycles before mailbot's first message or a unit's registration


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
    weekly_in_bulletins: bool = True  # 三(一)1: "met the quota" needs every week's minimum, not only the month's
    kinds: tuple[QuotaKind, ...] = ()


@dataclass(frozen=True)
class CalendarConfig:
    holidays: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()


@dataclass(frozen=True)
class SecurityConfig:
    require_authentication: bool = False  # hold mail whose sender the receiving server did not authenticate
    trusted_authserv_ids: tuple[str, ...] = ()  # e.g. ["mx.163.com"]: whose Authentication-Results count
    confirm_minutes: int = 30  # how long the one-time code of an emailed office command is valid
    skip_confirmation_when_authenticated: bool = False  # run an authenticated admin's command at once


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
class IncidentsConfig:
    """Urgent incident reports (突发事件信息报告) on a fast lane, with the notice's time limits."""

    enabled: bool = True
    duty: tuple[str, ...] = ()  # the duty office (值班室); empty: [office] recipients
    markers: tuple[str, ...] = ("突发事件", "紧急")  # a 【tag】 holding one of these makes a 首报
    number_prefix: str = "SJ"  # incident numbers: SJ-2026-007
    verify_phone_minutes: int = 20  # 三(二) 核报 by phone
    verify_written_minutes: int = 40  # 三(二) 核报 in writing
    instruction_hours: int = 12  # 三(三) 批示: 落实情况 at the latest after this long
    instruction_same_day: bool = True  # 三(三) and in principle the same day
    final_report_hours: int = 24  # no 终报 this long after the 首报: remind the unit, tell the duty office
    final_reminder_hours: int = 24  # then remind again this often
    attach_max_bytes: int = 20 * 1024 * 1024  # the report travels with the duty notice up to this size


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
    duties: DutiesConfig = field(default_factory=DutiesConfig)
    quotas: QuotasConfig = field(default_factory=QuotasConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    security: SecurityConfig = field(default_factory=SecurityConfig)
    incidents: IncidentsConfig = field(default_factory=IncidentsConfig)
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


SECTIONS: dict[str, type] = {
    "mailbox": MailboxConfig,
    "smtp": SmtpConfig,
    "database": DatabaseConfig,
    "storage": StorageConfig,
    "office": OfficeConfig,
    "limits": LimitsConfig,
    "scoring": PointTable,
    "checks": ChecksConfig,
    "duties": DutiesConfig,
    "quotas": QuotasConfig,
    "calendar": CalendarConfig,
    "schedule": ScheduleConfig,
    "security": SecurityConfig,
    "incidents": IncidentsConfig,
    "secrets": SecretsConfig,
    "web": WebConfig,
}


def load_config(path: Path | None = None) -> Config:
    """Read and check a config file; `mailbot.config_file` does the reading, against this schema."""
    from mailbot.config_file import load  # imported when used: the reader imports this module

    return load(path)


def default_path() -> Path:
    """$MAILBOT_CONFIG, else ./config.toml, else the installed /etc/mailbot/config.toml."""
    from mailbot.config_file import default_path as path

    return path()


def parse_config(data: dict[str, Any], base_dir: Path) -> Config:
    """Settings from an already-parsed TOML document (tests, and the demo's variants)."""
    from mailbot.config_file import parse_config as parse

    return parse(data, base_dir)
