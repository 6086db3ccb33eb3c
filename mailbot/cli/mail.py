"""`mailbot poll|run|demo`: the mail itself — one pass, the daemon, and the local demonstration."""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
from dataclasses import replace
from pathlib import Path
from typing import Any

from mailbot.bootstrap import build
from mailbot.cli.args import print_table
from mailbot.config import DatabaseConfig, MailboxConfig, SmtpConfig, StorageConfig, load_config
from mailbot.daemon import TRANSIENT
from mailbot.leader import Leadership
from mailbot.passes import poll_once
from mailbot.worker import Analyser

log = logging.getLogger("mailbot")
EX_TEMPFAIL = 75
DEMO_MARKER = ".mailbot-demo"


def cmd_poll(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    leadership = Leadership(app.engine, app.source.key, app.config.storage_dir())
    if not leadership.try_acquire():
        log.error("another mailbot process is serving this mailbox; nothing done")
        return EX_TEMPFAIL
    analyser = Analyser(app.desk.limits, app.config.limits.worker_memory_mb, app.config.limits.worker_cpu_seconds)
    try:
        report = poll_once(app.source, app.desk, app.transport, analyser)
    except TRANSIENT as exc:
        log.error(
            "poll stopped: %s: %s; unprocessed mail stays in the mailbox for the next run", type(exc).__name__, exc
        )
        return 1
    finally:
        analyser.close()
        leadership.release()
    log.info("poll finished: %d message(s) processed, %d reply(ies) sent", len(report.outcomes), report.sent)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from mailbot import schedule
    from mailbot.daemon import Daemon

    app = build(load_config(args.config))
    daemon = Daemon(app, schedule.start)

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: finishing the message in hand, then stopping", signal.Signals(signum).name)
        daemon.stop.set()
        daemon.mail_arrived.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if app.config.web.enabled:  # the office's register beside the daemon, in the same process
        from mailbot.web import serve

        web = serve.start_in_background(app, daemon.mail_arrived.set)
        try:
            return daemon.run()
        finally:
            serve.stop(web)
    return daemon.run()


def prepare_demo_dir(out: Path) -> str | None:
    """Recreate `out` only if the demo made it (its marker file is inside); an empty or missing
    folder is fine. Anything else is a user's folder and is never touched: returns why."""
    if out.exists():
        if not out.is_dir():
            return f"{out} 已存在且不是文件夹，演示不会覆盖它。请用 --dir 指定另一个位置。"
        if (out / DEMO_MARKER).is_file():
            shutil.rmtree(out)
        elif any(out.iterdir()):
            return (
                f"{out} 不是演示创建的文件夹（里面已有别的文件），演示不会删除或改动它。"
                "请用 --dir 指定一个新的或空的文件夹。"
            )
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text("made by `mailbot demo`; the demo recreates this folder on its next run\n")
    return None


def cmd_demo(args: argparse.Namespace) -> int:
    from mailbot.adapters.maildir import MaildirSource
    from mailbot.samples.corpus import week_of_mail

    base = load_config(args.config)
    out: Path = args.dir.resolve()
    refused = prepare_demo_dir(out)
    if refused:
        print(f"mailbot demo: {refused}")
        return 2
    config = replace(
        base,
        mailbox=MailboxConfig(
            kind="maildir",
            path=str(out / "inbox"),
            processed_folder="processed",
            rejected_folder="rejected",
            held_folder="held",
        ),
        smtp=SmtpConfig(
            kind="directory",
            directory=str(out / "outbox"),
            from_address=base.smtp.from_address,
            from_name=base.smtp.from_name,
        ),
        database=DatabaseConfig(url=f"sqlite:///{out / 'mailbot.db'}"),
        storage=StorageConfig(dir=str(out / "storage")),
    )
    samples = week_of_mail(config.units)
    inbox = MaildirSource(out / "inbox")
    inbox.open()
    keys = [inbox._inbox().add(s.raw) for s in samples]  # noqa: SLF001 - seeding our own demo inbox
    inbox.close()
    app = build(config)
    report = poll_once(app.source, app.desk, app.transport)
    outcomes = dict(report.outcomes)
    rows = [("#", "样例", "期望", "结果", "编号", "原因/提示")]
    matched = 0
    for i, (key, sample) in enumerate(zip(keys, samples, strict=True), 1):
        got = outcomes[key]
        matched += got.verdict == sample.verdict
        rows.append(
            (str(i), sample.label, sample.verdict, got.verdict, got.item_number or "-", ",".join(got.reasons) or "-")
        )
    print_table(rows, (3, 34, 10, 10, 10, 60))
    print(
        f"\n{len(samples)} messages, {matched} verdicts as expected, {report.sent} emails written to {out / 'outbox'}"
    )
    print(f"database: {out / 'mailbot.db'}   raw messages: {out / 'storage'}")
    return 0 if matched == len(samples) else 1


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    poll = sub.add_parser("poll", help="one ingest pass: fetch, process, reply")
    poll.add_argument("--once", action="store_true", required=True, help="run one pass and exit")
    poll.set_defaults(func=cmd_poll)
    sub.add_parser("run", help="the daemon: IDLE/poll, reply, run scheduled jobs").set_defaults(func=cmd_run)
    demo = sub.add_parser("demo", help="process a sample week of mail locally, no server needed")
    demo.add_argument(
        "--dir",
        type=Path,
        default=Path("demo-output"),
        help="where the demo writes (a new or empty folder, or one an earlier demo made)",
    )
    demo.set_defaults(func=cmd_demo)
