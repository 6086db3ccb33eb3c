"""The `mailbot` command: one module per command group parses its arguments and calls the service.

Groups: mail (poll, run, demo), check, office (items, show, review, adopt, solicit, solicitations,
grade, deduct), reports (remind, digest), explain, admin (units, db, purge), incidents (incidents,
incident, incident-watch), web (web, users).
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from mailbot.cli import admin, check, explain, incidents, mail, office, reports, web
from mailbot.cli.args import Parser
from mailbot.config import ConfigError


def parser() -> Parser:
    p = Parser(prog="mailbot", description="政务信息报送邮件受理台 (government-information submission desk).")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help="config file (default: $MAILBOT_CONFIG, then ./config.toml, then /etc/mailbot/config.toml)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for group in (mail, check, office, reports, explain, admin, incidents, web):
        group.register(sub, Parser)
    return p


PRIVATE_UMASK = 0o027  # the database, storage and raw messages: the service user and its group only


def main(argv: list[str] | None = None) -> int:
    os.umask(PRIVATE_UMASK)  # whoever starts it, by hand or under systemd, nothing is world-readable
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("imapclient", "sqlalchemy", "py7zr", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"mailbot: configuration error: {exc}", file=sys.stderr)
        return 2
