"""`mailbot incidents` and `mailbot incident 核报 SJ-2026-007 书面`: the duty office's view of open
incidents, and the same one-line commands as by email (核报, 批示), counted from the moment they are given."""

from __future__ import annotations

import argparse
import getpass
import logging
from typing import Any

from sqlmodel import Session

from mailbot.adapters.db import utcnow
from mailbot.bootstrap import build
from mailbot.config import load_config
from mailbot.domain.commands import INCIDENT_VERBS, CommandError, parse_command
from mailbot.incident_watch import open_incidents, watch
from mailbot.incidents import IncidentDesk
from mailbot.office import OfficeError
from mailbot.ports import ConnectionFailure

log = logging.getLogger("mailbot")


def cmd_incidents(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    lines = open_incidents(app.config, app.engine, utcnow())
    for line in lines:
        print(f"{line.number}  {line.unit}  《{line.title}》")
        print(f"    首报 {line.first_at}（事发后 {line.delay}）")
        for waiting in line.waiting:
            print(f"    待：{waiting}")
    print(f"未结事件 {len(lines)} 起")
    return 0


def cmd_incident(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    text = " ".join(args.words)
    try:
        command = parse_command(text)
        if command.verb not in INCIDENT_VERBS:
            raise CommandError("这里只受理突发事件指令：核报、批示。")
    except CommandError as exc:
        print(f"未执行：{exc}")
        return 2
    desk = IncidentDesk(app.config, app.desk.renderer)
    with Session(app.engine) as session:
        try:
            done = desk.command(session, command, args.by or f"cli:{getpass.getuser()}", utcnow(), None, ())
        except CommandError as exc:  # the words after the number, read when the command is carried out
            print(f"未执行：{str(exc).splitlines()[0]}")
            return 2
        except OfficeError as exc:
            print(f"未执行：{exc}")
            return 1
        session.commit()
    _send(app)
    print(done.summary)
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    """What the daemon does every minute, once by hand (a host without the daemon, or a check)."""
    app = build(load_config(args.config))
    queued = watch(app.config, app.engine, app.desk.renderer, utcnow())
    _send(app)
    print(f"已发出到期提醒 {queued} 封")
    return 0


def _send(app: Any) -> None:
    try:
        app.desk.drain_outbox(app.transport)
    except ConnectionFailure as exc:
        log.warning("SMTP unreachable; the notices stay queued for the daemon: %s", exc)


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    sub.add_parser("incidents", help="未结的突发事件及各自等待的报告（终报、核报、批示落实）").set_defaults(
        func=cmd_incidents
    )
    incident = sub.add_parser("incident", help="突发事件指令：核报 SJ-2026-007 书面|电话、批示 SJ-2026-007 内容")
    incident.add_argument("words", nargs="+", help="与邮件指令相同的一行，如：核报 SJ-2026-007 书面")
    incident.add_argument("--by", help="谁下达（默认 cli:<登录名>）")
    incident.set_defaults(func=cmd_incident)
    sub.add_parser("incident-watch", help="立即检查一次到期未反馈的核报、批示和终报").set_defaults(func=cmd_watch)
