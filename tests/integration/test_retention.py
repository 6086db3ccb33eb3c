"""Retention: old raw files go on request, records stay, shared and young files are kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot.adapters.db import Item, Message, StoredFile
from mailbot.bootstrap import build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.ports import MailRef
from mailbot.samples.archives import build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import config_file, ingest
from tests.servers import SmtpSink


def test_purge_deletes_old_files_only(tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]) -> None:
    path = config_file(tmp_path, smtp_sink, "")
    path.write_text(
        path.read_text(encoding="utf-8").replace('email = "panshan@example.com"', 'email = "stz.yjj@example.com"'),
        encoding="utf-8",
    )
    app = build(load_config(path))
    # Only recorded items keep their unpacked files; a corrected re-send with the same photos shares them.
    photo = make_photo(1600, 1200, seed=91)
    footer = ["撰稿人：盘山县应急管理局（办公室）张三", "初审人：李四", "复审人：王五"]

    def piece(body: str) -> bytes:
        docx = build_docx("盘山县开展防汛演练", [body], footer)
        archive = build_zip([("稿件.docx", docx), ("现场.jpg", photo)])
        return build_mail("stz.yjj@example.com", "盘山县开展防汛演练", [("稿件.zip", archive)])

    ingest(app.desk, MailRef("m", "INBOX", 1, "1"), piece("6月18日，盘山县开展防汛应急演练。"))  # will be "old"
    ingest(app.desk, MailRef("m", "INBOX", 1, "2"), piece("6月18日，盘山县开展汛期防汛应急演练。"))  # its correction
    with Session(app.engine) as s:
        old = s.exec(select(Message).where(Message.uid == "1")).one()
        old.received_at = datetime(2022, 3, 1, tzinfo=UTC)
        s.add(old)
        s.commit()
        old_raw = app.config.storage_dir() / old.raw_path
        files = s.exec(select(StoredFile).where(StoredFile.kind != "archive")).all()  # archives stay in the raw
        shared = {f.sha256 for f in files if f.message_pk == old.id} & {
            f.sha256 for f in files if f.message_pk != old.id
        }
    assert old_raw.exists() and shared  # the photos are in both messages

    assert main(["--config", str(path), "purge", "--before", "2026-01-01"]) == 2  # younger than three years
    assert "at least 3 years" in capsys.readouterr().out
    assert main(["--config", str(path), "purge", "--before", "2023-01-01", "--dry-run"]) == 0
    assert old_raw.exists()
    assert main(["--config", str(path), "purge", "--before", "2023-01-01"]) == 0
    assert "deleted the files of 1 message(s)" in capsys.readouterr().out
    assert not old_raw.exists()
    for sha in shared:
        assert (app.config.storage_dir() / f"files/{sha[:2]}/{sha}").exists()
    with Session(app.engine) as s:
        assert s.exec(select(Message).where(Message.uid == "1")).one().raw_path == ""
        assert s.exec(select(Item)).first() is not None  # the register stays
