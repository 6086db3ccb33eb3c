"""Schema migrations: models and migrations agree, and an upgrade from the first schema keeps every row."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from mailbot.adapters import schema


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
