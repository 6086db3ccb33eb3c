"""`mailbot explain UNIT [--period P]`: the ledger lines behind a unit's points, adding up to the bulletin's figure.

When a liaison asks "why -10.20?", the office runs this and reads out each line: what was sent, what was
adopted, which deduction under which rule. It reads the same ledger the bulletin summed (mailbot.ledger).
"""

from __future__ import annotations

import argparse
from typing import Any

from sqlmodel import Session, col, select

from mailbot.bootstrap import build
from mailbot.cli.args import cell, period_arg
from mailbot.config import load_config
from mailbot.domain.calendar import Period
from mailbot.domain.explain import explain, signed
from mailbot.domain.formats import fmt_points
from mailbot.domain.units import match_unit


def period_name(period: Period) -> str:
    """ "2026年10月", "2026年第三季度", "2026年第41周", "2026年度": as the bulletin titles name them."""
    year, _, rest = period.label.partition("-")
    if period.kind == "month":
        return f"{year}年{int(rest)}月"
    if period.kind == "quarter":
        return f"{year}年第{'一二三四'[int(rest[1:]) - 1]}季度"
    if period.kind == "week":
        return f"{year}年第{int(rest[1:])}周"
    return f"{year}年度"


def cmd_explain(args: argparse.Namespace) -> int:
    from mailbot.adapters.db import Item, Unit
    from mailbot.digest_mail import last_complete
    from mailbot.ledger import period_entries
    from mailbot.schedule import local_today

    app = build(load_config(args.config))
    today = local_today(app)
    period = args.period or last_complete("monthly", today)
    with Session(app.engine) as s:
        units = list(s.exec(select(Unit)))
        unit_id = match_unit(args.unit, [(u.id, [u.name, *u.aliases.split("\n")]) for u in units if u.id is not None])
        if unit_id is None:  # "盘山县" for 盘山县应急管理局: a short name is enough when only one unit fits
            fits = [u.id for u in units if args.unit.strip() and u.name.startswith(args.unit.strip())]
            unit_id = fits[0] if len(fits) == 1 else None
        if unit_id is None:
            print(f"没有找到单位“{args.unit}”。可用 mailbot units list 查看已登记的单位。")
            return 2
        name = next(u.name for u in units if u.id == unit_id)
        entries = period_entries(s, app.config, period, today)
        wanted = {e.item_id for e in entries if e.item_id is not None and e.unit_id == unit_id}
        numbers = {i.id: i.number for i in s.exec(select(Item).where(col(Item.id).in_(wanted))) if i.id is not None}
    result = explain(entries, period, unit_id, numbers)
    print(f"{name} {period_name(period)}得分明细（{period.start.isoformat()} 至 {period.end.isoformat()}）")
    if not result.lines:
        print("本期没有得分或扣分记录，得分 0.00。")
        return 0
    print(f"{cell('日期', 8)}  {cell('信息编号', 10)}  {cell('撰稿人', 12)}  {cell('分值', 8)}  说明")
    for line in result.lines:
        print(
            f"{cell(line.day, 8)}  {cell(line.number, 10)}  {cell(line.person, 12)}  "
            f"{cell(signed(line.points), 8)}  {line.note}"
        )
    print(f"共 {len(result.lines)} 条，合计 {fmt_points(result.total)} 分（通报中记为 {result.total:.2f}）。")
    print("其中：" + "；".join(f"{person} {fmt_points(points)} 分" for person, points in result.people) + "。")
    return 0


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("explain", help="逐条列出一个单位的得分和扣分，合计即通报中的得分")
    p.add_argument("unit", help="单位名称（或其简称）")
    p.add_argument("--period", type=period_arg, help="2026-10（月）、2026-Q4、2026 或 2026-W41；默认上个月")
    p.set_defaults(func=cmd_explain)
