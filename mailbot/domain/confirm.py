"""One-time codes for emailed office commands: a forged From never sees the code.

Anyone can write an admin's address in From. The command is therefore only carried out once a
reply from that address quotes a code that was mailed to it; the code is valid for a while and
works once.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import datetime
from enum import StrEnum

_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")


class CodeState(StrEnum):
    VALID = "valid"
    EXPIRED = "expired"
    USED = "used"


ANSWERS: dict[str, str] = {
    CodeState.EXPIRED: "确认码已过期，指令没有执行。如仍需执行，请重新发送这条指令。",
    CodeState.USED: "这个确认码已经用过，指令不会重复执行。",
}
WRONG_CODE = (
    "没有找到与这个确认码对应的待执行指令（确认码不正确，或不是发给您这个邮箱的），指令没有执行。\n"
    "请直接回复系统发来的确认邮件，或重新发送指令。"
)


def new_code(taken: Collection[str] = ()) -> str:
    """Six digits from the operating system's random source, not one of `taken`."""
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if code not in taken:
            return code


def codes_in(text: str) -> set[str]:
    """Every stand-alone run of six digits: the admin may quote the code anywhere in the reply."""
    return set(_CODE.findall(text))


def state_of(used_at: datetime | None, expires_at: datetime, now: datetime) -> CodeState:
    if used_at is not None:
        return CodeState.USED
    return CodeState.EXPIRED if now >= expires_at else CodeState.VALID
