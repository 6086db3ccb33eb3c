"""The commands as an operator runs them: real processes, real servers."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.test_ingest_e2e import REPO, write_config
from tests.servers import DovecotServer, SmtpSink


def mailbot(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mailbot", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


def test_demo_runs_on_the_example_config(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = mailbot("--config", str(REPO / "config.toml"), "demo", "--dir", str(out))
    assert result.returncode == 0, result.stderr
    assert "17 messages, 17 verdicts as expected" in result.stdout
    assert "GBK 压缩包" in result.stdout and "Traceback" not in result.stderr
    replies = sorted((out / "outbox").glob("*.eml"))
    assert len(replies) == 15
    first = email.message_from_bytes(replies[0].read_bytes(), policy=email.policy.default)
    assert first["Auto-Submitted"] == "auto-replied"
    assert "已收录" in first.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    # Every message was filed out of the inbox into the folder of its verdict.
    assert not any((out / "inbox" / "new").iterdir()) and not any((out / "inbox" / "cur").iterdir())
    assert len(list((out / "inbox" / ".rejected" / "new").iterdir())) == 8


def test_check_passes_against_live_servers(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": dovecot.password})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mailbox: ok" in result.stdout and "smtp: ok" in result.stdout
    assert "match no [[units]]" not in result.stdout  # every column's units resolve in the example config


def test_check_fails_on_wrong_password_without_printing_it(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    config = write_config(tmp_path, dovecot, smtp_sink)
    result = mailbot("--config", str(config), "check", env={"TEST_IMAP_PASSWORD": "wrong-secret-123"})
    assert result.returncode == 1
    assert "mailbox: FAILED" in result.stdout
    assert "wrong-secret-123" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("[mailbox]\nkind = 'pop3'\n", "kind must be"),
        (
            "[mailbox]\nhost = 'imap.163.com'\nusername = 'x@163.com'\nsecurity = 'tls'\n"
            "[smtp]\nhost = 's'\nfrom_address = 'x@163.com'\n",
            "security must be one of",
        ),
        ("[mailbox]\nhost = 'h'\nusername = 'u'\npasword_env = 'X'\n", "unknown key(s): pasword_env"),
        ("not toml = = =", "config.toml"),
    ],
)
def test_bad_config_is_explained(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = mailbot("--config", str(path), "check")
    assert result.returncode == 1 and "config: FAILED" in result.stdout
    assert message in result.stdout + result.stderr


def test_poll_once_exits_zero_and_logs_one_line_per_message(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    from mailbot.config import load_config
    from mailbot.samples.corpus import week_of_mail

    config = write_config(tmp_path, dovecot, smtp_sink)
    for sample in week_of_mail(load_config(config).units)[:3]:
        dovecot.append(sample.raw)
    result = mailbot("--config", str(config), "poll", "--once", env={"TEST_IMAP_PASSWORD": dovecot.password})
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if " verdict=" in line]
    assert len(lines) == 3 and all("from=" in line and "item=" in line for line in lines)
    assert dovecot.password not in result.stderr


def test_check_warns_about_column_units_that_match_no_unit(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    from tests.integration.test_reminders import config_file

    path = config_file(tmp_path, smtp_sink)
    path.write_text(
        path.read_text(encoding="utf-8") + '[[columns]]\nname = "部门文件"\nchannel = "website"\n'
        'cycle = "monthly"\nunits = ["法规科"]\npoints = 0.5\npenalty = 0.5\nphotos = false\n',
        encoding="utf-8",
    )
    result = mailbot("--config", str(path), "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "mailbox: ok" in result.stdout
    assert "warning: column 部门文件: responsible unit(s) 法规科 match no [[units]] name or alias" in result.stdout
