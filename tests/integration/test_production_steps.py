"""The README's production steps 4-7, in order, on a scratch root: config with the data paths set
first, secrets in their file, `check` passing (and writing nothing), then `poll --once` recording
where the service will look. The config block is read from the README itself, so the two agree."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from tests.helpers import FROM, REPO, mailbot
from tests.servers import DovecotServer, SmtpSink, server_sections


def readme_config_block() -> str:
    """The ```toml block of the README's "Running it for real" section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Running it for real") : text.index("### Where mail goes")]
    blocks = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the production steps carry exactly one config block"
    return "".join(line.strip() + "\n" for line in blocks[0].splitlines())


def replace_section(text: str, name: str, body: str) -> str:
    """Swap one top-level [section] of the example config, as an admin edits it."""
    pattern = re.compile(rf"^\[{re.escape(name)}\]\n.*?(?=^\[)", flags=re.S | re.M)
    assert pattern.search(text), name
    return pattern.sub(lambda _m: body, text, count=1)


def test_readme_production_steps_in_order(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    from mailbot.config import load_config
    from mailbot.samples.corpus import week_of_mail

    root = tmp_path / "root"
    etc, var = root / "etc" / "mailbot", root / "var" / "lib" / "mailbot"
    etc.mkdir(parents=True)
    var.mkdir(parents=True)
    # Step 4: the example config, the servers and office edited, the README's block for the data paths.
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    servers = server_sections(dovecot, smtp_sink, "MAILBOT_IMAP_PASSWORD", FROM)
    mailbox, smtp = servers.split("[smtp]")
    text = replace_section(text, "mailbox", mailbox.replace("[mailbox]", "[mailbox]", 1).lstrip("\n"))
    text = replace_section(text, "smtp", "[smtp]" + smtp)
    text = text.replace("office@example.com", "bangong@bureau.test")
    for name in ("database", "storage", "secrets"):
        text = replace_section(text, name, "")
    block = readme_config_block().replace("/etc/mailbot", str(etc)).replace("/var/lib/mailbot", str(var))
    config = etc / "config.toml"
    config.write_text(text + "\n" + block, encoding="utf-8")
    # Step 5: the secrets file, read by hand-run commands through [secrets] file.
    secrets = etc / "secrets"
    secrets.write_text(f"MAILBOT_IMAP_PASSWORD={dovecot.password}\nMAILBOT_SMTP_PASSWORD=unused\n", encoding="utf-8")
    secrets.chmod(0o640)
    # Step 6: check passes, with no password in the environment, and writes nothing.
    env = {"MAILBOT_IMAP_PASSWORD": "", "MAILBOT_CONFIG": ""}
    checked = mailbot("--config", str(config), "check", env=env, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"database {var / 'mailbot.db'}: will be created" in checked.stdout
    assert f"{dovecot.host}:{dovecot.port}" in checked.stdout and ": ok" in checked.stdout
    assert list(var.iterdir()) == [], "check must not create the database or the storage"
    assert "INFO" not in checked.stderr
    # Step 7: one pass by hand; the records land in /var/lib/mailbot, where the service looks.
    for sample in week_of_mail(load_config(config).units)[:2]:
        dovecot.append(sample.raw)
    polled = mailbot("--config", str(config), "poll", "--once", env=env, cwd=tmp_path)
    assert polled.returncode == 0, polled.stderr
    assert polled.stderr.count(" verdict=") == 2
    assert (var / "mailbot.db").is_file() and (var / "storage").is_dir()
    assert not (etc / "var").exists()
    assert len(smtp_sink.messages) >= 1
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o640
