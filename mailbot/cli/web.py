"""`mailbot web` serves the office's register; `mailbot users add|list|passwd|disable` keeps its accounts.

Passwords are read without echo from the terminal, or from standard input when it is not one (for
scripts: `printf '%s\n' "$PW" | mailbot users add zhangsan --role officer`), never from the command line,
where other users of the machine could read them in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import signal
import sys
from typing import Any

from mailbot.bootstrap import build
from mailbot.config import load_config


def _password(confirm: bool = True) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("密码（至少 10 个字符）：")
    if confirm and getpass.getpass("再输入一次：") != first:
        raise SystemExit("两次输入的密码不一致，未作更改。")
    return first


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # ends waitress's loop in the main thread, as Ctrl+C does


def cmd_web(args: argparse.Namespace) -> int:
    from mailbot.web.serve import address, close, make_server

    app = build(load_config(args.config))
    server = make_server(app, args.host, args.port)
    print(f"信息报送登记簿：{address(server)}（Ctrl+C 停止）", flush=True)
    # Our own handlers: a process started with SIGINT ignored (a background job of a non-interactive
    # shell, nohup) never got Python's KeyboardInterrupt and went on serving after Ctrl+C or a stop.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupted)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        close(server)
    return 0


def cmd_users(args: argparse.Namespace) -> int:
    from mailbot.web import accounts

    app = build(load_config(args.config))
    by = f"cli:{getpass.getuser()}"  # who ran the command, as office actions record it
    try:
        if args.action == "add":
            row = accounts.add(app.engine, args.name, args.role, _password(), by)
            print(f"账号 {row.name} 已开设（{accounts.ROLES[row.role]}）。")
        elif args.action == "passwd":
            accounts.set_password(app.engine, args.name, _password(), by)
            print(f"账号 {args.name} 的密码已更改，原有登录已失效。")
        elif args.action == "disable":
            accounts.disable(app.engine, args.name, by)
            print(f"账号 {args.name} 已停用，原有登录已失效。")
        else:
            rows = accounts.listing(app.engine)
            for r in rows:
                state = "在用" if r.active else "停用"
                print(f"{r.name:<20}{accounts.ROLES.get(r.role, r.role)}  {state}  开设于 {r.created_at:%Y-%m-%d}")
            print(f"共 {len(rows)} 个账号")
    except accounts.AccountError as exc:
        print(f"未执行：{exc}")
        return 1
    return 0


def register(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    web = sub.add_parser("web", help="在浏览器中使用的信息报送登记簿（默认只监听 127.0.0.1）")
    web.add_argument("--host", help="监听地址（默认取 [web] host）")
    web.add_argument("--port", type=int, help="端口（默认取 [web] port）")
    web.set_defaults(func=cmd_web)
    users = sub.add_parser("users", help="登记簿的账号：add、list、passwd、disable")
    actions = users.add_subparsers(dest="action", required=True, parser_class=parser_class)
    add = actions.add_parser("add", help="开设账号")
    add.add_argument("name")
    add.add_argument(
        "--role", choices=("viewer", "officer"), default="viewer", help="viewer 只能查看；officer 可以办理"
    )
    actions.add_parser("list", help="列出账号")
    for name, text in (("passwd", "更改密码"), ("disable", "停用账号")):
        actions.add_parser(name, help=text).add_argument("name")
    users.set_defaults(func=cmd_users)
