"""A corrected re-send replaces the piece it corrects: which earlier item a submission corrects, whether
that item may still change, and what changed, in words the liaison reads. Plain values, no I/O.

A correction is named by the liaison (a reply to the receipt, or the item number in the subject) or
recognised by its title: the same unit sending a piece of the same title again within a few days is
correcting it, not reporting a second matter (一事一报). Only items of the sender's own unit qualify.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from mailbot.domain.vocabulary import ItemStatus

ITEM_NUMBER = re.compile(r"(?<![\d-])(\d{4}-\d{4,6})(?![\d-])")
_NOISE = re.compile(r"[\s“”‘’\"'《》〈〉「」『』【】\[\]（）()。，,；;：:！!？?、·.\-—]")


@dataclass(frozen=True)
class Prior:
    """An earlier item a submission may correct, as the lookups found it."""

    item_id: int
    number: str
    unit_id: int
    title: str
    received_at: datetime
    status: str
    adopted: bool  # at any level
    named: bool = False  # the liaison pointed at it (replied to its receipt, or wrote its number)


@dataclass(frozen=True)
class Version:
    """What a liaison sees of one version of a piece, to tell them what their correction changed."""

    title: str
    drafters: tuple[str, ...]
    first_reviewer: str
    second_reviewer: str
    photo_count: int
    body_chars: int
    digest: str = ""  # the manuscript's content hash: tells a reworded body of the same length


def numbers_in(subject: str) -> tuple[str, ...]:
    """Item numbers written in a subject: "更正 2026-0137" or "【回执】2026-0137"."""
    return tuple(dict.fromkeys(ITEM_NUMBER.findall(subject)))


def same_title(a: str, b: str) -> bool:
    """Titles equal but for spaces, quotes, brackets, punctuation and character width."""
    key = [_NOISE.sub("", unicodedata.normalize("NFKC", t)) for t in (a, b)]
    return bool(key[0]) and key[0] == key[1]


def corrected_item(
    candidates: list[Prior], unit_id: int, title: str, arrived: datetime, window: timedelta
) -> Prior | None:
    """The item this submission corrects, or None for a new piece.

    `candidates` come in order of evidence: the item whose receipt is answered, then items numbered in
    the subject, then the unit's recent items. A named item counts only if it is the sender's unit's;
    a title match only within `window` of the earlier arrival.
    """
    for prior in candidates:
        if prior.unit_id != unit_id:
            continue
        if prior.named or (same_title(prior.title, title) and timedelta(0) <= arrived - prior.received_at <= window):
            return prior
    return None


def locked_because(prior: Prior) -> str:
    """Why the office must decide instead of mailbot replacing the piece ("" when it may be replaced):
    once adopted or approved in final review, the version on record is the one that was judged."""
    if prior.adopted:
        return "已被采用"
    if prior.status == ItemStatus.APPROVED:
        return "已终审通过"
    return ""


def changes(old: Version, new: Version) -> tuple[str, ...]:
    """What the liaison changed, one phrase each, for the receipt: "标题：《旧》→《新》"."""
    said: list[str] = []
    if old.title != new.title:
        said.append(f"标题：《{old.title}》→《{new.title}》")
    if old.drafters != new.drafters:
        said.append(f"撰稿人：{'、'.join(old.drafters) or '（无）'} → {'、'.join(new.drafters) or '（无）'}")
    for label, before, after in (
        ("初审人", old.first_reviewer, new.first_reviewer),
        ("复审人", old.second_reviewer, new.second_reviewer),
    ):
        if before != after:
            said.append(f"{label}：{before or '（无）'} → {after or '（无）'}")
    if old.photo_count != new.photo_count:
        said.append(f"照片：{old.photo_count} 张 → {new.photo_count} 张")
    if old.body_chars != new.body_chars:
        said.append(f"正文：{old.body_chars} 字 → {new.body_chars} 字")
    elif old.digest != new.digest and old.title == new.title and old.drafters == new.drafters:
        said.append(f"正文：内容有修改（仍为 {new.body_chars} 字）")
    return tuple(said) or ("内容有修改（标题、作者、审核人、照片和字数未变）",)
