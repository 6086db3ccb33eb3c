"""Sending: SMTP (ssl / starttls / none) or, for the demo, .eml files in a directory.

One connection serves a whole outbox round (163.com and QQ throttle frequent logins). Failures are
sorted three ways: the server is unreachable (ConnectionFailure: nothing is wrong with the
message), it deferred this message (4xx: retry later), or it refused it for good (5xx, including
163.com's `554 DT:SPM` spam verdict).
"""

from __future__ import annotations

import smtplib
import ssl
from pathlib import Path

from mailbot.config import SmtpConfig
from mailbot.ports import ConnectionFailure, PermanentFailure, TemporaryFailure


def _text(error: bytes | str) -> str:
    return error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)


class SmtpTransport:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._client: smtplib.SMTP | None = None
        self._context: ssl.SSLContext | None = None

    def tls(self) -> ssl.SSLContext:
        """One TLS context for the transport's life: making one loads the system's CA certificates (30-60 ms),
        and replies go out on a new connection after each round of the outbox."""
        if self._context is None:
            self._context = ssl.create_default_context()
        return self._context

    def connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_seconds, context=self.tls())
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_seconds)
            if cfg.security == "starttls":
                client.starttls(context=self.tls())
        if cfg.username:
            client.login(cfg.username, cfg.password())
        return client

    def _session(self) -> smtplib.SMTP:
        if self._client is None:
            try:
                self._client = self.connect()
            except smtplib.SMTPAuthenticationError as exc:
                raise ConnectionFailure(f"SMTP login refused: {exc.smtp_code} {_text(exc.smtp_error)}") from None
            except (OSError, smtplib.SMTPException) as exc:
                raise ConnectionFailure(
                    f"SMTP connection to {self.config.host}:{self.config.port} failed: {exc}"
                ) from None
        return self._client

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        for attempt in (1, 2):  # a kept connection may have been closed by the server meanwhile
            client = self._session()
            try:
                refused = client.sendmail(sender, recipients, raw)
                break
            except smtplib.SMTPServerDisconnected as exc:
                self._client = None
                if attempt == 2:
                    raise ConnectionFailure(f"SMTP server disconnected: {exc}") from None
            except smtplib.SMTPRecipientsRefused as exc:
                codes = [code for code, _msg in exc.recipients.values()]
                failure = PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure
                raise failure(f"recipients refused: {exc.recipients}") from None
            except smtplib.SMTPResponseException as exc:
                failure = PermanentFailure if 500 <= exc.smtp_code < 600 else TemporaryFailure
                self._reset()
                raise failure(f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                raise ConnectionFailure(f"SMTP send failed: {exc}") from None
        if refused:
            raise PermanentFailure(f"recipients refused: {refused}")

    def _reset(self) -> None:
        """After a refused message the session must be usable for the next one."""
        if self._client is not None:
            try:
                self._client.rset()
            except (OSError, smtplib.SMTPException):
                self.close()

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.quit()
            except (OSError, smtplib.SMTPException):
                self._client.close()
            self._client = None

    def check(self) -> None:
        client = self.connect()
        client.noop()
        client.quit()


class DirectoryTransport:
    """Writes each outgoing email as an .eml file; used by `mailbot demo`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.count = len(list(directory.glob("*.eml"))) if directory.is_dir() else 0

    def send(self, sender: str, recipients: list[str], raw: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.count += 1
        safe = "_".join(r.replace("@", "_at_") for r in recipients)[:80]
        (self.directory / f"{self.count:04d}-{safe}.eml").write_bytes(raw)

    def close(self) -> None:
        """Nothing is held open between messages."""

    def check(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
