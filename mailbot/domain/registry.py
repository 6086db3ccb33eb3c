"""The liaison register (annex 4, 信息宣传员登记表) as the office fills it in: rows of cells -> units.

Offices write the table by hand in Excel, so the reader is forgiving where intent is clear (header
wording, a title row above the header, full-width characters typed with a Chinese input method,
merged unit cells) and reports everything else as a numbered row problem instead of failing the
whole import: one bad row must not keep thirty good liaisons out of the register.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from mailbot.domain.units import Liaison, Unit

KINDS = ("县区", "经济区", "科室", "事业单位", "支队", "执法队")
DEFAULT_KIND = "科室"
REQUIRED = ("unit", "name")  # annex 4 as issued has no email column: addresses are confirmed on first mail
LABELS = {"unit": "单位", "name": "姓名", "email": "邮箱"}

_ALIASES = {
    "unit": ("单位(科室)", "单位/科室", "单位", "科室", "单位名称", "部门"),
    "name": ("姓名", "宣传员", "信息宣传员", "宣传员姓名", "信息宣传员姓名", "联系人"),
    "phone": ("联系电话", "电话", "手机", "手机号", "手机号码", "电话号码"),
    "wechat": ("微信号", "微信"),
    "email": ("邮箱", "电子邮箱", "邮箱地址", "电子邮件", "邮件地址", "e-mail", "email"),
    "kind": ("类别", "单位类型", "单位类别"),
}

_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}"
)


@dataclass(frozen=True)
class RowProblem:
    row: int  # 1-based, as the office sees it in Excel
    message: str


@dataclass(frozen=True)
class ImportResult:
    units: tuple[Unit, ...]
    problems: tuple[RowProblem, ...]
    has_kinds: bool = False  # the table has a 类别 column; without one, units already registered keep theirs


def _header_key(text: str) -> str:
    """One spelling per header: full/half width, case, spaces and a required-field '*' don't matter."""
    return re.sub(r"[\s*]+", "", unicodedata.normalize("NFKC", text)).lower()


HEADERS: dict[str, str] = {_header_key(alias): field for field, aliases in _ALIASES.items() for alias in aliases}


def _compact(text: str) -> str:
    """Names lose every space: forms pad two-character names for alignment ("张  三")."""
    return re.sub(r"\s+", "", text)


def unit_name(text: str) -> str:
    """The unit as written, with parentheses made full-width so "局(办公室)" and "局（办公室）" merge."""
    return _compact(text).replace("(", "（").replace(")", "）")


def normalise_email(text: str) -> str:
    """Full-width letters and the Chinese full stop come from typing with a Chinese input method."""
    return _compact(unicodedata.normalize("NFKC", text).replace("。", ".")).lower()


def _problem(row: int, text: str) -> RowProblem:
    return RowProblem(row, f"第{row}行：{text}")


def _find_header(rows: Sequence[Sequence[str]]) -> tuple[int, dict[str, int]] | RowProblem:
    """The first row naming the unit and name columns; else which columns could not be found."""
    best: tuple[int, dict[str, int]] = (0, {})
    for index, row in enumerate(rows):
        columns: dict[str, int] = {}
        for col, cell in enumerate(row):
            field = HEADERS.get(_header_key(cell or ""))
            if field is not None:
                columns.setdefault(field, col)
        if all(f in columns for f in REQUIRED):
            return index, columns
        if sum(f in columns for f in REQUIRED) > sum(f in best[1] for f in REQUIRED):
            best = (index, columns)
    missing = "、".join(LABELS[f] for f in REQUIRED if f not in best[1])
    return _problem(best[0] + 1, f"未找到表头，缺少列：{missing}")


def _kind(text: str) -> str | None:
    """县(区) and 县 区 are 县区; None when the text is no known kind."""
    kind = re.sub(r"[\s()]+", "", unicodedata.normalize("NFKC", text))
    return kind if kind in KINDS else None


def _liaison(cells: dict[str, str], name: str, email: str) -> Liaison:
    return Liaison(
        name=name,
        email=email,
        phone=_compact(unicodedata.normalize("NFKC", cells.get("phone", ""))),
        wechat=unicodedata.normalize("NFKC", cells.get("wechat", "")).strip(),
    )


def parse_registry(rows: Sequence[Sequence[str]]) -> ImportResult:
    """Units in file order, each with its liaisons in file order; every skipped row is a problem.

    A row with no unit but a liaison belongs to the unit of the row just above it: that is how a
    merged unit cell (one unit, several liaisons) arrives from Excel.
    """
    header = _find_header(rows)
    if isinstance(header, RowProblem):
        return ImportResult((), (header,))
    start, columns = header
    problems: list[RowProblem] = []
    liaisons: dict[str, list[Liaison]] = {}
    kinds: dict[str, str] = {}
    owner: dict[str, tuple[str, int]] = {}  # email -> (unit name, row number)
    previous_unit = ""

    for index in range(start + 1, len(rows)):
        row, number = rows[index], index + 1
        cells = {f: (row[c] if c < len(row) else "") or "" for f, c in columns.items()}
        if not any(v.strip() for v in cells.values()):
            previous_unit = ""
            continue
        unit = unit_name(cells["unit"]) or previous_unit
        previous_unit = unit
        if not unit:
            problems.append(_problem(number, "缺少单位"))
            continue
        if written := cells.get("kind", "").strip():
            kind = _kind(written)
            if kind is None:
                problems.append(_problem(number, f"类别“{written}”无法识别（应为{'、'.join(KINDS)}之一），已忽略"))
            elif kinds.setdefault(unit, kind) != kind:
                problems.append(_problem(number, f"“{unit}”的类别“{kind}”与前面登记的不一致，以“{kinds[unit]}”为准"))
        email = normalise_email(cells.get("email", ""))
        name = _compact(cells["name"])
        if not email:
            if not name:
                problems.append(_problem(number, "缺少姓名"))
                continue
            if any(p.name == name for p in liaisons.get(unit, [])):
                problems.append(_problem(number, f"“{unit}”的宣传员“{name}”重复登记"))
                continue
            liaisons.setdefault(unit, []).append(_liaison(cells, name, ""))
            continue
        if not _EMAIL.fullmatch(email):
            problems.append(_problem(number, f"邮箱格式不正确：{cells['email'].strip()}"))
            continue
        if email in owner:
            first_unit, first_row = owner[email]
            message = (
                f"邮箱 {email} 与第{first_row}行重复"
                if first_unit == unit
                else f"同一邮箱 {email} 已登记在“{first_unit}”"
            )
            problems.append(_problem(number, message))
            continue
        owner[email] = (unit, number)
        liaisons.setdefault(unit, []).append(_liaison(cells, name, email))

    units = tuple(
        Unit(name=name, kind=kinds.get(name, DEFAULT_KIND), liaisons=tuple(people)) for name, people in liaisons.items()
    )
    return ImportResult(units, tuple(problems), "kind" in columns)


def named_liaisons(names: Sequence[str], registered: Sequence[tuple[int, str, str | None]]) -> tuple[int, ...]:
    """Registered liaisons (id, name, email) that the names an unknown sender gives (From display name,
    撰稿人 in the footer) name; those still without an address first, as they are the ones expected to
    write from a new one. Names compare without spaces ("刘  洋" is 刘洋)."""
    wanted = {_compact(n) for n in names if _compact(n)}
    found = [(email is not None, lid) for lid, name, email in registered if _compact(name) in wanted]
    return tuple(lid for _has, lid in sorted(found))
