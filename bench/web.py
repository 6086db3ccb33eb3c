"""How fast the office's register answers with a year of 20,000 items in SQLite.

The rows go in directly (bench/reports.py's bulk seed: items, their messages, drafters, one adoption
in twenty), plus held mail and a sent bulletin; then every main page is requested through the whole
Flask stack (sessions, CSRF check, templates) by a signed-in officer, several times each, and the
median, p95 and slowest answer are written to bench/results/<date>-web.json. Target: under 200 ms.

    .venv/bin/python bench/web.py [--items 20000] [--samples 15]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bench.reports import YEAR, seed  # noqa: E402
from mailbot import digest_mail  # noqa: E402
from mailbot.adapters import db  # noqa: E402
from mailbot.bootstrap import build  # noqa: E402
from mailbot.config import DatabaseConfig, StorageConfig, load_config  # noqa: E402
from mailbot.domain.calendar import parse_period  # noqa: E402
from mailbot.web import accounts, create_app, records  # noqa: E402

TARGET_MS = 200.0
PASSWORD = "bench password 1"


def pages(items: int) -> dict[str, str]:
    middle = items // 2
    return {
        "login": "/login",
        "register (this month)": "/",
        "register (year, unit filter)": f"/?period={YEAR}&unit=2",
        "register (year, text search)": f"/?period={YEAR}&q=信息1234",
        "register (year, page 50)": f"/?period={YEAR}&page=50",
        "item": f"/items/{YEAR}-{middle:06d}",
        "unit explained (month)": f"/units/3?period={YEAR}-11",
        "unit explained (year)": f"/units/3?period={YEAR}",
        "standings (month)": f"/units?period={YEAR}-11",
        "held mail": "/held",
        "bulletins": "/bulletins",
        "sent bulletin": "/bulletins/1",
        "solicitations": "/solicitations",
    }


def extras(engine: Any, items: int) -> None:
    """Held mail (one in a hundred messages) beside the items, as the bench corpus has it."""
    held = [
        {
            "id": items + n,
            "mailbox": "bench",
            "folder": "INBOX",
            "uidvalidity": 1,
            "uid": str(items + n),
            "message_id": f"<held{n}@bench>",
            "sha256": f"held{n:060x}",
            "size": 10_000,
            "raw_path": "",
            "sender": f"stranger{n}@example.org",
            "subject": "报送",
            "received_at": datetime(YEAR, 11, 1 + n % 28, 3, tzinfo=UTC),
            "state": "filed",
            "verdict": "held",
            "reasons": "unknown_sender",
            "problems": "",
        }
        for n in range(1, items // 100 + 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(db.Message.__table__), held)


def measure(client: Any, url: str, samples: int) -> dict[str, float]:
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        answer = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[max(0, round(0.95 * len(times)) - 1)], 1),
        "max_ms": round(times[-1], 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--samples", type=int, default=15)
    args = parser.parse_args()
    load = round(os.getloadavg()[0], 2)
    work = Path(tempfile.mkdtemp(prefix="mailbot-bench-web-"))
    base = load_config(ROOT / "config.toml")
    config = replace(
        base,
        database=DatabaseConfig(url=f"sqlite:///{work / 'web.db'}"),
        storage=StorageConfig(dir=str(work / "storage")),
    )
    app = build(config)
    seeded = seed(app.engine, args.items)
    extras(app.engine, args.items)
    period = parse_period(f"{YEAR}-11")
    rendered = digest_mail.render(config, app.engine, app.desk.renderer, "monthly", period)
    digest_mail.enqueue(config, app.engine, rendered)
    accounts.add(app.engine, "bench", "officer", PASSWORD)
    client = create_app(app).test_client()
    form = client.get("/login").get_data(as_text=True)
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed = client.post("/login", data={"csrf_token": token, "name": "bench", "password": PASSWORD})
    assert signed.status_code == 302, signed.status_code
    results = {}
    for name, url in pages(args.items).items():
        records._MEMO.clear()  # cold: the first request after the records changed builds the ledger
        started, cpu = time.perf_counter(), time.process_time()
        client.get(url)
        cold = round((time.perf_counter() - started) * 1000, 1)
        cold_cpu = round((time.process_time() - cpu) * 1000, 1)  # the wall clock counts others' work too
        results[name] = measure(client, url, args.samples) | {"cold_ms": cold, "cold_cpu_ms": cold_cpu, "url": url}
        r = results[name]
        print(
            f"{name:<32}{r['median_ms']:>8.1f} ms median {r['p95_ms']:>8.1f} ms p95 {cold:>8.1f} ms cold"
            f" ({cold_cpu:.1f} ms CPU)"
        )
    slowest = max(r["p95_ms"] for r in results.values())
    slowest_cold = max(r["cold_ms"] for r in results.values())
    out = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "items": args.items,
        "year": YEAR,
        "samples": args.samples,
        "seed_s": seeded,
        "database": "sqlite",
        "today": date.today().isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_at_start": load,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # the machine is shared: read figures with it
        },
        "target_ms": TARGET_MS,
        "slowest_p95_ms": slowest,
        "within_target": slowest < TARGET_MS,
        "slowest_cold_ms": slowest_cold,
        "cold_note": "cold = first request after the rows changed: pages with points rebuild the bulletin's ledger",
        "pages": results,
    }
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    target = ROOT / "bench" / "results" / f"{date.today().isoformat()}-{sha.strip()}-web.json"
    target.write_text(json.dumps(out, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"slowest p95 {slowest} ms (target {TARGET_MS:.0f} ms) -> {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
