"""Tables of the points roll-up: each item's ledger lines kept, so a bulletin sums a year in SQL.

A line is what the scoring rules give one item (its submission, column or 约稿 points and its
adoptions), computed by mailbot.rollup from the same rules as the ledger and stored in ten-thousandths
of a point, so that SQL sums them exactly on SQLite and PostgreSQL alike. Whatever an item is scored
from (the item, its drafters, its adoptions, its 约稿's deadline) is marked stale in the transaction
that changes it (mailbot.adapters.db's flush listener); the next reader scores the marked items again
before it sums. Deductions are not kept here: they are few, and what a missed cycle costs depends on
the day it is read. Imported by mailbot.adapters.db, so these tables are part of the one schema.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

SCALE = 10_000  # points are kept as integers of 1/10000 point: shares are split to 4 decimals (三(一)2)


class ItemPoints(SQLModel, table=True):
    """One ledger line of one item: who is credited, on which day, how much, for what."""

    # A bulletin sums the lines per day, unit and kind: read from this index alone and in its order, SQLite
    # sums a year of them without a sort (0.05 s instead of 0.16 s for 140,000 lines).
    __table_args__ = (Index("ix_itempoints_day_sums", "on", "unit_id", "source", "points"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)
    unit_id: int = Field(index=True)
    person: str | None = None  # the drafter credited; none when the item names no drafter
    on: date = Field(index=True)
    points: int  # in 1/SCALE of a point
    source: str  # submission | column | adoption | solicitation


class PointsStale(SQLModel, table=True):
    """An item whose lines must be scored again before the roll-up is summed."""

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(index=True)


class PointsState(SQLModel, table=True):
    """The one row saying which point table the lines were computed with: another one rebuilds them all."""

    id: int = Field(default=1, primary_key=True)
    rules: str
