"""`mailbot remind` and `mailbot digest`: reminders to units and the office's digests and bulletins."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from mailbot.bootstrap import build
from mailbot.cli.args import date_arg, period_arg, progress
from mailbot.config import default_path, load_config
from mailbot.ports import ConnectionFailure
from mailbot.schedule import local_today

log = logging.getLogger("mailbot")
KIND_NAMES = {"weekly": "周", "monthly": "月", "quarterly": "季度", "yearly": "年"}


def cmd_remind(args: argparse.Namespace) -> int:
    from mailbot import reminders

    app = build(load_config(args.config))
    day = args.date or local_today(app)
    plans = reminders.plan(app.config, app.engine, day, scheduled=False)
    if args.dry_run:
        for p in plans:
            gaps = "；".join(f"{g.period.label}：已报 {g.submitted} 条，应报 {g.due} 条" for g in p.gaps)
            print(f"{p.unit}  ->  {'、'.join(p.recipients)}（{gaps}）")
        print(f"{day.isoformat()} 应发提醒 {len(plans)} 封（试运行：没有发送，也没有记录）")
        return 0
    queued = reminders.send(app.config, app.engine, app.desk.renderer, plans)
    try:
        sent = app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; reminders stay queued for the daemon: %s", exc)
        sent = 0
    print(f"{day.isoformat()}：已排队提醒 {queued} 封，已发出邮件 {sent} 封")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    from mailbot import digest_mail, digests
    from mailbot.domain.report import combine_reports

    app = build(load_config(args.config))
    wanted = digests.PERIOD_KIND[args.kind]
    if args.period is not None and args.period.kind != wanted:
        example = digest_mail.last_complete(args.kind, local_today(app)).label
        print(f"mailbot digest: --period {args.period.label} 不是一个{KIND_NAMES[args.kind]}（例如 {example}）")
        return 2
    period = args.period or digest_mail.last_complete(args.kind, local_today(app))
    progress(f"正在生成 {period.label} 的{KIND_NAMES[args.kind]}报……")
    if args.together:
        desks = []
        for path in [args.config or default_path(), *args.together]:
            other = build(load_config(path))
            desks.append(
                (other.config.office.name, digests.build_report(other.config, other.engine, args.kind, period))
            )
        report = combine_reports(desks, args.kind, period, app.config.office.name)
        rendered = digest_mail.render_report(app.desk.renderer, app.config, report)
    else:
        rendered = digest_mail.render(app.config, app.engine, app.desk.renderer, args.kind, period)
    if args.out:
        for path in digest_mail.write_files(rendered, args.out):
            print(path)
        return 0
    if args.dry_run:
        print(f"主题：{rendered.subject}\n收件人：{'、'.join(app.config.office.recipients)}\n")
        print(rendered.text)
        return 0
    if digest_mail.enqueue(app.config, app.engine, rendered, again=True) is None:
        return 1
    try:
        app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; the digest stays queued for the daemon: %s", exc)
    print(f"{rendered.report.title} 已发送给 {'、'.join(app.config.office.recipients)}")
    return 0


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    remind = sub.add_parser("remind", help="发送某日所在周（及月末）应发的报送提醒")
    remind.add_argument("--date", type=date_arg, default=None, help="YYYY-MM-DD（默认今天）")
    remind.add_argument("--dry-run", action="store_true", help="只列出将提醒谁，不发送")
    remind.set_defaults(func=cmd_remind)
    digest = sub.add_parser("digest", help="周报，或月度/季度/年度通报")
    digest.add_argument("kind", choices=tuple(KIND_NAMES))
    digest.add_argument(
        "--period", type=period_arg, help="2026-W48、2026-11、2026-Q4 或 2026（默认：最近一个完整期间）"
    )
    digest.add_argument("--dry-run", action="store_true", help="打印文本版，不发送")
    digest.add_argument("--out", type=Path, help="把 .html、.txt、.xlsx 和 .png 写到这个目录，不发送")
    digest.add_argument(
        "--together", type=Path, nargs="+", metavar="CONFIG", help="其他局的配置文件：合并成一份报告，每局一行"
    )
    digest.set_defaults(func=cmd_digest)
