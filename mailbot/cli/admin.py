"""`mailbot units|db|purge`: the registry of liaisons, database maintenance and retention."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mailbot.bootstrap import build
from mailbot.cli.args import date_arg, print_table, progress
from mailbot.config import load_config


def cmd_units_list(args: argparse.Namespace) -> int:
    from mailbot.adapters.registry_store import registry_rows

    app = build(load_config(args.config))
    rows: list[tuple[str, ...]] = [("单位（科室）", "类别", "宣传员", "邮箱", "电话", "微信号", "状态", "收录")]
    rows += registry_rows(app.engine)
    print_table(rows, (26, 8, 8, 30, 14, 12, 6, 6))
    return 0


def cmd_units_import(args: argparse.Namespace) -> int:
    from mailbot.adapters.registry_store import sync_units
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
    added, retired = sync_units(app.engine, result.units, source="import", kinds=result.has_kinds)
    people = sum(len(u.liaisons) for u in result.units)
    print(f"已导入 {len(result.units)} 个单位、{people} 名宣传员（新增 {added}，停用 {retired}）。")
    return 0


def cmd_units_export(args: argparse.Namespace) -> int:
    from mailbot.adapters.registry_store import EXPORT_HEADERS, registry_export
    from mailbot.adapters.workbook import table_xlsx

    app = build(load_config(args.config))
    rows = registry_export(app.engine)
    args.file.write_bytes(table_xlsx("信息宣传员登记表", "信息宣传员登记表", EXPORT_HEADERS, rows))
    waiting = sum(1 for r in rows if not r[4])
    note = f"，其中 {waiting} 名尚无邮箱（首次来信时由办公室确认）" if waiting else ""
    print(f"已导出 {len(rows)} 名在用的宣传员到 {args.file}{note}。")
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

    def report(table: str, done: int, total: int) -> None:
        step = max(1, total // 20)
        if done == total or done - shown.get(table, 0) >= step:
            shown[table] = done
            progress(f"  {table}: {done}/{total}")

    try:
        counts = copy_database(source, target, report)
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
    from mailbot.schedule import local_today

    app = build(load_config(args.config))
    limit = earliest_allowed(local_today(app))
    if args.before > limit and not args.force:
        print(
            f"refused: records must be kept at least {KEEP_YEARS} years; the latest date allowed is "
            f"{limit.isoformat()} (use --force to purge anyway)"
        )
        return 2

    def report(done: int, total: int) -> None:
        if done == total or done % 500 == 0:
            progress(f"  {done}/{total} messages")

    result = purge(
        app.engine,
        Storage(app.config.storage_dir()),
        args.before,
        app.config.timezone,
        dry_run=args.dry_run,
        progress=report,
    )
    verb = "would delete" if args.dry_run else "deleted"
    print(
        f"{verb} the files of {result.messages} message(s) received before {args.before.isoformat()}: "
        f"{result.files} file(s), {result.bytes / 1048576:.1f} MB; their records are kept"
    )
    return 0


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    units = sub.add_parser("units", help="单位和信息宣传员登记（附件4）")
    units_sub = units.add_subparsers(dest="units_command", required=True, parser_class=parser_class)
    units_sub.add_parser("list", help="每个单位及其宣传员").set_defaults(func=cmd_units_list)
    imp = units_sub.add_parser("import", help="导入附件4登记表（.xlsx 或 .csv）")
    imp.add_argument("file", type=Path)
    imp.add_argument("--force", action="store_true", help="有问题的行跳过，其余照常导入")
    imp.set_defaults(func=cmd_units_import)
    exp = units_sub.add_parser("export", help="导出登记表（附件4的列加邮箱，.xlsx，可再导入）")
    exp.add_argument("file", type=Path)
    exp.set_defaults(func=cmd_units_export)
    dbp = sub.add_parser("db", help="database maintenance")
    db_sub = dbp.add_subparsers(dest="db_command", required=True, parser_class=parser_class)
    db_sub.add_parser("upgrade", help="migrate the schema to this version (also done at start-up)").set_defaults(
        func=cmd_db_upgrade
    )
    copy = db_sub.add_parser("copy", help="copy every record into another (empty) database, e.g. PostgreSQL")
    copy.add_argument("--to", required=True, help="target URL, e.g. postgresql+psycopg://mailbot@host/mailbot")
    copy.set_defaults(func=cmd_db_copy)
    purge = sub.add_parser("purge", help="delete raw messages and files received before a date (records stay)")
    purge.add_argument("--before", required=True, type=date_arg, help="YYYY-MM-DD")
    purge.add_argument("--dry-run", action="store_true", help="count what would be deleted")
    purge.add_argument("--force", action="store_true", help="allow a date less than three years ago")
    purge.set_defaults(func=cmd_purge)
