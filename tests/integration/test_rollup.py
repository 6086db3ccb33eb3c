"""The points roll-up agrees with the ledger after every kind of change.

Bulletins sum the roll-up (each item's lines kept in a table); `mailbot explain`, the register and this
test score the items from scratch. After each change the office or the mail can make (an adoption, a
higher one, a return in 终审, a corrected re-send with other drafters, a grade, a moved 约稿 deadline, a
column, a new point table) both must give every unit and every person the same points in every period.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import ledger, rollup
from mailbot.adapters.db import Adoption, Author, Item, Solicitation, Unit
from mailbot.adapters.points_tables import SCALE, ItemPoints, PointsStale
from mailbot.bootstrap import App, build
from mailbot.config import Config, load_config
from mailbot.domain import scoring
from mailbot.domain.calendar import parse_period
from tests.helpers import config_file
from tests.integration.test_columns_flow import COLUMNS
from tests.integration.test_digests import DAWA, PANSHAN, seed_november
from tests.integration.test_explain import seed_autumn
from tests.servers import SmtpSink

TODAY = date(2027, 1, 6)
PERIODS = ("2026-10", "2026-11", "2026-12", "2026-Q4", "2026")


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SmtpSink) -> App:
    built = build(load_config(config_file(tmp_path, smtp_sink, COLUMNS)))
    seed_november(built)
    seed_autumn(built)
    return built


def agree(app: App, config: Config | None = None) -> int:
    """Refresh, then compare the roll-up's sums with the ledger's totals; returns how many items were scored."""
    config = config or app.config
    with Session(app.engine) as s:
        scored = rollup.refresh(app.engine, config)
        assert s.exec(select(PointsStale)).first() is None
        read_once = rollup.DaySums(s, date(2026, 1, 1), date(2026, 12, 31))
        for label in PERIODS:
            period = parse_period(label)
            by_source = rollup.sums_by_source(s, period.start, period.end)
            assert read_once.by_source(period.start, period.end) == by_source, label
            assert read_once.units(period.start, period.end) == rollup.unit_sums(s, period.start, period.end), label
            book = ledger.read_ledger(s, config, date(2026, 1, 1), period.end, TODAY, deductions=False)
            units = {k: v / SCALE for k, v in rollup.unit_sums(s, period.start, period.end).items()}
            people = {k: v / SCALE for k, v in rollup.person_sums(s, period.start, period.end).items()}
            assert units == pytest.approx(scoring.totals(book.entries, period, "unit"), abs=1e-9), label
            assert people == pytest.approx(scoring.totals(book.entries, period, "person"), abs=1e-9), label
    return scored


def item_id(app: App, seq: int) -> int:
    with Session(app.engine) as s:
        found = s.exec(select(Item.id).where(Item.seq == seq)).one()
        assert found is not None
        return found


def test_every_change_is_scored_again(app: App) -> None:
    assert agree(app) > 0  # the first reader scores every item once
    assert agree(app) == 0  # nothing changed: nothing is scored, nothing written
    first, third = item_id(app, 1), item_id(app, 3)
    with Session(app.engine) as s:
        ids = {u.name: u.id for u in s.exec(select(Unit))}
        s.add(Adoption(item_id=third, level="city", on=date(2026, 12, 2), by="t"))
        s.commit()
    assert agree(app) == 1
    with Session(app.engine) as s:  # a higher level later tops the item up (三(一)2)
        s.add(Adoption(item_id=third, level="national", on=date(2026, 12, 20), by="t"))
        s.commit()
    assert agree(app) == 1
    with Session(app.engine) as s:  # returned in 终审: the item and its adoptions earn nothing
        row = s.get(Item, first)
        assert row is not None
        row.status = "returned"
        s.add(row)
        s.commit()
    assert agree(app) == 1
    with Session(app.engine) as s:  # a corrected re-send names two other drafters
        for author in s.exec(select(Author).where(Author.item_id == third)):
            s.delete(author)
        s.add(Author(item_id=third, name="王五", unit_id=ids[DAWA], share=0.15))
        s.add(Author(item_id=third, name="钱六", unit_id=ids[PANSHAN], share=0.15))
        s.commit()
    assert agree(app) == 1
    with Session(app.engine) as s:  # the 约稿's deadline moves: its answers become late (三(二)1)
        sol = s.exec(select(Solicitation)).one()
        sol.deadline = date(2026, 10, 1)
        s.add(sol)
        s.commit()
    assert agree(app) == 2
    with Session(app.engine) as s:  # filed under a column afterwards
        row = s.get(Item, third)
        assert row is not None
        row.column_name = "文件解读"
        s.add(row)
        s.commit()
    assert agree(app) == 1
    with Session(app.engine) as s:
        items = len(s.exec(select(Item.id)).all())
        before = sorted((p.item_id, p.points) for p in s.exec(select(ItemPoints)))
    richer = replace(app.config, scoring=replace(app.config.scoring, routine=0.5))
    assert agree(app, richer) == items  # another point table: every item again
    with Session(app.engine) as s:
        assert sorted((p.item_id, p.points) for p in s.exec(select(ItemPoints))) != before
    assert agree(app) == items  # and back


def test_marks_are_written_with_the_change_they_follow(app: App) -> None:
    """A change rolled back leaves no mark; one committed leaves its mark in the same transaction."""
    agree(app)
    third = item_id(app, 3)
    with Session(app.engine) as s:
        s.add(Adoption(item_id=third, level="city", on=date(2026, 12, 2), by="t"))
        s.flush()
        assert [m.item_id for m in s.exec(select(PointsStale))] == [third]
        s.rollback()
    with Session(app.engine) as s:
        assert s.exec(select(PointsStale)).first() is None
