"""An item adopted last December and again this February: this year's ledger tops it up to the higher
level (三(一)2, by the highest level) rather than paying the higher level whole a second time."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import office
from mailbot.adapters.db import Item, Unit
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.domain.calendar import Period
from mailbot.ledger import load_ledger
from tests.helpers import config_file
from tests.servers import SmtpSink

UNIT = "宣教科"


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SmtpSink) -> App:
    built = build(load_config(config_file(tmp_path, smtp_sink)))
    with Session(built.engine) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.name == UNIT)).one()
        s.add(
            Item(
                number="2026-0001",
                year=2026,
                seq=1,
                unit_id=unit_id,
                title="全市开展防汛演练",
                content_hash="h1",
                received_at=datetime(2026, 12, 10, 2, 0, tzinfo=UTC),
            )
        )
        s.commit()
        office.adopt(s, "2026-0001", "city", "市政府网站", date(2026, 12, 15), "test")
        office.adopt(s, "2026-0001", "province", "省应急管理厅网站", date(2027, 2, 10), "test")
        s.commit()
    return built


def adoption_lines(app: App, year: int) -> list[tuple[date, float, str]]:
    with Session(app.engine) as s:
        entries = load_ledger(s, app.config, date(year, 1, 1), date(year, 12, 31), date(2027, 12, 31))
    return [(e.on, e.points, e.note) for e in entries if e.source == "adoption"]


def test_a_higher_level_next_year_tops_the_item_up(app: App) -> None:
    table = app.config.scoring
    (last_year,) = adoption_lines(app, 2026)
    assert last_year[:2] == (date(2026, 12, 15), table.adopted_city)
    (this_year,) = adoption_lines(app, 2027)
    assert this_year[:2] == (date(2027, 2, 10), table.adopted_province - table.adopted_city)
    assert "补" in this_year[2]
    # the two years together pay the item its highest level, once
    assert last_year[1] + this_year[1] == table.adopted_province


def test_the_years_ledger_keeps_only_its_own_lines(app: App) -> None:
    with Session(app.engine) as s:
        entries = load_ledger(s, app.config, date(2027, 1, 1), date(2027, 12, 31), date(2027, 12, 31))
    year = Period("year", "2027", date(2027, 1, 1), date(2027, 12, 31))
    assert all(year.contains(e.on) for e in entries if e.source == "adoption")
