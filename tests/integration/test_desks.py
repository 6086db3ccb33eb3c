"""Several bureaus' mailboxes in one deployment: one PostgreSQL database, a schema each."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from mailbot.adapters.db import Item
from mailbot.bootstrap import build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.corpus import week_of_mail
from mailbot.schedule import local_today
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink, database_url, postgres_reachable


def desk_config(tmp_path: Path, name: str, office: str, dovecot: DovecotServer, smtp: SmtpSink, url: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    path = write_config(folder, dovecot, smtp)
    text = path.read_text(encoding="utf-8")
    text = text.replace("[database]\n", f'[database]\nschema = "{name}"\n', 1)
    text = text.replace(
        text[text.index('url = "') : text.index('"', text.index('url = "') + 7) + 1], f'url = "{url}"', 1
    )
    text = text.replace('name = "市应急管理局办公室"', f'name = "{office}"')
    path.write_text(text.replace("TEST_IMAP_PASSWORD", f"TEST_IMAP_PASSWORD_{name.upper()}"), encoding="utf-8")
    return path


def test_two_bureaus_share_a_database_and_report_together(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable (MAILBOT_TEST_POSTGRES): schemas per bureau need it")
    monkeypatch.setenv("MAILBOT_TEST_DB", "postgresql")
    url = database_url(tmp_path)
    with DovecotServer() as second:
        monkeypatch.setenv("TEST_IMAP_PASSWORD_PANJIN", dovecot.password)
        monkeypatch.setenv("TEST_IMAP_PASSWORD_JINZHOU", second.password)
        a = desk_config(tmp_path, "panjin", "盘锦市应急管理局办公室", dovecot, smtp_sink, url)
        b = desk_config(tmp_path, "jinzhou", "锦州市应急管理局办公室", second, smtp_sink, url)
        samples = week_of_mail(load_config(a).units)
        for sample in samples[:2]:
            dovecot.append(sample.raw)
        second.append(samples[3].raw)
        for path in (a, b):
            app = build(load_config(path))
            poll_once(app.source, app.desk, app.transport)
        numbers = {}
        for path in (a, b):
            app = build(load_config(path))
            with Session(app.engine) as s:
                numbers[path.parent.name] = sorted(i.number[-4:] for i in s.exec(select(Item)))
        assert numbers == {"panjin": ["0001", "0002"], "jinzhou": ["0001"]}  # each bureau numbers its own
        assert len(smtp_sink.messages) == 3

        month = local_today(build(load_config(a))).strftime("%Y-%m")
        out = tmp_path / "together"
        assert (
            main(["--config", str(a), "digest", "monthly", "--period", month, "--together", str(b), "--out", str(out)])
            == 0
        )
        sheet = load_workbook(next(out.glob("*.xlsx")))["单位汇总"]
        rows = {
            r[1]: r
            for r in sheet.iter_rows(values_only=True)
            if r and r[1] in ("盘锦市应急管理局办公室", "锦州市应急管理局办公室")
        }
        assert set(rows) == {"盘锦市应急管理局办公室", "锦州市应急管理局办公室"}
        text = next(out.glob("*.txt")).read_text(encoding="utf-8")
        assert "（汇总）" in text and "锦州市应急管理局办公室" in text
