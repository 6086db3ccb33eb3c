"""Peers of mailbot in the same benchmark run: another IMAP client doing a comparable job.

getmail6 (`SimpleIMAPRetriever` into a Maildir, `read_all`, nothing deleted) fetches and writes
every message of INBOX, with no parsing or replies. Beside the raw FETCH limit and mailbot's
backlog it says how far an established retriever gets on the same server, machine and load.
It is a bench-only requirement (`.venv/bin/pip install getmail6`); without it the phase is skipped.
"""

from __future__ import annotations

import os
import pwd
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.servers import DovecotServer


def getmail_binary() -> Path | None:
    """getmail beside this interpreter (the venv), else on PATH."""
    local = Path(sys.executable).parent / "getmail"
    if local.exists():
        return local
    found = shutil.which("getmail")
    return Path(found) if found else None


def getmail_peer(dovecot: DovecotServer, work: Path, n: int, size: int, raw: dict[str, Any]) -> dict[str, Any]:
    """One getmail run over INBOX (already filled with the corpus): wall time, msgs/s, MB/s and
    the ratio to the raw FETCH limit, measured like mailbot's backlog (spawn to exit)."""
    binary = getmail_binary()
    if binary is None:
        return {"skipped": "getmail6 is not installed (.venv/bin/pip install getmail6)"}
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    # getmail refuses to deliver as root: it then writes as `nobody`, into a directory that
    # account can reach (the bench's own temporary directory is private to root)
    box = Path(tempfile.mkdtemp(prefix="mailbot-bench-getmail-"))
    try:
        return _run(binary, dovecot, work, box, n, size, raw)
    finally:
        shutil.rmtree(box, ignore_errors=True)  # hundreds of MB of copies


def _run(
    binary: Path, dovecot: DovecotServer, work: Path, box: Path, n: int, size: int, raw: dict[str, Any]
) -> dict[str, Any]:
    maildir = box / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    as_user = ""
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        box.chmod(0o755)
        for path in (maildir, *(maildir / sub for sub in ("cur", "new", "tmp"))):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        as_user = "user = nobody\n"
    rc = work / "getmailrc"
    rc.write_text(
        f"""[retriever]
type = SimpleIMAPRetriever
server = {dovecot.host}
port = {dovecot.port}
username = {dovecot.username}
password = {dovecot.password}
mailboxes = ("INBOX",)

[destination]
type = Maildir
path = {maildir}/
{as_user}
[options]
read_all = true
delete = false
verbose = 0
message_log_syslog = false
""",
        encoding="utf-8",
    )
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(
        [str(binary), "--rcfile", str(rc), "--getmaildir", str(work)],
        capture_output=True,
        text=True,
        timeout=3600,
    )
    wall = time.monotonic() - started
    got = len(os.listdir(maildir / "new"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result: dict[str, Any] = {
        "version": _version(binary),
        "exit": proc.returncode,
        "messages": got,
        "wall_s": round(wall, 3),
        "load_before": round(load_before, 2),
        "msgs_per_s": round(got / wall, 2),
        "mb_per_s": round(size * got / max(n, 1) / 1e6 / wall, 2),
        "cpu_ms_per_msg": round(1000 * cpu_s / max(got, 1), 1),
    }
    result["ratio"] = round(result["mb_per_s"] / raw["mb_per_s"], 3)
    if proc.returncode != 0 or got != n:
        result["stderr_tail"] = proc.stderr[-2000:]
    return result


def _version(binary: Path) -> str:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    return (out.stdout or out.stderr).strip()
