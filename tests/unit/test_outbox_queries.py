"""The outbox grows with every reply and keeps each one's raw mail: the lookups made for every
message (the per-recipient limit) and after every pass (the held-mail summary) must read it through
an index, never by walking every row. Checked with SQLite's own query plans."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlmodel import Session

from mailbot.adapters.db import make_engine
from mailbot.config import load_config
from mailbot.held import HeldSummary
from mailbot.outbox import over_limit

REPO = Path(__file__).resolve().parents[2]


def test_the_lookups_made_per_message_do_not_walk_the_outbox(tmp_path: Path) -> None:
    config = load_config(REPO / "config.toml")
    assert config.office.recipients  # else the summary would not look at the outbox at all
    engine = make_engine(f"sqlite:///{tmp_path / 'mailbot.db'}")
    seen: list[tuple[str, tuple[object, ...]]] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_: seen.append((sql, params)))
    with Session(engine) as s:
        over_limit(s, config, "liaison@example.com")
    HeldSummary(config, engine, mailer=None).send()  # type: ignore[arg-type]  # nothing held: no mail made
    on_outbox = [(sql, params) for sql, params in seen if "FROM outbox" in sql]
    assert len(on_outbox) == 2
    with engine.connect() as conn:
        for sql, params in on_outbox:
            plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()]
            assert any("USING INDEX" in step or "USING COVERING INDEX" in step for step in plan), (sql, plan)
            assert not any(step.startswith("SCAN outbox") for step in plan), (sql, plan)
