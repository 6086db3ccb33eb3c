"""Sending: SMTP (ssl / starttls / none) or, for the demo, .eml files in a directory.

SMTP replies are sorted into temporary (retry later) and permanent (give up, report) failures;
163.com's `554 DT:SPM` spam verdict is permanent for that message.
"""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from mailbot.config import SmtpConfig
from mailbot.service import PermanentFailure, TemporaryFailure


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def connect(self) -> smtplib.SMTP:
        cfg = self.config
        context = ssl.create_default_context()
        if cfg.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds,
                                                    context=context)
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            if cfg.security == "starttls":
                client.starttls(context=context)
        if cfg.username:
            client.login(cfg.username, cfg.password())
        return client

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        try:
            client = self.connect()
        except smtplib.SMTPAuthenticationError as exc:
            raise TemporaryFailure(f"SMTP login refused: {exc.smtp_code}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP connection failed: {exc}") from None
        try:
            refused = client.sendmail(sender, recipients, raw)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure(f"recipients refused: {exc.recipients}") from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
            failure = PermanentFailure if 500 <= exc.smtp_code < 600 else TemporaryFailure
            raise failure(f"{exc.smtp_code} {text}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"SMTP send failed: {exc}") from None
        finally:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
        if refused:
            raise PermanentFailure(f"recipients refused: {refused}")

    def check(self) -> None:
        client = self.connect()
        client.noop()
        client.quit()


class DirectoryTransport:
    """Writes each outgoing email as an .eml file; used by `mailbot demo` and for dry runs."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = len(list(directory.glob("*.eml"))) if directory.is_dir() else 0

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count += 1
        safe = "_".join(r.replace("@", "_at_") for r in recipients)[:80]
        (self.directory / f"{self.count:04d}-{safe}.eml").write_bytes(raw)

    def check(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)


