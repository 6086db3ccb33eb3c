"""The `mailbot` command: parses arguments and calls the service; nothing else lives here."""

from __future__ import annotations

import argparse
import logging
import shutil
import signal
import sys
import unicodedata
from dataclasses import replace
from pathlib import Path

from mailbot.bootstrap import build
from mailbot.config import ConfigError, MailboxConfig, SmtpConfig, DatabaseConfig, StorageConfig, load_config
from mailbot.lock import Busy, exclusive
from mailbot.service import poll_once

log = logging.getLogger("mailbot")
EX_TEMPFAIL = 75


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cell(text: str, width: int) -> str:
    out = ""
    for ch in text:
        if _width(out + ch) > width:
            return out[:-1] + "…" + " " * (width - _width(out[:-1]) - 1)
        out += ch
    return out + " " * (width - _width(out))


def print_table(rows: list[tuple[str, ...]], widths: tuple[int, ...]) -> None:
    for row in rows:
        print("  ".join(_cell(value, w) for value, w in zip(row, widths, strict=True)).rstrip())


def cmd_poll(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    try:
        with exclusive(app.config.storage_dir() / "poll.lock"):
            report = poll_once(app.source, app.desk, app.transport)
    except Busy:
        log.error("another mailbot process is polling this mailbox; nothing done")
        return EX_TEMPFAIL
    log.info("poll finished: %d message(s) processed, %d reply(ies) sent", len(report.outcomes), report.sent)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from mailbot.daemon import Daemon

    app = build(load_config(args.config))
    daemon = Daemon(app)

    def stop(signum: int, _frame: object) -> None:
        log.info("received %s: finishing the message in hand, then stopping", signal.Signals(signum).name)
        daemon.stop.set()
        daemon.mail_arrived.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        with exclusive(app.config.storage_dir() / "poll.lock"):
            return daemon.run()
    except Busy:
        log.error("another mailbot process is already serving this mailbox")
        return EX_TEMPFAIL


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config: FAILED: {exc}")
        return 1
    print(f"config: ok ({len(config.units)} units, "
          f"{sum(len(u.liaisons) for u in config.units)} liaisons)")
    app = build(config)
    failures = 0
    for name, probe in (("mailbox", app.source), ("smtp", app.transport)):
        try:
            probe.check()  # type: ignore[attr-defined]
            print(f"{name}: ok")
        except Exception as exc:  # the operator needs the reason, whatever layer raised it
            failures += 1
            print(f"{name}: FAILED: {type(exc).__name__}: {exc}")
    print(f"database: ok ({app.engine.url.render_as_string(hide_password=True)})")
    return 1 if failures else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mailbot.samples.corpus import week_of_mail
    from mailbot.adapters.maildir import MaildirSource

    base = load_config(args.config)
    out: Path = args.dir.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    config = replace(
        base,
        mailbox=MailboxConfig(kind="maildir", path=str(out / "inbox"), processed_folder="processed",
                              rejected_folder="rejected", held_folder="held"),
        smtp=SmtpConfig(kind="directory", directory=str(out / "outbox"), from_address=base.smtp.from_address,
                        from_name=base.smtp.from_name),
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
        rows.append((str(i), sample.label, sample.verdict, got.verdict, got.item_number or "-",
                     ",".join(got.reasons) or "-"))
    print_table(rows, (3, 34, 10, 10, 10, 60))
    print(f"\n{len(samples)} messages, {matched} verdicts as expected, {report.sent} emails written to "
          f"{out / 'outbox'}")
    print(f"database: {out / 'mailbot.db'}   raw messages: {out / 'storage'}")
    return 0 if matched == len(samples) else 1


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description="Government-information submission desk over email.")
    p.add_argument("--config", type=Path, default=None, help="config file (default: $MAILBOT_CONFIG, ./config.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    poll = sub.add_parser("poll", help="one ingest pass: fetch, process, reply")
    poll.add_argument("--once", action="store_true", required=True, help="run one pass and exit")
    poll.set_defaults(func=cmd_poll)
    sub.add_parser("run", help="the daemon: IDLE/poll, reply, run scheduled jobs").set_defaults(func=cmd_run)
    sub.add_parser("check", help="validate the config and log in to the mailbox and SMTP").set_defaults(func=cmd_check)
    demo = sub.add_parser("demo", help="process a sample week of mail locally, no server needed")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"), help="where the demo writes (recreated)")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("imapclient", "sqlalchemy", "py7zr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"mailbot: configuration error: {exc}", file=sys.stderr)
        return 2
