"""Argument types and console output shared by every command group.

Each type turns what an office clerk typed into a value, or into one sentence saying what is
accepted: argparse prints it on one line and exits with code 2, never with a traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import NoReturn

from mailbot.domain.calendar import Period, parse_period

_ITEM_NUMBER = re.compile(r"\d{4}-\d{4,}")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line: the command, what was wrong, exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message}（用 --help 查看用法）\n")


def period_arg(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"期间“{text}”无法识别：请写 2026-W48（周）、2026-11（月）、2026-Q4（季度）或 2026（年）"
        ) from None


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”无法识别：请写成 2026-11-30 这样的年-月-日") from None


def item_arg(text: str) -> str:
    cleaned = text.strip()
    if not _ITEM_NUMBER.fullmatch(cleaned):
        raise argparse.ArgumentTypeError(f"信息编号“{text}”无法识别：编号形如 2026-0137（回执中写明）")
    return cleaned


def points_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"分值“{text}”不是数字：请写 0.5、1 这样的数") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError(f"分值 {text} 超出范围：应大于 0 且不超过 100")
    return value


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def cell(text: str, width: int) -> str:
    """Pad or cut to a display width, counting a Chinese character as two columns."""
    out = ""
    for ch in text:
        if _width(out + ch) > width:
            return out[:-1] + "…" + " " * (width - _width(out[:-1]) - 1)
        out += ch
    return out + " " * (width - _width(out))


def print_table(rows: Sequence[Sequence[str]], widths: tuple[int, ...]) -> None:
    for row in rows:
        print("  ".join(cell(value, w) for value, w in zip(row, widths, strict=True)).rstrip())


def progress(text: str) -> None:
    """Progress of a long job goes to stderr, so stdout stays the result."""
    print(text, file=sys.stderr, flush=True)
