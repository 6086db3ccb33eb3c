"""Phase 5 of the benchmark: bulletins over 100,000 items, on SQLite and (when reachable) PostgreSQL.

Rows go in with bulk Core inserts (a year of a large province's traffic in seconds); the timed part
is exactly what the daemon does for a bulletin: `digests.build_report`, then rendering.

    .venv/bin/python bench/reports.py --items 100000 [--postgres URL] [--keep DIR] [--profile N]

`--keep` seeds once into DIR (SQLite) and reuses it; `--profile N` prints cProfile's N costliest calls
of each build and render. Figures go to bench/results/<date>-<short sha>-reports-<items>.json.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import platform
import pstats
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from mailbot import digest_mail, digests, rollup  # noqa: E402
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


def timed(config: Config, engine: Any, kind: str, label: str, profile: int = 0) -> dict[str, float]:
    period = parse_period(label)
    today = period.end + timedelta(days=2)
    renderer = Renderer()
    with _profiled(profile, f"build {kind} {label}"):
        started, cpu = time.monotonic(), time.process_time()
        report = digests.build_report(config, engine, kind, period, today=today)
        built, built_cpu = time.monotonic() - started, time.process_time() - cpu
    with _profiled(profile, f"render {kind} {label}"):
        rendering, cpu = time.monotonic(), time.process_time()
        digest_mail.render_report(renderer, config, report)
        rendered, rendered_cpu = time.monotonic() - rendering, time.process_time() - cpu
    # CPU seconds beside the wall clock: on a shared machine the wall clock also counts others' work.
    return {
        "build_s": round(built, 3),
        "render_s": round(rendered, 3),
        "total_s": round(built + rendered, 3),
        "build_cpu_s": round(built_cpu, 3),
        "render_cpu_s": round(rendered_cpu, 3),
        "accepted": report.totals.accepted,
        "detail_rows": len(report.details),
    }


class _profiled:
    """cProfile around a block when asked, printing the costliest calls by cumulative time."""

    def __init__(self, top: int, what: str) -> None:
        self.top, self.what = top, what
        self.profile = cProfile.Profile() if top else None

    def __enter__(self) -> None:
        if self.profile:
            self.profile.enable()

    def __exit__(self, *_exc: object) -> None:
        if self.profile:
            self.profile.disable()
            print(f"--- {self.what}")
            pstats.Stats(self.profile).sort_stats("tottime").print_stats(self.top)


def run(
    config_path: Path, work: Path, items: int, postgres_url: str | None, *, sqlite: bool = True, profile: int = 0
) -> dict[str, Any]:
    base = load_config(config_path)
    targets = {"sqlite": f"sqlite:///{work / 'reports.db'}"} if sqlite else {}
    if postgres_url:
        targets["postgresql"] = postgres_url
    out: dict[str, Any] = {"items": items}
    for name, url in targets.items():
        config = replace(base, database=DatabaseConfig(url=url))
        engine = db.make_engine(url)
        with Session(engine) as s:
            seeded = s.exec(select(db.Item.id).limit(1)).first() is not None  # type: ignore[call-overload]
        registry_store.sync_units(engine, config.units)
        seed_s = 0.0 if seeded else seed(engine, items)
        # The daemon keeps the roll-up as items arrive; the bulk insert above did not, so it is scored once
        # here (what upgrading an existing database costs the first bulletin), outside the timed builds.
        started = time.monotonic()
        scored = rollup.refresh(engine, config)
        out[name] = {
            "seed_s": seed_s,
            "rollup_rebuild": {"items": scored, "s": round(time.monotonic() - started, 2)},
            "monthly": timed(config, engine, "monthly", f"{YEAR}-11", profile),
            "yearly": timed(config, engine, "yearly", str(YEAR), profile),
        }
        engine.dispose()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--postgres", default="", help="a database URL to seed (once) and measure as well")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--keep", default="", help="directory of the seeded SQLite file, reused when present")
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[1]
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mailbot-bench-reports-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    out = run(
        root / "config.toml", work, args.items, args.postgres or None, sqlite=not args.no_sqlite, profile=args.profile
    )
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True).stdout
    dirty = subprocess.run(["git", "status", "--porcelain", "mailbot"], cwd=root, capture_output=True, text=True)
    out |= {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": {"sha": sha.strip(), "dirty": bool(dirty.stdout.strip())},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1m_at_start": round(load, 2),  # the machine is shared: read figures with it
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        },
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if not args.profile:
        name = f"{date.today().isoformat()}-{sha.strip()}-reports-{args.items}.json"
        (root / "bench" / "results" / name).write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
