"""Which column a submission names: a 【栏目】 tag or "栏目：" in the subject or the first lines, matched
exactly, by alias, or as a near miss with a clear lead, so a typo files the piece where the liaison meant
and an ambiguous name files it nowhere rather than under the wrong column.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from mailbot.domain.columns import Column
from mailbot.domain.columns import normalise_name as _norm


@dataclass(frozen=True)
class ColumnMatch:
    column: Column | None
    exact: bool  # False for an alias or a near miss (动态新闻 -> 动态要闻), and when nothing matched
    written: str  # what the liaison wrote


MIN_RATIO = 0.6  # difflib ratio for a near miss: 文件解读类 -> 文件解读 is 0.89, 部门会议 vs 部门文件 0.5
MIN_LEAD = 0.1  # the best near miss must beat the runner-up by this much, or the name is ambiguous
MIN_AFFIX = 2  # leading or trailing characters shared with a name when no ratio is high enough


def match_column(text: str, columns: Sequence[Column]) -> ColumnMatch:
    """Name first (exact), then aliases, then the closest name or alias: a ratio of at least MIN_RATIO with
    a clear lead, else the longest prefix or suffix shared with a column name (not an alias: 工作简报 is not
    工作动态) if only one column has it. Two columns equally close give no column: filing under the wrong
    one would misplace points and deductions."""
    key = _norm(text)
    none = ColumnMatch(None, False, text)
    if not key:
        return none
    for column in columns:
        if _norm(column.name) == key:
            return ColumnMatch(column, True, text)
    for column in columns:
        if key in (_norm(a) for a in column.aliases):
            return ColumnMatch(column, False, text)

    ratios = sorted(
        ((max(difflib.SequenceMatcher(None, key, s).ratio() for s in _spellings(c)), i) for i, c in enumerate(columns)),
        reverse=True,
    )
    close = [(r, i) for r, i in ratios if r >= MIN_RATIO]
    if close:
        if len(close) == 1 or close[0][0] - close[1][0] >= MIN_LEAD:
            return ColumnMatch(columns[close[0][1]], False, text)
        return none
    affixes = [(_affix(key, _norm(c.name)), c) for c in columns]
    longest = max((n for n, _c in affixes), default=0)
    best = [c for n, c in affixes if n == longest >= MIN_AFFIX]
    return ColumnMatch(best[0], False, text) if len(best) == 1 else none


def _spellings(column: Column) -> list[str]:
    return [_norm(s) for s in (column.name, *column.aliases)]


def _affix(a: str, b: str) -> int:
    """Characters shared at the start or at the end, whichever is longer."""
    return max(len(os.path.commonprefix([a, b])), len(os.path.commonprefix([a[::-1], b[::-1]])))


_LABELLED = re.compile(r"栏目(?:名称)?\s*[:：]\s*([^\s,，;；。、】\]|｜]+)")
_LINE = re.compile(r"\s*(?:所属|报送|投稿)?栏目(?:名称)?\s*[:：]\s*(.+?)\s*")
_BRACKET = re.compile(r"[【\[]\s*([^】\]]+?)\s*[】\]]")
# Bracketed tags that mark something else than a column: the kind of piece (调研, 经验, 约稿), routine
# markers, reply and forward markers (a liaison answering the desk's 【回执】 or 【退回】, Re, Fw), a unit's
# name (ending in 局, 科, 队 ...) or an issue number or date.
_NOT_COLUMN = re.compile(
    r".*(?:调研|经验|约稿).*|常规(?:信息)?|(?:政务)?信息|报送|补报|更正|紧急|急件|重要|.*(?:回执|退回).*"
    r"|(?:自动)?(?:回复|答复)|转发?|抄送|(?:已|未)?采用|(?i:re|fw|fwd|aw|wg|sv|tr)"
    r"|.*(?:局|部|科|队|中心|办|室|区|县|市|委|站)|[\d\s年月日号期第.\-/]+"
)
FIRST_LINES = 5  # a 栏目 line is looked for among the manuscript's first non-empty paragraphs
MAX_TAG = 12  # a longer bracketed text is a title or an emphasis, not a column name


def column_from(subject: str, paragraphs: Sequence[str], columns: Sequence[Column]) -> ColumnMatch | None:
    """The column a submission names: "栏目：xx" or a bracketed tag (【xx】, [xx]) in the subject, else a
    "栏目：xx" line among the manuscript's first lines. None when nothing names a column (routine
    information); a named but unknown column comes back with column None, for a warning in the receipt."""
    labelled = _LABELLED.search(subject)
    if labelled:
        return match_column(labelled.group(1), columns)
    for tag in _BRACKET.findall(subject):
        if len(_norm(tag)) <= MAX_TAG and not _NOT_COLUMN.fullmatch(_norm(tag)):
            return match_column(tag, columns)
    for line in [p for p in paragraphs if p.strip()][:FIRST_LINES]:
        named = _LINE.fullmatch(line)
        if named:
            return match_column(named.group(1), columns)
    return None
