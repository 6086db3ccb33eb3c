"""One-line office commands sent by email (`采用 省级`, `退回 数据有误`, ...), parsed from plain text.

Staff reply to a receipt from their phone; the grammar is short Chinese words in any order after
the verb, with the item number optional when the mail is a reply to that item's receipt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LEVELS = {
    "国家级": "national",
    "国家": "national",
    "中央": "national",
    "部级": "national",
    "省级": "province",
    "省": "province",
    "省委": "province",
    "省政府": "province",
    "市级": "city",
    "市": "city",
    "市委": "city",
    "市政府": "city",
}
LEVEL_NAMES = {"city": "市级", "province": "省级", "national": "国家级"}
VERBS = {
    "采用": "adopt",
    "终审通过": "approve",
    "通过": "approve",
    "退回": "return",
    "扣分": "deduct",
    "评分": "grade",
    "约稿评分": "grade",
    "登记": "enrol",
    "调整": "move",
    "停用": "retire",
    "核报": "verify",  # 突发事件: carried out by mailbot.incidents
    "批示": "instruct",
}
INCIDENT_VERBS = ("verify", "instruct")
USAGE = (
    "可用的指令（每封邮件第一行写一条）：\n"
    "  采用 市级|省级|国家级 [信息编号] [刊物名称]\n"
    "  终审通过 [信息编号]\n"
    "  退回 [信息编号] 原因\n"
    "  扣分 单位名称 分值 原因\n"
    "  评分 [信息编号] 0-3（约稿）\n"
    "  登记 姓名 单位 [邮箱]（登记宣传员；回复“来信暂存”通知时可省略邮箱）\n"
    "  调整 姓名 新单位（宣传员改到另一单位）\n"
    "  停用 姓名 [单位]（宣传员不再报送）\n"
    "  核报 事件编号 电话|书面；批示 事件编号 批示内容（突发事件）\n"
    "回复系统发出的回执时可省略信息编号。"
)
_NUMBER = re.compile(r"\b(\d{4}-\d{4})\b")
_VERB = re.compile("^(" + "|".join(sorted(VERBS, key=len, reverse=True)) + r")(?=\s|$|[:：])")


class CommandError(Exception):
    """The line is a command but cannot be carried out as written; the message says why in Chinese."""


@dataclass(frozen=True)
class Command:
    verb: str  # adopt | approve | return | deduct | grade | enrol | move | retire
    item_number: str | None = None
    level: str | None = None
    publication: str = ""
    reason: str = ""
    unit: str = ""
    points: float | None = None
    grade: int | None = None
    name: str = ""  # a liaison, for enrol | move | retire
    email: str = ""  # enrol: the address; empty = the one of the held mail awaiting confirmation


def command_line(text: str) -> str:
    """The first line that is not blank and not quoted reply text."""
    for line in text.splitlines():
        line = line.strip().replace("\u3000", " ")
        if line and not line.startswith(">"):
            return line
    return ""


def looks_like_command(text: str) -> bool:
    return bool(_VERB.match(command_line(text)))


def parse_command(text: str) -> Command:
    line = command_line(text)
    match = _VERB.match(line)
    if not match:
        raise CommandError("第一行不是可识别的指令。\n" + USAGE)
    verb = VERBS[match.group(1)]
    rest = line[match.end() :].strip(" :：")
    if verb in ("enrol", "move", "retire"):
        return _registry_command(verb, rest.replace("，", " ").replace(",", " ").split())
    if verb in INCIDENT_VERBS:  # incident numbers (SJ-2026-007) are read by domain.incidents
        return Command(verb, None, reason=rest)
    number_match = _NUMBER.search(rest)
    number = number_match.group(1) if number_match else None
    if number_match:
        rest = (rest[: number_match.start()] + rest[number_match.end() :]).strip()
    words = rest.split()
    if verb == "adopt":
        level = next((LEVELS[w] for w in words if w in LEVELS), None)
        if level is None:
            raise CommandError("“采用”需要写明级别：市级、省级或国家级。\n" + USAGE)
        publication = " ".join(w for w in words if w not in LEVELS)
        return Command("adopt", number, level=level, publication=publication)
    if verb == "approve":
        return Command("approve", number)
    if verb == "return":
        if not rest:
            raise CommandError("“退回”需要写明原因，例如：退回 数据有误。\n" + USAGE)
        return Command("return", number, reason=rest)
    if verb == "grade":
        if len(words) != 1 or words[0] not in {"0", "1", "2", "3"}:
            raise CommandError("“评分”需要一个 0 到 3 的分数，例如：评分 2。\n" + USAGE)
        return Command("grade", number, grade=int(words[0]))
    if len(words) < 3:
        raise CommandError("“扣分”的格式是：扣分 单位名称 分值 原因。\n" + USAGE)
    try:
        points = float(words[1])
    except ValueError:
        raise CommandError(f"扣分分值“{words[1]}”不是数字。\n" + USAGE) from None
    if not 0 < points <= 100:
        raise CommandError("扣分分值应大于 0。\n" + USAGE)
    return Command("deduct", None, unit=words[0], points=points, reason=" ".join(words[2:]))


_ADDRESS = re.compile(r"^<?([^\s<>@]+@[^\s<>@]+\.[^\s<>@]+)>?$")


def registry_form(verb: str, name: str, unit: str, email: str = "") -> Command:
    """The browser's 登记/调整/停用 form read by the emailed line's rule, field by field, so the registry
    gets the same names and lower-cased addresses whichever way the office keeps it."""
    name, unit, email = (
        f.replace("\u3000", " ").replace("，", " ").replace(",", " ").strip() for f in (name, unit, email)
    )
    if len(name.split()) > 1 or len(unit.split()) > 1:
        raise CommandError("姓名、单位各写一项，中间不能有空格或逗号。")
    if email and not _ADDRESS.match(email):
        raise CommandError(f"“{email}”不是邮箱地址。")
    return _registry_command(verb, [f for f in (name, unit, email) if f])


def _registry_command(verb: str, words: list[str]) -> Command:
    """登记 姓名 单位 [邮箱] / 调整 姓名 新单位 / 停用 姓名 [单位]: the registry kept by one-line replies."""
    addresses = [m.group(1).lower() for w in words if (m := _ADDRESS.match(w))]
    words = [w for w in words if not _ADDRESS.match(w)]
    if verb == "enrol":
        if len(words) != 2 or len(addresses) > 1:
            raise CommandError("“登记”的格式是：登记 姓名 单位 [邮箱]，例如：登记 张三 兴隆台区应急管理局。\n" + USAGE)
        return Command("enrol", name=words[0], unit=words[1], email=addresses[0] if addresses else "")
    if verb == "move":
        if len(words) != 2 or addresses:
            raise CommandError("“调整”的格式是：调整 姓名 新单位，例如：调整 张三 宣教科。\n" + USAGE)
        return Command("move", name=words[0], unit=words[1])
    if not 1 <= len(words) <= 2 or addresses:
        raise CommandError("“停用”的格式是：停用 姓名 [单位]，例如：停用 张三。\n" + USAGE)
    return Command("retire", name=words[0], unit=words[1] if len(words) == 2 else "")
