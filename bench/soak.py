"""The memory of `mailbot run` over time: the whole process tree (the daemon and its analysis
worker), not only the daemon's own peak.

A long-running daemon that keeps the high-water mark of its largest message is a leak in all but
name. During the latency phase a sampler records the tree's RSS every 0.25 s; after the latency
samples, a soak appends the 28-30 MB message and a few ordinary ones, round after round, and then
leaves the daemon idle for a few seconds, so the JSON shows whether the tree comes back down.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc/<pid>/task/<tid>/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        try:
            tasks = list(Path(f"/proc/{current}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            todo += children
    return found


class TreeRss(threading.Thread):
    """RSS of a process and of its descendants, sampled every `interval` seconds."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.done = pid, interval, threading.Event()
        self.started = time.monotonic()
        self.points: list[tuple[float, float, float]] = []  # (seconds, main MB, tree MB)

    def run(self) -> None:
        while not self.done.is_set():
            main = _rss_kb(self.pid)
            tree = main + sum(_rss_kb(child) for child in _descendants(self.pid))
            if main:
                self.points.append((round(time.monotonic() - self.started, 2), main / 1024, tree / 1024))
            self.done.wait(self.interval)

    def summary(self) -> dict[str, Any]:
        if not self.points:
            return {}
        trees = [tree for _t, _m, tree in self.points]
        return {
            "tree_peak_mb": round(max(trees), 1),
            "tree_end_mb": round(trees[-1], 1),
            "main_end_mb": round(self.points[-1][1], 1),
            "timeline": [[t, round(m, 1), round(tree, 1)] for t, m, tree in self.points],
        }


def soak(
    append: Callable[[bytes], None],
    verdicts: Callable[[], int],
    big: bytes,
    ordinary: list[bytes],
    rounds: int,
    idle_s: float = 4.0,
) -> dict[str, Any]:
    """`rounds` times: the big message, then the ordinary ones, each APPENDed once the previous one
    has its verdict in the log; then `idle_s` of nothing, for the tree to settle."""
    started, handled = time.monotonic(), 0
    for _ in range(rounds):
        for raw in (big, *ordinary):
            before = verdicts()
            append(raw)
            deadline = time.monotonic() + 120
            while verdicts() <= before and time.monotonic() < deadline:
                time.sleep(0.05)
            handled += 1
    busy = time.monotonic() - started
    time.sleep(idle_s)
    return {"rounds": rounds, "messages": handled, "busy_s": round(busy, 1), "idle_s": idle_s}
