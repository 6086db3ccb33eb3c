"""Moving a deployment from SQLite to PostgreSQL (`mailbot db copy --to URL`), table by table.

The target is created at the current schema and must be empty; rows keep their ids, so every
reference (items, replies, reminders, digests) survives, and PostgreSQL's id sequences are moved
past the copied ids afterwards.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

BATCH = 1000


class CopyError(Exception):
    """The copy cannot start (target not empty) or did not arrive whole."""


def copy_database(source: Engine, target: Engine, progress: Callable[[str, int, int], None]) -> dict[str, int]:
    tables = SQLModel.metadata.sorted_tables  # parents before children
    with target.connect() as conn:
        busy = [t.name for t in tables if conn.execute(select(func.count()).select_from(t)).scalar()]
    if busy:
        raise CopyError(f"the target database already holds data (tables {', '.join(busy)}); use an empty one")
    counts: dict[str, int] = {}
    with source.connect() as src, target.begin() as dst:
        for table in tables:
            total = src.execute(select(func.count()).select_from(table)).scalar() or 0
            done = 0
            result = src.execution_options(yield_per=BATCH).execute(select(table).order_by(*table.primary_key))
            for rows in result.partitions(BATCH):
                dst.execute(insert(table), [dict(r._mapping) for r in rows])
                done += len(rows)
                progress(table.name, done, total)
            counts[table.name] = done
            if target.dialect.name == "postgresql" and "id" in table.c and done:
                dst.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'(SELECT MAX(id) FROM "{table.name}"))'
                    )
                )
    with target.connect() as conn:
        for table in tables:
            arrived = conn.execute(select(func.count()).select_from(table)).scalar()
            if arrived != counts[table.name]:
                raise CopyError(f"table {table.name}: {counts[table.name]} rows copied but {arrived} arrived")
    return counts
