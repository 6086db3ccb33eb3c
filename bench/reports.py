"""Phase 5 of the benchmark: bulletins over 100,000 items, on SQLite and (when reachable) PostgreSQL.

Rows go in with bulk Core inserts (a year of a large province's traffic in seconds); the timed part
is exactly what the daemon does for a bulletin: `digests.build_report`, then rendering.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from mailbot import digest_mail, digests  # noqa: E402
from mailbot.adapters import db, registry_store  # noqa: E402
from mailbot.adapters.render import Renderer  # noqa: E402
from mailbot.config import Config, DatabaseConfig, load_config  # noqa: E402
from mailbot.domain.calendar import parse_period  # noqa: E402

YEAR = 2026


def seed(engine: Any, items: int) -> float:
    started = time.monotonic()
    rng = random.Random(7)
    with Session(engine) as s:
        units = [u for u in s.exec(select(db.Unit.id)).scalars()]
    start = datetime(YEAR, 1, 1, 1, tzinfo=UTC)
    step = 364 * 86400 / items
    messages, rows, authors, adoptions = [], [], [], []
    for n in range(1, items + 1):
        when = start + timedelta(seconds=n * step)
        unit = units[n % len(units)]
        messages.append(
            {
                "id": n,
                "mailbox": "bench",
                "folder": "INBOX",
                "uidvalidity": 1,
                "uid": str(n),
                "message_id": f"<{n}@bench>",
                "sha256": f"{n:064x}",
                "size": 5_000_000,
                "raw_path": "",
                "sender": "x@example.com",
                "subject": "报送",
                "received_at": when,
                "state": "filed",
                "verdict": "receipt",
                "reasons": "",
                "problems": "",
                "unit_id": unit,
                "item_id": n,
            }
        )
        rows.append(
            {
                "id": n,
                "number": f"{YEAR}-{n:06d}",
                "year": YEAR,
                "seq": n,
                "unit_id": unit,
                "title": f"信息{n}",
                "kind": "routine",
                "body_chars": 800,
                "photo_count": 3,
                "first_reviewer": "李",
                "second_reviewer": "王",
                "points": 0.3,
                "content_hash": f"h{n}",
                "status": "received",
                "received_at": when,
            }
        )
        for k in range(rng.choice((1, 1, 2))):
            authors.append(
                {"item_id": n, "name": f"撰稿人{n % 300}-{k}", "unit_text": "", "unit_id": unit, "share": 0.3}
            )
        if n % 20 == 0:
            adoptions.append(
                {
                    "item_id": n,
                    "level": ("city", "province", "national")[n % 3],
                    "publication": "",
                    "on": min(date(YEAR, 12, 31), when.date() + timedelta(days=7)),
                    "by": "bench",
                    "at": when,
                }
            )
    with engine.begin() as conn:
        for table, data in (
            (db.Item.__table__, rows),
            (db.Message.__table__, messages),
            (db.Author.__table__, authors),
            (db.Adoption.__table__, adoptions),
        ):
            for i in range(0, len(data), 5000):
                conn.execute(insert(table), data[i : i + 5000])
        if engine.dialect.name == "postgresql":
            for table in ("item", "message", "author", "adoption"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                )
                conn.exec_driver_sql(f"ANALYZE {table}")
    return round(time.monotonic() - started, 1)


def timed(config: Config, engine: Any, kind: str, label: str) -> dict[str, float]:
    period = parse_period(label)
    today = period.end + timedelta(days=2)
    started = time.monotonic()
    report = digests.build_report(config, engine, kind, period, today=today)
    built = time.monotonic() - started
    digest_mail.render_report(Renderer(), config, report)
    return {
        "build_s": round(built, 3),
        "total_s": round(time.monotonic() - started, 3),
        "accepted": report.totals.accepted,
    }


def run(config_path: Path, work: Path, items: int, postgres_url: str | None) -> dict[str, Any]:
    base = load_config(config_path)
    targets = {"sqlite": f"sqlite:///{work / 'reports.db'}"}
    if postgres_url:
        targets["postgresql"] = postgres_url
    out: dict[str, Any] = {"items": items}
    for name, url in targets.items():
        config = replace(base, database=DatabaseConfig(url=url))
        engine = db.make_engine(url)
        registry_store.sync_units(engine, config.units)
        out[name] = {
            "seed_s": seed(engine, items),
            "monthly": timed(config, engine, "monthly", f"{YEAR}-11"),
            "yearly": timed(config, engine, "yearly", str(YEAR)),
        }
        engine.dispose()
    return out
