#!/usr/bin/env python3
"""Memory over one large message: `mailbot poll --once` on a private Dovecot holding only the bench's
28.3 MB message (a docx and as many camera photos as fit), sampled every 20 ms.

Figures: VmHWM of the daemon and of each child (the analysis worker, multiprocessing's resource
tracker), and the peak of the whole tree's RSS summed at the same instant, which is what the host
has to give mailbot at once. RSS does not depend on the machine's load, so this can run beside other
work. `--repeat N` runs it N times; `--code DIR` measures another checkout (PYTHONPATH) with this
bench, for a before/after on the same corpus.

    .venv/bin/python bench/one_message.py [--repeat 2] [--code ../other-checkout]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(REPO), str(BENCH)]

from corpus import Corpus  # noqa: E402
from run import CACHE, RESULTS, git_info, mailbot_env, senders_from_config, write_config  # noqa: E402
from soak import TreeRss, _descendants  # noqa: E402

from tests.servers import DovecotServer, SmtpSink  # noqa: E402


def vm_hwm_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


def once(raw: bytes, code: Path) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="mailbot-one-"))
    with DovecotServer() as dovecot, SmtpSink() as smtp:
        config = write_config(work, dovecot, smtp)
        dovecot.append(raw)
        env = mailbot_env(dovecot) | {"PYTHONPATH": str(code)}
        cmd = [sys.executable, "-m", "mailbot", "--config", str(config), "poll", "--once"]
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
        tree = TreeRss(proc.pid, interval=0.02)
        tree.start()
        hwm: dict[int, float] = {}
        while proc.poll() is None:
            for pid in (proc.pid, *_descendants(proc.pid)):
                hwm[pid] = max(hwm.get(pid, 0.0), vm_hwm_mb(pid))
            time.sleep(0.02)
        tree.done.set()
        tree.join()
        out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
    verdicts = [line.split(" verdict=", 1)[1].split()[0] for line in out.splitlines() if " verdict=" in line]
    return {
        "exit": proc.returncode,
        "verdicts": verdicts,
        "daemon_hwm_mb": round(hwm.get(proc.pid, 0.0), 1),
        "children_hwm_mb": sorted((round(v, 1) for k, v in hwm.items() if k != proc.pid), reverse=True),
        "tree_peak_mb": tree.summary().get("tree_peak_mb"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=2, help="runs (default 2)")
    ap.add_argument("--code", type=Path, default=REPO, help="the checkout to measure (default: this one)")
    args = ap.parse_args()
    if args.repeat < 1 or not (args.code / "mailbot" / "__init__.py").exists():
        ap.error("--repeat must be at least 1 and --code a mailbot checkout")
    corpus = Corpus(CACHE, senders_from_config())
    corpus.ensure(0, print)
    raw = corpus.big30_path.read_bytes()
    load = round(os.getloadavg()[0], 2)
    runs = [once(raw, args.code.resolve()) for _ in range(args.repeat)]
    for n, r in enumerate(runs, 1):
        print(
            f"run {n}: verdicts {r['verdicts']} daemon {r['daemon_hwm_mb']} MB, children {r['children_hwm_mb']} MB,"
            f" tree peak {r['tree_peak_mb']} MB"
        )
    code_sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=args.code, capture_output=True, text=True)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "bench": git_info(),
        "measured_code": {"path": str(args.code), "sha": code_sha.stdout.strip()},
        "message_mb": round(len(raw) / 1e6, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_1m": load},
        "runs": runs,
        "tree_peak_mb": max(r["tree_peak_mb"] or 0 for r in runs),
        "daemon_hwm_mb": max(r["daemon_hwm_mb"] for r in runs),
    }
    target = RESULTS / f"{date.today().isoformat()}-{code_sha.stdout.strip() or 'nogit'}-one-message.json"
    target.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"-> {target.relative_to(REPO)}")
    return 0 if all(r["exit"] == 0 and r["verdicts"] for r in runs) else 1


if __name__ == "__main__":
    raise SystemExit(main())
