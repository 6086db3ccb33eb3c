"""`mailbot items|show|review|adopt|solicit|solicitations|grade|deduct`: the office's register and
actions, each recorded with who took it (`--by`, default cli:<login>) and when."""

from __future__ import annotations

import argparse
import getpass
import logging
from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from mailbot import office
from mailbot.bootstrap import App, build
from mailbot.cli.args import cell, date_arg, item_arg, period_arg, points_arg, print_table
from mailbot.config import load_config
from mailbot.ports import ConnectionFailure
from mailbot.schedule import local_today

log = logging.getLogger("mailbot")
LEVELS = {
    "city": "city",
    "province": "province",
    "national": "national",
    "市级": "city",
    "省级": "province",
    "国家级": "national",
}


STATUSES = {
    "已收录": "received",
    "已终审": "approved",
    "已退回": "returned",
    "received": "received",
    "approved": "approved",
    "returned": "returned",
}


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
        status=STATUSES.get(args.status or "", args.status),
        search=args.search,
        period=args.period,
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
        print(f"{cell(label, 10)}{value}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    decision = {"approve": "approved", "通过": "approved", "return": "returned", "退回": "returned"}[args.decision]
    if decision == "returned" and not (args.reason or "").strip():
        print("未执行：退回时请用 --reason 写明原因，单位会在通知中看到它。")
        return 2
    return _office_action(args, lambda s, app: office.review(s, args.item, decision, args.reason or "", _actor(args)))


def cmd_adopt(args: argparse.Namespace) -> int:
    return _office_action(
        args,
        lambda s, app: office.adopt(
            s, args.item, LEVELS[args.level], args.publication, args.date or local_today(app), _actor(args)
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
    rows = solicitations(app.engine, app.config.timezone)
    if not rows:
        print("还没有登记任何约稿。登记：mailbot solicit 题目 --deadline 2026-12-31 [--units 单位1,单位2]")
        return 0
    for row in rows:
        print(f"《{row.topic}》 截止 {row.deadline}")
        print(f"  按时报送：{'；'.join(row.answered) or '无'}")
        print(f"  逾期报送（计 0 分）：{'；'.join(row.late) or '无'}")
        print(f"  未报送：{'、'.join(row.missing) or '无'}")
    return 0


def cmd_solicit(args: argparse.Namespace) -> int:
    app = build(load_config(args.config))
    units = [u.strip() for u in (args.units or "").replace("，", ",").split(",") if u.strip()]
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


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    by = parser_class(add_help=False)
    by.add_argument("--by", help="谁执行这一操作（默认 cli:<登录名>）")
    items = sub.add_parser("items", help="列出已登记的信息（可按单位、期间、状态、标题筛选）")
    items.add_argument("--unit", help="单位名称的一部分")
    items.add_argument("--period", type=period_arg, help="2026-W48、2026-11、2026-Q4 或 2026")
    items.add_argument("--status", choices=tuple(STATUSES), help="已收录、已终审或已退回")
    items.add_argument("--search", help="标题中的文字")
    items.set_defaults(func=cmd_items)
    show = sub.add_parser("show", help="一条信息的全部记录")
    show.add_argument("item", type=item_arg, help="信息编号，如 2026-0137")
    show.set_defaults(func=cmd_show)
    review = sub.add_parser("review", parents=[by], help="终审：通过（approve）或退回（return）一条信息")
    review.add_argument("item", type=item_arg)
    review.add_argument("decision", choices=("approve", "return", "通过", "退回"))
    review.add_argument("--reason", help="退回时必填")
    review.set_defaults(func=cmd_review)
    adopt = sub.add_parser("adopt", parents=[by], help="登记采用")
    adopt.add_argument("item", type=item_arg)
    adopt.add_argument("--level", required=True, choices=tuple(LEVELS))
    adopt.add_argument("--publication", default="", help="如 《盘锦信息》第12期")
    adopt.add_argument("--date", type=date_arg, help="采用日期（默认今天）")
    adopt.set_defaults(func=cmd_adopt)
    solicit = sub.add_parser("solicit", parents=[by], help="登记约稿")
    solicit.add_argument("topic")
    solicit.add_argument("--deadline", required=True, type=date_arg, help="截止日期 YYYY-MM-DD")
    solicit.add_argument("--units", help="约稿单位，逗号分隔（默认全部单位）")
    solicit.set_defaults(func=cmd_solicit)
    sub.add_parser("solicitations", help="每项约稿：按时、逾期、未报送的单位").set_defaults(func=cmd_solicitations)
    grade = sub.add_parser("grade", parents=[by], help="约稿评分 0-3")
    grade.add_argument("item", type=item_arg)
    grade.add_argument("grade", type=int, choices=(0, 1, 2, 3))
    grade.set_defaults(func=cmd_grade)
    deduct = sub.add_parser("deduct", parents=[by], help="扣分")
    deduct.add_argument("unit")
    deduct.add_argument("points", type=points_arg)
    deduct.add_argument("--reason", required=True)
    deduct.add_argument("--person")
    deduct.add_argument("--date", type=date_arg)
    deduct.set_defaults(func=cmd_deduct)
