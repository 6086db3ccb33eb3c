"""SQLite to PostgreSQL: a year of items copied, counts and scores identical."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import digests
from mailbot.adapters.db import Adoption, Author, Deduction, Item, Message, Outbox, Unit, make_engine
from mailbot.bootstrap import build
from mailbot.cli import main
from mailbot.config import DatabaseConfig, load_config
from mailbot.domain.calendar import parse_period
from tests.helpers import config_file
from tests.servers import SmtpSink, database_url, postgres_reachable

ITEMS = 3000


def fill_a_year(url: str, config_path: Path) -> None:
    config = replace(load_config(config_path), database=DatabaseConfig(url=url))
    engine = build(config).engine
    rng = random.Random(2026)
    with Session(engine) as s:
        units = [u.id for u in s.exec(select(Unit)) if u.id is not None]
        start = datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
        for seq in range(1, ITEMS + 1):
            when = start + timedelta(minutes=rng.randrange(0, 364 * 24 * 60))
            unit = rng.choice(units)
            msg = Message(
                mailbox="m",
                folder="INBOX",
                uidvalidity=1,
                uid=str(seq),
                sha256=f"s{seq}",
                raw_path="x",
                received_at=when,
                state="filed",
                verdict="receipt",
                unit_id=unit,
                subject=f"主题{seq}",
            )
            s.add(msg)
            s.flush()
            item = Item(
                number=f"2026-{seq:04d}",
                year=2026,
                seq=seq,
                unit_id=unit,
                title=f"信息{seq}",
                content_hash=f"h{seq}",
                received_at=when,
                points=0.3,
            )
            s.add(item)
            s.flush()
            assert item.id is not None and msg.id is not None
            msg.item_id = item.id
            for n in range(rng.choice((1, 1, 2, 3))):
                s.add(Author(item_id=item.id, name=f"撰稿人{n}", unit_id=rng.choice(units), share=0.1))
            if rng.random() < 0.1:
                s.add(
                    Adoption(
                        item_id=item.id,
                        level=rng.choice(("city", "province", "national")),
                        on=min(date(2026, 12, 31), when.date() + timedelta(days=10)),
                        by="t",
                    )
                )
            s.add(
                Outbox(
                    message_pk=msg.id,
                    kind="receipt",
                    sender="a@b",
                    recipients="c@d",
                    subject="回执",
                    message_id=f"<r{seq}@b>",
                    raw=b"x",
                    state="sent",
                )
            )
        s.add(Deduction(unit_id=units[0], points=1.5, reason="信息失实", on=date(2026, 6, 1), by="t"))
        s.commit()


def test_copy_a_year_from_sqlite_to_postgresql(
    tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not postgres_reachable():
        pytest.skip("PostgreSQL is not reachable (MAILBOT_TEST_POSTGRES): the copy needs a target")
    monkeypatch.setenv("MAILBOT_TEST_DB", "sqlite")
    path = config_file(tmp_path, smtp_sink)
    fill_a_year(load_config(path).database_url(), path)
    monkeypatch.setenv("MAILBOT_TEST_DB", "postgresql")
    target = database_url(tmp_path)
    assert main(["--config", str(path), "db", "copy", "--to", target]) == 0
    assert "copied" in capsys.readouterr().out
    assert main(["--config", str(path), "db", "copy", "--to", target]) == 1  # never into a database with data

    sqlite_cfg = load_config(path)
    pg_cfg = replace(sqlite_cfg, database=DatabaseConfig(url=target))
    year = parse_period("2026")
    before = digests.build_report(sqlite_cfg, make_engine(sqlite_cfg.database_url()), "yearly", year)
    after = digests.build_report(pg_cfg, make_engine(target), "yearly", year)
    assert before.units == after.units and before.people == after.people and before.totals == after.totals
    assert after.totals.accepted == ITEMS

    # New rows continue after the copied ids.
    with Session(make_engine(target)) as s:
        s.add(Outbox(kind="receipt", sender="a@b", recipients="c@d", subject="新", message_id="<new@b>", raw=b"y"))
        s.commit()
        assert max(s.exec(select(Outbox.id)).all()) == ITEMS + 1  # type: ignore[type-var]
