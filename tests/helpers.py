"""Helpers shared by the integration and reliability tests: configs pointing at the test servers,
the `mailbot` command as a process, and the checks that every message was answered exactly once."""

from __future__ import annotations

import email
import hashlib
import os
import subprocess
import sys
from collections import defaultdict
from email.message import EmailMessage
from pathlib import Path

from sqlmodel import Session, func, select

from mailbot.adapters.db import Item, Message, StoredFile, make_engine
from mailbot.config import load_config
from mailbot.domain.triage import Outcome
from mailbot.ingest import Desk
from mailbot.ports import MailRef, Source
from tests.servers import DovecotServer, SmtpSink, database_url, server_sections


def ingest(desk: Desk, ref: MailRef, raw: bytes) -> Outcome:
    """The first two steps of a pass for one message (store raw, record), without filing it: a run
    that died after recording."""
    return desk.record(desk.store_raw(ref, raw), ref)


def fetch_whole(source: Source, uid: str) -> bytes:
    """A message's bytes from a Source, joined: for tests that want the whole of a small message."""
    return b"".join(source.fetch(uid).parts)


REPO = Path(__file__).resolve().parents[1]
FROM = "pjyjjbgs@163.com"


def write_config(tmp_path: Path, dovecot: DovecotServer, smtp: SmtpSink) -> Path:
    """The repository's example config with the servers swapped for the test ones."""
    example = (REPO / "config.toml").read_text(encoding="utf-8")
    units = example[example.index("[[units]]") :]
    path = tmp_path / "config.toml"
    path.write_text(
        server_sections(dovecot, smtp, "TEST_IMAP_PASSWORD", FROM)
        + f"""[database]
url = "{database_url(tmp_path)}"
[storage]
dir = "storage"
[office]
name = "市应急管理局办公室"
recipients = ["office@example.com"]
admins = ["chief@example.com"]
[schedule]
enabled = false  # reminders would depend on the hour the tests run
{units}""",
        encoding="utf-8",
    )
    return path


def reply_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


UNITS = """
[[units]]
name = "盘山县应急管理局"
kind = "县区"
liaisons = [{ name = "孙悦", email = "panshan@example.com" }, { name = "周强", email = "panshan2@example.com" }]
[[units]]
name = "大洼区应急管理局"
kind = "县区"
liaisons = [{ name = "赵婷", email = "dawa@example.com" }]
[[units]]
name = "宣教科"
kind = "科室"
liaisons = [{ name = "陈静", email = "xuanjiao@example.com" }]
"""


def config_file(tmp_path: Path, smtp: SmtpSink, extra: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[mailbox]
kind = "maildir"
path = "inbox"
[smtp]
host = "127.0.0.1"
port = {smtp.port}
security = "none"
from_address = "pjyjjbgs@163.com"
[database]
url = "{database_url(tmp_path)}"
[storage]
dir = "storage"
{extra}
{UNITS}""",
        encoding="utf-8",
    )
    return path


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


def poll(config: Path, password: str, fault: str = "") -> subprocess.Popen[str]:
    env = {**os.environ, "TEST_IMAP_PASSWORD": password}
    env.pop("MAILBOT_FAULT", None)
    if fault:
        env["MAILBOT_FAULT"] = fault
    return subprocess.Popen(
        [sys.executable, "-m", "mailbot", "--config", str(config), "poll", "--once"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def check_exactly_once(config: Path, raws: list[bytes], smtp: SmtpSink, dovecot: DovecotServer, receipts: int) -> None:
    """One reply per message (a re-send after a kill between 250 and commit reuses its Message-ID),
    one item per receipt, every raw message kept byte for byte, the inbox empty."""
    ids: dict[str, set[str]] = defaultdict(set)
    for m in smtp.messages:
        if m.message["In-Reply-To"]:
            ids[str(m.message["In-Reply-To"])].add(str(m.message["Message-ID"]))
    originals = [str(email.message_from_bytes(r)["Message-ID"]) for r in raws]
    assert all(len(ids[o]) == 1 for o in originals), {o: ids[o] for o in originals if len(ids[o]) != 1}
    loaded = load_config(config)
    engine = make_engine(loaded.database_url())
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Item)).one() == receipts
        rows = s.exec(select(Message)).all()
        by_msgid = {r.message_id: r for r in rows}
        storage = loaded.storage_dir()
        for raw, msgid in zip(raws, originals, strict=True):
            assert (storage / by_msgid[msgid].raw_path).read_bytes() == raw
        assert all(r.state == "filed" for r in rows)
        # unpacked files are kept for recorded items only, whole, and nothing is left in staging
        kept = {f.sha256 for f in s.exec(select(StoredFile)) if f.kind != "archive"}
        written = (storage / "files").rglob("*") if (storage / "files").exists() else iter(())
        files = [p for p in written if p.is_file() and not p.name.startswith(".")]  # not a write a kill cut
        assert {p.name for p in files} == kept and all(
            hashlib.sha256(p.read_bytes()).hexdigest() in kept for p in files
        )
        assert not (storage / "staging").exists() or not any((storage / "staging").iterdir())
    engine.dispose()
    assert dovecot.uids("INBOX") == []
