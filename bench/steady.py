"""A long steady run of `mailbot run`: does the process tree stay small and flat for months?

The corpus's first N messages (default 600, the big ones among them, as they come) are APPENDed one
every 1.5 s, whether or not the previous one was answered, while the RSS of the daemon and its worker
is sampled every 0.5 s. Written to bench/results/<date>-<sha>-steady.json: the tree's peak, its level
minute by minute, its trend per 100 messages over the second half, and how many messages were answered.

    .venv/bin/python bench/steady.py [--messages 600] [--every 1.5]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from corpus import Corpus  # noqa: E402
from run import (  # noqa: E402
    CACHE,
    RESULTS,
    LogStamps,
    git_info,
    reset_mailbox,
    say,
    senders_from_config,
    start_daemon,
    stop_children,
    wait_running,
    write_config,
)
from soak import TreeRss  # noqa: E402

from tests.servers import DovecotServer, SmtpSink  # noqa: E402


def steady(messages: int, every: float) -> dict[str, Any]:
    corpus = Corpus(CACHE, senders_from_config())
    corpus.ensure(messages, say)
    work = Path(tempfile.mkdtemp(prefix="mailbot-bench-steady-"))
    dovecot, smtp = DovecotServer(), SmtpSink()
    dovecot.start()
    smtp.start()
    try:
        config = write_config(work, dovecot, smtp)
        reset_mailbox(dovecot)
        proc, log_path = start_daemon(config, dovecot)
        stamps = LogStamps(log_path)
        stamps.start()
        wait_running(proc, log_path)
        time.sleep(2.0)  # the worker warmed up, the daemon in IDLE
        tree = TreeRss(proc.pid, interval=0.5)
        tree.start()
        say(f"steady: {messages} messages, one every {every} s")
        started = time.monotonic()
        with dovecot.connect(timeout=120) as client:
            for n in range(messages):
                due = started + n * every
                time.sleep(max(0.0, due - time.monotonic()))
                client.append("INBOX", corpus.path(n).read_bytes())
                if (n + 1) % 100 == 0:
                    now = tree.points[-1][2] if tree.points else 0.0
                    say(f"  {n + 1}/{messages} appended, {len(stamps.verdicts)} answered, tree {now:.0f} MB")
        deadline = time.monotonic() + 300
        while len(stamps.verdicts) < messages and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
        busy = time.monotonic() - started
        time.sleep(5.0)  # idle: what the tree settles at
        tree.done.set()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        stamps.done.set()
        return {"messages": messages, "every_s": every, "answered": len(stamps.verdicts), "busy_s": round(busy, 1)} | (
            _shape(tree.points, started - tree.started, messages, every)
        )
    finally:
        stop_children()
        smtp.stop()
        dovecot.close()


def _shape(points: list[tuple[float, float, float]], offset: float, messages: int, every: float) -> dict[str, Any]:
    """The tree's peak, its median minute by minute, and its trend over the second half in MB per 100
    messages (least squares on the samples; a leak shows as a steady climb, a plateau as ~0)."""
    trees = [(t - offset, tree) for t, _main, tree in points]
    minutes: dict[int, list[float]] = {}
    for t, tree in trees:
        minutes.setdefault(max(0, int(t // 60)), []).append(tree)
    half = [(t, tree) for t, tree in trees if messages * every / 2 <= t <= messages * every]
    slope = statistics.linear_regression([t for t, _ in half], [v for _, v in half]).slope if len(half) > 2 else 0.0
    return {
        "tree_start_mb": round(trees[0][1], 1),
        "tree_peak_mb": round(max(v for _, v in trees), 1),
        "tree_end_idle_mb": round(trees[-1][1], 1),
        "daemon_end_mb": round(points[-1][1], 1),
        "tree_median_by_minute_mb": [round(statistics.median(v), 1) for _m, v in sorted(minutes.items())],
        "trend_second_half_mb_per_100_messages": round(slope * every * 100, 2),
        "timeline": [[round(t, 1), round(m, 1), round(tree, 1)] for t, m, tree in points[::4]],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=600)
    ap.add_argument("--every", type=float, default=1.5, help="seconds between APPENDs (default 1.5)")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    result = steady(args.messages, args.every)
    git = git_info()
    result |= {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git": git,
        "machine": {"cpus": os.cpu_count(), "load_1m_before": round(load, 2), "load_1m_after": os.getloadavg()[0]},
    }
    name = RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-{git['sha']}-steady.json"
    name.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n")
    shown = {k: v for k, v in result.items() if k != "timeline"}
    print(json.dumps(shown, ensure_ascii=False, indent=1))
    say(f"saved {name.relative_to(BENCH.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
