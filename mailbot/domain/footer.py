"""The manuscript footer: who wrote it and who reviewed it (annex 3 of the Panjin rules).

The template is::

    撰稿人:XX单位(科室)XXX
    初审人:XXX    复审人:XXX

Real footers drift from it in every way a person typing in Word can manage, so the parser
is lenient about layout (colons, spaces, one line or two, extra lines) and strict about
content: an unreplaced placeholder is a missing field, never a name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

_T = TypeVar("_T")

DRAFTER = "撰稿人"
FIRST_REVIEWER = "初审人"
SECOND_REVIEWER = "复审人"

# Variants seen in real footers, mapped to the canonical label. Longest first so that
# "撰稿人员" is not read as "撰稿" followed by a value "人员".
_LABELS: dict[str, str] = {
    "撰稿人员": DRAFTER,
    "撰稿人": DRAFTER,
    "撰写人": DRAFTER,
    "供稿人": DRAFTER,
    "撰稿": DRAFTER,
    "作者": DRAFTER,
    "初审人": FIRST_REVIEWER,
    "复审人": SECOND_REVIEWER,
    "初审": FIRST_REVIEWER,
    "复审": SECOND_REVIEWER,
}
_CANONICAL_ORDER = (DRAFTER, FIRST_REVIEWER, SECOND_REVIEWER)

# People type "撰 稿 人" to line labels up, so any whitespace may sit between the characters.
_LABEL_ALTERNATION = "|".join(r"\s*".join(map(re.escape, label)) for label in sorted(_LABELS, key=len, reverse=True))
# A label counts only when a colon, whitespace (a table cell boundary) or the line end follows;
# this keeps "作者认为..." or "初审意见：" in the body from being taken for a footer.
_LABEL_END = r"(?=\s*[:：]|\s|$)"
_LINE_START = re.compile(rf"\s*(?:{_LABEL_ALTERNATION}){_LABEL_END}")
# Labels further along the line ("初审人：李四    复审人：王五") follow whitespace or punctuation.
# No "\s*" before the label: the lookbehind already admits whitespace, and a leading "\s*" made
# every position of a long run of spaces rescan the rest of it (quadratic).
_LABEL_ANYWHERE = re.compile(rf"(?:^|(?<=[\s，,；;。]))(?P<label>{_LABEL_ALTERNATION}){_LABEL_END}\s*[:：]?")
# Another "label：" inside a value ("张三  联系电话：138...") starts a field we do not read.
# It is tried only where a run of whitespace begins, which keeps the search linear.
_OTHER_FIELD = re.compile(r"(?<!\s)\s+[\u4e00-\u9fff]{2,6}[:：]")

_X_LIKE = "XxＸｘ×✕╳"
_LATIN = "A-Za-zＡ-Ｚａ-ｚ"
_PLACEHOLDER = re.compile(rf"(?<![{_LATIN}{_X_LIKE}])[{_X_LIKE}]{{2,}}(?![{_LATIN}{_X_LIKE}])")

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_EDGE_PUNCTUATION = "。.，,、；;：:"
_DRAFTER_SEPARATORS = "、，,;；/／"
_CONJUNCTION = re.compile(r"[和及与]")
_PHONE = re.compile(r"[\d\-+()（）]{5,}")
# Endings of Chinese organisation names. Strong ones end units of three characters
# ("办公室", "宣教科"); weak ones also end given names, so they need a longer word.
_STRONG_UNIT_SUFFIXES = (
    "局",
    "科",
    "室",
    "队",
    "中心",
    "站",
    "办",
    "院",
    "所",
    "处",
    "组",
    "厅",
    "公司",
    "单位",
    "集团",
    "街道",
)
_WEAK_UNIT_SUFFIXES = ("委", "部", "会", "司", "府", "区", "县", "市", "镇", "乡", "厂", "场", "馆")
_MAX_NAME_CHARS = 4


@dataclass(frozen=True)
class Drafter:
    """One author; the unit is kept as written because points go to the unit as well."""

    name: str
    unit: str | None


@dataclass(frozen=True)
class Footer:
    """What the footer says; ``placeholders`` lists fields left as template text (also missing)."""

    drafters: tuple[Drafter, ...]
    first_reviewer: str | None
    second_reviewer: str | None
    placeholders: tuple[str, ...]


def is_footer_line(line: str) -> bool:
    """Whether the line starts with a drafter or reviewer label: where the body ends."""
    return _LINE_START.match(_clean(line)) is not None


def has_placeholder(text: str) -> bool:
    """Whether template filler ("XXX", "XX单位", "×××") is left, but not "XXL" or "Xbox"."""
    return _PLACEHOLDER.search(text) is not None


def parse_footer(lines: Sequence[str]) -> Footer:
    """Read the labelled fields from the footer lines; lines without a label are ignored."""
    drafters: list[Drafter] = []
    reviewers: dict[str, str] = {}
    placeholders: set[str] = set()
    for line in lines:
        if not is_footer_line(line):
            continue
        for label, value in _segments(_clean(line)):
            if has_placeholder(value):
                placeholders.add(label)
            elif label == DRAFTER:
                drafters.extend(_parse_drafters(value))
            else:
                name = _squeeze(value)
                if name:
                    reviewers.setdefault(label, name)
    return Footer(
        drafters=tuple(dict.fromkeys(drafters)),
        first_reviewer=reviewers.get(FIRST_REVIEWER),
        second_reviewer=reviewers.get(SECOND_REVIEWER),
        placeholders=tuple(label for label in _CANONICAL_ORDER if label in placeholders),
    )


def fill_missing(body: Footer, page: Footer) -> tuple[Footer, tuple[str, ...]]:
    """The body's footer with the fields it lacks taken from Word's page footer (页脚), and their labels.

    The body wins: a field it has, or holds as a placeholder, is never replaced. A placeholder in the
    page footer counts only for a field that is still missing.
    """
    taken: list[str] = []

    def pick(label: str, own: _T, other: _T) -> _T:
        if own or label in body.placeholders or not other:
            return own
        taken.append(label)
        return other

    drafters = pick(DRAFTER, body.drafters, page.drafters)
    first = pick(FIRST_REVIEWER, body.first_reviewer, page.first_reviewer)
    second = pick(SECOND_REVIEWER, body.second_reviewer, page.second_reviewer)
    have = {DRAFTER: bool(drafters), FIRST_REVIEWER: bool(first), SECOND_REVIEWER: bool(second)}
    placeholders = set(body.placeholders) | {label for label in page.placeholders if not have[label]}
    return (
        Footer(drafters, first, second, tuple(label for label in _CANONICAL_ORDER if label in placeholders)),
        tuple(taken),
    )


def _clean(text: str) -> str:
    return _INVISIBLE.sub("", text)


def _segments(line: str) -> list[tuple[str, str]]:
    """Split a line into (canonical label, value) pairs, one per label on it."""
    matches = list(_LABEL_ANYWHERE.finditer(line))
    pairs = []
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        value = line[match.end() : following.start() if following else len(line)]
        other = _OTHER_FIELD.search(value)
        if other:
            value = value[: other.start()]
        label = _LABELS[_squeeze(match.group("label"))]
        pairs.append((label, value.strip().strip(_EDGE_PUNCTUATION).strip()))
    return pairs


def _squeeze(text: str) -> str:
    """Drop all whitespace: "张  三" is padded to line up with three-character names."""
    return "".join(text.split()).strip(_EDGE_PUNCTUATION)


def _full_width_parens(text: str) -> str:
    return text.replace("(", "（").replace(")", "）")


def _parse_drafters(value: str) -> list[Drafter]:
    """Read "张三、李四", "盘山县应急管理局（办公室）张三", "张三（大洼区应急管理局）" and mixtures.

    A unit written before a name also covers the unit-less names after it
    ("大洼区应急管理局 张三、李四"): both wrote for that unit.
    """
    text = _full_width_parens(value)
    # "张三 （大洼区应急管理局）", "局 （办公室） 张三": parentheses belong to the word before.
    # "(?<!\s)": tried only where a run of whitespace starts, else a long run is quadratic.
    text = re.sub(r"(?<!\s)\s*（\s*", "（", text)
    text = re.sub(r"(?<!\s)\s*）", "）", text)
    drafters: list[Drafter] = []
    carried_unit: str | None = None
    for chunk in _split_outside_parens(text, _DRAFTER_SEPARATORS):
        for piece in _group_tokens(chunk):
            if isinstance(piece, _Unit):
                carried_unit = _squeeze(piece.text)
                continue
            for name_part in _split_conjunction(piece):
                drafter, unit_leads = _split_unit(name_part)
                if drafter is None:
                    continue
                if unit_leads:
                    carried_unit = drafter.unit
                elif drafter.unit is None and carried_unit is not None:
                    drafter = Drafter(drafter.name, carried_unit)
                drafters.append(drafter)
    return drafters


@dataclass(frozen=True)
class _Unit:
    """A whitespace-separated word that names an organisation, not a person."""

    text: str


def _split_outside_parens(text: str, separators: str) -> list[str]:
    """Split at separators (whitespace when none given) that are not inside parentheses."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth = max(0, depth + (char == "（") - (char == "）"))
        splits = char in separators if separators else char.isspace()
        if depth == 0 and splits:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in (p.strip() for p in parts) if part]


def _group_tokens(chunk: str) -> list[str | _Unit]:
    """Turn whitespace-separated words into names and units.

    A run of one-character words is one spaced-out name ("张 三"); a lone one-character word
    joins the next ("王 小明") or, last, the one before; consecutive unit words are one unit;
    phone numbers are dropped.
    """
    tokens = [t for t in _split_outside_parens(chunk, "") if not _PHONE.fullmatch(t)]
    pieces: list[str | _Unit] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        index += 1
        if _is_unit(token):
            if pieces and isinstance(pieces[-1], _Unit):
                pieces[-1] = _Unit(pieces[-1].text + token)
            else:
                pieces.append(_Unit(token))
            continue
        if len(token) == 1:
            run = [token]  # joined once: "+=" per character is quadratic on "张 张 张 ..."
            while index < len(tokens) and len(tokens[index]) == 1:
                run.append(tokens[index])
                index += 1
            token = "".join(run)
            if len(token) == 1 and index < len(tokens) and not _is_unit(tokens[index]):
                token += tokens[index]
                index += 1
            elif len(token) == 1 and pieces and isinstance(pieces[-1], str):
                pieces[-1] += token  # "大洼区应急管理局周 敏"
                continue
        pieces.append(token)
    return pieces


def _is_unit(text: str) -> bool:
    """Whether the whole word names an organisation ("宣教科", "大洼区应急管理局（办公室）")."""
    text = text.strip(_EDGE_PUNCTUATION)
    if "（" in text or "）" in text:
        head = text.split("（", 1)[0]
        return text.endswith("）") and bool(head) and _is_unit(head)
    if len(text) >= 3 and text.endswith(_STRONG_UNIT_SUFFIXES):
        return True
    return len(text) > _MAX_NAME_CHARS and text.endswith(_WEAK_UNIT_SUFFIXES)


def _is_name(text: str) -> bool:
    return 2 <= len(text) <= _MAX_NAME_CHARS and not _is_unit(text)


def _split_conjunction(piece: str) -> list[str]:
    """Split "张三和李四" but neither "王和平" nor "住房和城乡建设局张三"."""
    parts = _CONJUNCTION.split(piece)
    if len(parts) > 1 and all(_is_name(part) for part in parts):
        return parts
    return [piece]


def _split_unit(piece: str) -> tuple[Drafter | None, bool]:
    """The name in the piece with its unit, if any; the flag says the unit came first."""
    text = piece.strip(_EDGE_PUNCTUATION)
    if text.startswith("（") and "）" in text:
        unit, name = text[1:].split("）", 1)
        return _drafter(name, unit), True
    if "）" in text and not text.endswith("）"):
        cut = text.rindex("）") + 1
        return _drafter(text[cut:], text[:cut]), True
    if "（" in text:
        name, unit = text.split("（", 1)
        return _drafter(name, unit.removesuffix("）")), False
    if _is_unit(text):
        return None, False
    if len(text) > _MAX_NAME_CHARS and "·" not in text:
        for name_length in range(2, _MAX_NAME_CHARS + 1):
            if _is_unit(text[:-name_length]):
                return _drafter(text[-name_length:], text[:-name_length]), True
    return _drafter(text, None), False


def _drafter(name: str, unit: str | None) -> Drafter | None:
    name = _squeeze(name)
    if not name:
        return None
    unit = _squeeze(unit) if unit is not None else ""
    return Drafter(name, unit or None)
