"""The `mailbot` command: parses arguments and calls the service; nothing else lives here."""

from __future__ import annotations

import argparse
import getpass
import logging
import shutil
import signal
import sys
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

from sqlmodel import Session

from mailbot import office
from mailbot.bootstrap import App, build
from mailbot.config import (
    ConfigError,
    DatabaseConfig,
    MailboxConfig,
    SmtpConfig,
    StorageConfig,
    default_path,
    load_config,
)
from mailbot.daemon import TRANSIENT
from mailbot.domain.calendar import parse_period
from mailbot.leader import Leadership
from mailbot.passes import poll_once
from mailbot.ports import ConnectionFailure
from mailbot.schedule import local_today
from mailbot.worker import Analyser

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
    leadership = Leadership(app.engine, app.source.key, app.config.storage_dir())
    if not leadership.try_acquire():
        log.error("another mailbot process is serving this mailbox; nothing done")
        return EX_TEMPFAIL
    analyser = Analyser(app.desk.limits)
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
    return daemon.run()


def cmd_remind(args: argparse.Namespace) -> int:
    from mailbot import reminders

    app = build(load_config(args.config))
    day = args.date or local_today(app)
    plans = reminders.plan(app.config, app.engine, day, scheduled=False)
    if args.dry_run:
        for p in plans:
            gaps = "; ".join(f"{g.period.label}: {g.submitted}/{g.due}" for g in p.gaps)
            print(f"{p.unit}  ->  {', '.join(p.recipients)}  ({gaps})")
        print(f"{len(plans)} reminder(s) would be sent for {day.isoformat()} (dry run: nothing sent or recorded)")
        return 0
    queued = reminders.send(app.config, app.engine, app.desk.renderer, plans)
    try:
        sent = app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; reminders stay queued for the daemon: %s", exc)
        sent = 0
    print(f"{queued} reminder(s) queued for {day.isoformat()}, {sent} email(s) sent")
    return 0


def cmd_units_list(args: argparse.Namespace) -> int:
    from mailbot.adapters.db import registry_rows

    app = build(load_config(args.config))
    rows = [("单位（科室）", "类别", "宣传员", "邮箱", "电话", "微信号", "状态", "收录")]
    rows += registry_rows(app.engine)
    print_table(rows, (26, 8, 8, 30, 14, 12, 6, 6))
    return 0


def cmd_units_import(args: argparse.Namespace) -> int:
    from mailbot.adapters.db import sync_units
    from mailbot.adapters.spreadsheet import SpreadsheetError, read_rows
    from mailbot.domain.registry import parse_registry

    app = build(load_config(args.config))
    try:
        result = parse_registry(read_rows(args.file))
    except SpreadsheetError as exc:
        print(f"无法读取 {args.file}：{exc}")
        return 1
    for problem in result.problems:
        print(problem.message)
    if result.problems and not args.force:
        print(
            f"发现 {len(result.problems)} 处问题，未导入任何内容。请修改表格后重新导入，或加 --force 跳过有问题的行。"
        )
        return 1
    added, retired = sync_units(app.engine, result.units, source="import")
    people = sum(len(u.liaisons) for u in result.units)
    print(f"已导入 {len(result.units)} 个单位、{people} 名宣传员（新增 {added}，停用 {retired}）。")
    return 0


def _actor(args: argparse.Namespace) -> str:
    return args.by or f"cli:{getpass.getuser()}"


def _office_action(args: argparse.Namespace, action: Callable[[Session, App], office.Done]) -> int:
    app = build(load_config(args.config))
    with Session(app.engine) as session:
        try:
            done = action(session, app)
        except office.OfficeError as exc:
            print(f"未执行：{exc}")
            return 1
        session.commit()
    if done.notify and done.item_id is not None:
        app.desk.notify_unit(done.item_id, done.notify)
        try:
            app.desk.drain_outbox(app.transport)
        except ConnectionFailure as exc:
            log.warning("SMTP unreachable; the notice to the unit stays queued: %s", exc)
    print(done.summary)
    return 0


def cmd_items(args: argparse.Namespace) -> int:
    from mailbot.queries import list_items

    app = build(load_config(args.config))
    rows = list_items(
        app.engine,
        app.config.timezone,
        unit=args.unit,
        status=args.status,
        search=args.search,
        period=parse_period(args.period) if args.period else None,
    )
    table = [("编号", "收到时间", "单位", "标题", "状态", "报送分", "采用")]
    table += [(r.number, r.received, r.unit, r.title, r.status, r.points, r.adopted) for r in rows]
    print_table(table, (10, 16, 20, 44, 8, 6, 12))
    print(f"共 {len(rows)} 条")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from mailbot.queries import item_detail

    app = build(load_config(args.config))
    lines = item_detail(app.engine, args.item, app.config.timezone)
    if not lines:
        print(f"没有编号为 {args.item} 的信息。")
        return 1
    for label, value in lines:
        print(f"{_cell(label, 10)}{value}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    decision = {"approve": "approved", "return": "returned"}[args.decision]
    return _office_action(args, lambda s, app: office.review(s, args.item, decision, args.reason or "", _actor(args)))


def cmd_adopt(args: argparse.Namespace) -> int:
    return _office_action(
        args,
        lambda s, app: office.adopt(
            s, args.item, args.level, args.publication, args.date or local_today(app), _actor(args)
        ),
    )


def cmd_grade(args: argparse.Namespace) -> int:
    return _office_action(args, lambda s, app: office.grade(s, args.item, args.grade, _actor(args)))


def cmd_deduct(args: argparse.Namespace) -> int:
    return _office_action(
        args,
        lambda s, app: office.deduct(
            s, args.unit, args.points, args.reason, args.date or local_today(app), _actor(args), args.person or ""
        ),
    )


def cmd_solicitations(args: argparse.Namespace) -> int:
    from mailbot.queries import solicitations

    app = build(load_config(args.config))
    for row in solicitations(app.engine, app.config.timezone):
        print(f"《{row.topic}》 截止 {row.deadline}")
        print(f"  按时报送：{'；'.join(row.answered) or '无'}")
        print(f"  逾期报送（计 0 分）：{'；'.join(row.late) or '无'}")
        print(f"  未报送：{'、'.join(row.missing) or '无'}")
    return 0


def cmd_solicit(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    units = [u.strip() for u in (args.units or "").split(",") if u.strip()]
    with Session(app.engine) as session:
        try:
            row = office.solicit(session, args.topic, args.deadline, units, _actor(args))
        except office.OfficeError as exc:
            print(f"未执行：{exc}")
            return 1
        session.commit()
        print(
            f"约稿 #{row.id}《{row.topic}》已登记，截止 {row.deadline}，"
            f"{'、'.join(units) if units else '全部单位'}。报送时请在邮件主题中写“【约稿】{row.topic}”。"
        )
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from mailbot import digests

    app = build(load_config(args.config))
    if args.period:
        period = parse_period(args.period)
        if period.kind != digests.PERIOD_KIND[args.kind]:
            print(
                f"--period {args.period} is not a {digests.PERIOD_KIND[args.kind]} (e.g. "
                f"{digests.last_complete(args.kind, local_today(app)).label})"
            )
            return 2
    else:
        period = digests.last_complete(args.kind, local_today(app))
    print(f"building {args.kind} digest for {period.label} ...", file=sys.stderr)
    if args.together:
        desks = []
        for path in [args.config or default_path(), *args.together]:
            other = build(load_config(path))
            desks.append(
                (other.config.office.name, digests.build_report(other.config, other.engine, args.kind, period))
            )
        report = digests.combine(desks, args.kind, period, app.config.office.name)
        rendered = digests.render_report(app.desk.renderer, app.config, report)
    else:
        rendered = digests.render(app.config, app.engine, app.desk.renderer, args.kind, period)
    if args.out:
        for path in digests.write_files(rendered, args.out):
            print(path)
        return 0
    if args.dry_run:
        print(f"Subject: {rendered.subject}\nTo: {', '.join(app.config.office.recipients)}\n")
        print(rendered.text)
        return 0
    if digests.enqueue(app.config, app.engine, rendered, again=True) is None:
        return 1
    try:
        app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; the digest stays queued for the daemon: %s", exc)
    print(f"{rendered.report.title} sent to {', '.join(app.config.office.recipients)}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from mailbot.adapters import schema
    from mailbot.adapters.db import make_engine

    config = load_config(args.config)
    engine = make_engine(config.database_url(), schema=config.database.schema, migrate=False)
    before = schema.current(engine)
    schema.upgrade(engine)
    print(f"database schema: {before or 'empty'} -> {schema.current(engine)} (head {schema.head()})")
    return 0


def cmd_db_copy(args: argparse.Namespace) -> int:
    from mailbot.adapters.copy import CopyError, copy_database
    from mailbot.adapters.db import make_engine

    config = load_config(args.config)
    source = make_engine(config.database_url(), schema=config.database.schema)
    target = make_engine(args.to)
    shown: dict[str, int] = {}

    def progress(table: str, done: int, total: int) -> None:
        step = max(1, total // 20)
        if done == total or done - shown.get(table, 0) >= step:
            shown[table] = done
            print(f"  {table}: {done}/{total}", file=sys.stderr)

    try:
        counts = copy_database(source, target, progress)
    except CopyError as exc:
        print(f"copy failed: {exc}")
        return 1
    print(
        f"copied {sum(counts.values())} rows in {len(counts)} tables to "
        f"{target.url.render_as_string(hide_password=True)}; point [database] url at it and restart mailbot"
    )
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from mailbot.adapters.storage import Storage
    from mailbot.retention import KEEP_YEARS, earliest_allowed, purge

    app = build(load_config(args.config))
    limit = earliest_allowed(local_today(app))
    if args.before > limit and not args.force:
        print(
            f"refused: records must be kept at least {KEEP_YEARS} years; the latest date allowed is "
            f"{limit.isoformat()} (use --force to purge anyway)"
        )
        return 2

    def progress(done: int, total: int) -> None:
        if done == total or done % 500 == 0:
            print(f"  {done}/{total} messages", file=sys.stderr)

    result = purge(
        app.engine,
        Storage(app.config.storage_dir()),
        args.before,
        app.config.timezone,
        dry_run=args.dry_run,
        progress=progress,
    )
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} the files of {result.messages} message(s) received before {args.before.isoformat()}: "
        f"{result.files} file(s), {result.bytes / 1048576:.1f} MB; their records are kept"
    )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config: FAILED: {exc}")
        return 1
    print(f"config: ok ({len(config.units)} units, {sum(len(u.liaisons) for u in config.units)} liaisons)")
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
    for warning in _registry_warnings(app):
        print(f"warning: {warning}")
    return 1 if failures else 0


def _registry_warnings(app: App) -> list[str]:
    """What the office should fix in config.toml, though mailbot runs without it."""
    from mailbot.duties import Duties
    from mailbot.reminders import work_calendar

    calendar = work_calendar(app.config)
    warnings = []
    with Session(app.engine) as s:
        for column, names in Duties(s, app.config, calendar).unresolved.items():
            warnings.append(f"column {column}: responsible unit(s) {'、'.join(names)} match no [[units]] name or alias")
    today = local_today(app)
    if not calendar.knows(today.replace(month=12, day=31)):
        warnings.append(
            f"the holiday calendar does not know {today.year}'s official holidays: weekdays are used; "
            "add them under [calendar] holidays / workdays"
        )
    return warnings


def cmd_demo(args: argparse.Namespace) -> int:
    from mailbot.adapters.maildir import MaildirSource
    from mailbot.samples.corpus import week_of_mail

    base = load_config(args.config)
    out: Path = args.dir.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
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


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description="Government-information submission desk over email.")
    p.add_argument("--config", type=Path, default=None, help="config file (default: $MAILBOT_CONFIG, ./config.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)
    poll = sub.add_parser("poll", help="one ingest pass: fetch, process, reply")
    poll.add_argument("--once", action="store_true", required=True, help="run one pass and exit")
    poll.set_defaults(func=cmd_poll)
    sub.add_parser("run", help="the daemon: IDLE/poll, reply, run scheduled jobs").set_defaults(func=cmd_run)
    remind = sub.add_parser("remind", help="send the quota reminders due for a date's week (and month end)")
    remind.add_argument("--date", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    remind.add_argument("--dry-run", action="store_true", help="print who would be reminded; send nothing")
    remind.set_defaults(func=cmd_remind)
    units = sub.add_parser("units", help="the registry of units and liaisons (annex 4)")
    units_sub = units.add_subparsers(dest="units_command", required=True)
    units_sub.add_parser("list", help="every unit with its liaisons").set_defaults(func=cmd_units_list)
    imp = units_sub.add_parser("import", help="import an annex-4 table (.xlsx or .csv)")
    imp.add_argument("file", type=Path)
    imp.add_argument("--force", action="store_true", help="import the good rows even if some rows have problems")
    imp.set_defaults(func=cmd_units_import)
    items = sub.add_parser("items", help="list recorded items (filter by unit, period, status, title)")
    items.add_argument("--unit", help="part of a unit's name")
    items.add_argument("--period", help="2026-W48, 2026-11, 2026-Q4 or 2026")
    items.add_argument("--status", choices=("received", "approved", "returned"))
    items.add_argument("--search", help="text in the title")
    items.set_defaults(func=cmd_items)
    show = sub.add_parser("show", help="everything recorded about one item")
    show.add_argument("item", help="item number, e.g. 2026-0137")
    show.set_defaults(func=cmd_show)
    by = argparse.ArgumentParser(add_help=False)
    by.add_argument("--by", help="who takes the action (default: cli:<login name>)")
    review = sub.add_parser("review", parents=[by], help="final review (终审): approve or return an item")
    review.add_argument("item")
    review.add_argument("decision", choices=("approve", "return"))
    review.add_argument("--reason", help="required when returning")
    review.set_defaults(func=cmd_review)
    adopt = sub.add_parser("adopt", parents=[by], help="record an adoption (采用)")
    adopt.add_argument("item")
    adopt.add_argument("--level", required=True, choices=("city", "province", "national"))
    adopt.add_argument("--publication", default="", help="e.g. 《盘锦信息》第12期")
    adopt.add_argument("--date", type=date.fromisoformat, help="adoption date (default: today)")
    adopt.set_defaults(func=cmd_adopt)
    solicit = sub.add_parser("solicit", parents=[by], help="register a solicitation (约稿)")
    solicit.add_argument("topic")
    solicit.add_argument("--deadline", required=True, type=date.fromisoformat)
    solicit.add_argument("--units", help="comma-separated unit names (default: all units)")
    solicit.set_defaults(func=cmd_solicit)
    sub.add_parser("solicitations", help="each solicitation: answered in time, late, missing").set_defaults(
        func=cmd_solicitations
    )
    grade = sub.add_parser("grade", parents=[by], help="grade a solicited item 0-3")
    grade.add_argument("item")
    grade.add_argument("grade", type=int, choices=(0, 1, 2, 3))
    grade.set_defaults(func=cmd_grade)
    deduct = sub.add_parser("deduct", parents=[by], help="deduct points from a unit (扣分)")
    deduct.add_argument("unit")
    deduct.add_argument("points", type=float)
    deduct.add_argument("--reason", required=True)
    deduct.add_argument("--person")
    deduct.add_argument("--date", type=date.fromisoformat)
    deduct.set_defaults(func=cmd_deduct)
    digest = sub.add_parser("digest", help="the weekly digest or the monthly/quarterly/yearly bulletin")
    digest.add_argument("kind", choices=("weekly", "monthly", "quarterly", "yearly"))
    digest.add_argument("--period", help="2026-W48, 2026-11, 2026-Q4 or 2026 (default: the last complete one)")
    digest.add_argument("--dry-run", action="store_true", help="print the text version; send nothing")
    digest.add_argument("--out", type=Path, help="write .html, .txt, .xlsx and .png here instead of sending")
    digest.add_argument(
        "--together",
        type=Path,
        nargs="+",
        metavar="CONFIG",
        help="other bureaus' config files: one combined report, a line per bureau",
    )
    digest.set_defaults(func=cmd_digest)
    dbp = sub.add_parser("db", help="database maintenance")
    db_sub = dbp.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="migrate the schema to this version (also done at start-up)").set_defaults(
        func=cmd_db_upgrade
    )
    copy = db_sub.add_parser("copy", help="copy every record into another (empty) database, e.g. PostgreSQL")
    copy.add_argument("--to", required=True, help="target URL, e.g. postgresql+psycopg://mailbot@host/mailbot")
    copy.set_defaults(func=cmd_db_copy)
    purge = sub.add_parser("purge", help="delete raw messages and files received before a date (records stay)")
    purge.add_argument("--before", required=True, type=date.fromisoformat, help="YYYY-MM-DD")
    purge.add_argument("--dry-run", action="store_true", help="count what would be deleted")
    purge.add_argument("--force", action="store_true", help="allow a date less than three years ago")
    purge.set_defaults(func=cmd_purge)
    sub.add_parser("check", help="validate the config and log in to the mailbox and SMTP").set_defaults(func=cmd_check)
    demo = sub.add_parser("demo", help="process a sample week of mail locally, no server needed")
    demo.add_argument("--dir", type=Path, default=Path("demo-output"), help="where the demo writes (recreated)")
    demo.set_defaults(func=cmd_demo)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("imapclient", "sqlalchemy", "py7zr"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"mailbot: configuration error: {exc}", file=sys.stderr)
        return 2
