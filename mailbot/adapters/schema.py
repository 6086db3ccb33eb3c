"""Schema upgrades with Alembic, run on start-up and by `mailbot db upgrade`.

Several processes may start at once against one PostgreSQL: the upgrade runs under a transaction
advisory lock, so one of them migrates and the others find the schema already at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel

import mailbot.migrations

MIGRATION_LOCK = 0x6D61696C  # "mail"


def _config(connection: Connection | None = None) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(mailbot.migrations.__file__).parent))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """An empty database is created from the models and stamped (the test suite proves models and
    migrations agree); an existing one is migrated step by step. All or nothing, one process at a time."""
    if engine.dialect.name == "sqlite":
        # pysqlite runs DDL outside any transaction, so a kill between two CREATE TABLEs left a half-made
        # schema that no later start could migrate ("table … already exists"). One IMMEDIATE transaction
        # makes the upgrade atomic and makes a second process starting at once wait for the first.
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                _upgrade(conn, revision)
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")
        return
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        _upgrade(conn, revision)


def _upgrade(conn: Connection, revision: str) -> None:
    cfg = _config(conn)
    if revision == "head" and not inspect(conn).get_table_names():
        SQLModel.metadata.create_all(conn)
        command.stamp(cfg, "head")
    else:
        command.upgrade(cfg, revision)
