"""Schema migrations: models and migrations agree, and an upgrade from the first schema keeps every row."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from mailbot.adapters import schema
from tests.servers import database_url


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    """A schema change without its migration fails here."""
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        conn.execute(text("SELECT 1"))
    schema.upgrade(engine, "0001")  # step by step, not create_all
    schema.upgrade(engine, "head")
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    assert schema.current(engine) == schema.head()


def test_a_new_database_is_created_at_head(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'n.db'}")
    schema.upgrade(engine)
    assert schema.current(engine) == schema.head()
    assert {"item", "message", "outbox", "reminder"} <= set(inspect(engine).get_table_names())


def test_upgrade_from_the_first_schema_keeps_every_record(tmp_path: Path) -> None:
    """Build at 0001, fill it the way 0001's mailbot did, upgrade to head: nothing lost."""
    engine = create_engine(database_url(tmp_path))
    schema.upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO unit (id, name, kind, aliases) VALUES (1, '盘山县应急管理局', '县区', '')"))
        conn.execute(
            text(
                "INSERT INTO liaison (id, unit_id, name, email, phone, wechat, active, source, since) "
                "VALUES (1, 1, '孙悦', 'ps@example.com', '', '', true, 'config', '2026-01-02 03:04:05')"
            )
        )
        for n in range(1, 51):
            conn.execute(
                text(
                    "INSERT INTO message (id, mailbox, folder, uidvalidity, uid, message_id, sha256, size, raw_path, "
                    "sender, subject, received_at, state, verdict, reasons, problems, unit_id) VALUES "
                    f"({n}, 'm', 'INBOX', 7, '{n}', '<{n}@x>', 's{n}', 10, 'raw/{n}', 'ps@example.com', '主题{n}', "
                    "'2026-03-01 00:00:00', 'filed', 'receipt', '', '', 1)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO item (id, number, year, seq, unit_id, title, kind, body_chars, photo_count, "
                    "first_reviewer, second_reviewer, points, content_hash, status, received_at) VALUES "
                    f"({n}, '2026-{n:04d}', 2026, {n}, 1, '标题{n}', 'routine', 100, 1, '李四', '王五', 0.3, 'h{n}', "
                    "'received', '2026-03-01 00:00:00')"
                )
            )
        conn.execute(
            text(
                'INSERT INTO adoption (id, item_id, level, publication, "on", "by", at) '
                "VALUES (1, 3, 'province', '辽宁信息', '2026-03-05', 't', '2026-03-05 00:00:00')"
            )
        )
    schema.upgrade(engine)
    assert schema.current(engine) == schema.head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM item")).scalar() == 50
        assert conn.execute(text("SELECT count(*) FROM message WHERE verdict = 'receipt'")).scalar() == 50
        assert conn.execute(text("SELECT title, points FROM item WHERE number = '2026-0050'")).one() == ("标题50", 0.3)
        assert conn.execute(text("SELECT level FROM adoption WHERE item_id = 3")).scalar() == "province"
        assert conn.execute(text("SELECT column_name FROM item WHERE id = 1")).scalar() is None
    engine.dispose()


def test_a_start_killed_while_creating_the_schema_leaves_nothing_half_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A SIGKILL during the first start's CREATE TABLEs must not leave tables without the version stamp."""
    engine = create_engine(f"sqlite:///{tmp_path / 'k.db'}")
    real = SQLModel.metadata.create_all

    def dies_halfway(bind: object, **kw: object) -> None:
        real(bind, tables=[SQLModel.metadata.tables["unit"], SQLModel.metadata.tables["liaison"]])  # type: ignore[arg-type]
        raise KeyboardInterrupt  # stands for the kill: nothing after this point runs

    monkeypatch.setattr(SQLModel.metadata, "create_all", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        schema.upgrade(engine)
    assert inspect(engine).get_table_names() == []  # the two tables went with the transaction
    monkeypatch.undo()
    schema.upgrade(engine)  # the next start builds the schema as if nothing had happened
    assert schema.current(engine) == schema.head()
