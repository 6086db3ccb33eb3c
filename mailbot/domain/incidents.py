"""Urgent incident reports (突发事件信息报告) from plain values: markers, 事发时间, deadlines, what is overdue.

The county's notice on incident reporting sets the clock: a written report within about half an hour of
the phone report (三(一)); a 核报 answered by phone within 20 minutes, in writing within 40 (三(二)); a
批示's 落实情况 the same day, 12 hours at the latest (三(三)); 首报, 续报, 终报 and 批示 feedback are the
key stages (四(一)) and 首报时效 and 核报 handling are assessed (四(五)). No I/O here: `now` always comes
from the caller, so the daemon, the CLI and the tests ask the same questions of the same rules.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from mailbot.domain.commands import CommandError
from mailbot.domain.vocabulary import DemandKind, IncidentStage

# ---- markers --------------------------------------------------------------------------------------

STAGE_WORDS: dict[str, IncidentStage] = {
    "首报": IncidentStage.FIRST,
    "初报": IncidentStage.FIRST,
    "续报": IncidentStage.FOLLOW_UP,
    "终报": IncidentStage.FINAL,
    "核报": IncidentStage.VERIFY,
    "核报反馈": IncidentStage.VERIFY,
    "核实反馈": IncidentStage.VERIFY,
    "批示落实": IncidentStage.FEEDBACK,
    "批示反馈": IncidentStage.FEEDBACK,
    "批示落实情况": IncidentStage.FEEDBACK,
}
# When several are written (a reply keeps the 【首报】 of the subject it answers), the later stage counts.
_PRECEDENCE = (
    IncidentStage.FINAL,
    IncidentStage.FEEDBACK,
    IncidentStage.VERIFY,
    IncidentStage.FOLLOW_UP,
    IncidentStage.FIRST,
)
_TAG = re.compile(r"[【\[〔]([^】\]〕]{1,20})[】\]〕]")
_OPENING = re.compile(r"\s*(" + "|".join(sorted(STAGE_WORDS, key=len, reverse=True)) + r")\s*[:：]")


def _tags(text: str) -> list[str]:
    return [re.sub(r"\s+", "", t) for t in _TAG.findall(text)]


def marked_stage(subject: str, first_lines: Sequence[str], markers: Sequence[str] = ()) -> IncidentStage | None:
    """The stage a report declares by a tag (【首报】, 【续报】...) in the subject or on the first line of the
    body or manuscript, or by opening that line with it ("续报：..."). A tag holding one of the office's
    `markers` (【突发事件】, 【紧急】) makes a 首报. None: routine mail."""
    places = [subject, *first_lines]
    found: set[IncidentStage] = set()
    for text in places:
        found.update(STAGE_WORDS[t] for t in _tags(text) if t in STAGE_WORDS)
    for line in first_lines:
        opening = _OPENING.match(line)
        if opening:
            found.add(STAGE_WORDS[opening.group(1)])
    for stage in _PRECEDENCE:
        if stage in found:
            return stage
    words = [m.strip() for m in markers if m.strip()]
    if any(word in tag for text in places for tag in _tags(text) for word in words):
        return IncidentStage.FIRST
    return None


def first_line(text: str) -> str:
    """The first line that is neither blank nor quoted reply text."""
    for line in text.splitlines():
        line = line.strip().replace("\u3000", " ")
        if line and not line.startswith(">"):
            return line
    return ""


# ---- incident numbers -----------------------------------------------------------------------------


def incident_number(prefix: str, year: int, seq: int) -> str:
    """SJ-2026-007: the prefix, the local year of the 首报, its sequence in that year."""
    return f"{prefix}-{year}-{seq:03d}"


def numbers_in(text: str, prefix: str) -> list[str]:
    """Incident numbers written in `text` (case and dash width forgiven), in order, each once."""
    pattern = re.compile(rf"(?<![A-Za-z]){re.escape(prefix)}\s*[-－—]\s*(\d{{4}})\s*[-－—]\s*(\d{{1,6}})", re.I)
    found = [incident_number(prefix, int(m.group(1)), int(m.group(2))) for m in pattern.finditer(text)]
    return list(dict.fromkeys(found))


# ---- 事发时间 ---------------------------------------------------------------------------------------

_LABEL = re.compile(r"(?:事发|发生|事件发生)时间\s*[:：为是]?\s*(.*)")
_DATE_CN = re.compile(r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]")
_DATE_ISO = re.compile(r"(?P<y>\d{4})\s*[-/.]\s*(?P<m>\d{1,2})\s*[-/.]\s*(?P<d>\d{1,2})")
_PARTS = "凌晨|早晨|清晨|早上|上午|中午|午间|下午|傍晚|晚上|夜间|夜里|深夜|晚间|当晚|当天|当日|今天|今日|昨天|昨日|昨晚"
_CLOCK = re.compile(
    rf"\s*(?P<part>{_PARTS})?\s*(?:(?P<part2>{_PARTS})\s*)?"
    r"(?P<h>\d{1,2})\s*(?:时|点|:|：)\s*(?:(?P<min>\d{1,2})\s*分?|(?P<half>半))?"
)
_EVENING = {"下午", "傍晚", "晚上", "晚间", "当晚", "昨晚"}
_NIGHT = {"夜间", "夜里", "深夜"}
_YESTERDAY = {"昨天", "昨日", "昨晚"}
BODY_LINES = 6  # an unlabelled time is looked for in the report's opening lines only


def _hour(h: int, parts: set[str]) -> int:
    if parts & _EVENING and h < 12:
        return h + 12
    if parts & _NIGHT and 6 <= h < 12:
        return h + 12
    if "中午" in parts and h < 3:
        return h + 12
    return h


def _clock(text: str) -> tuple[time, set[str], int] | None:
    m = _CLOCK.match(text)
    if not m:
        return None
    h = int(m.group("h"))
    minute = 30 if m.group("half") else int(m.group("min") or 0)
    parts = {p for p in (m.group("part"), m.group("part2")) if p}
    h = _hour(h, parts)
    if not (0 <= h <= 23 and 0 <= minute <= 59):
        return None
    return time(h, minute), parts, m.end()


def _read(text: str, received: datetime, need_date: bool) -> datetime | None:
    """One time expression near the start of `text`: a date (with or without the year) and a clock, or
    with `need_date` False also a bare clock ("上午9时许" on the day the report arrived, or the day before
    when that would be after the report)."""
    tz = received.tzinfo
    dated = _DATE_ISO.search(text) or _DATE_CN.search(text)
    if dated:
        at = _clock(text[dated.end() :])
        if at is None:
            return None
        clock, _parts, _end = at
        year = int(dated.group("y")) if dated.group("y") else received.year
        try:
            day = date(year, int(dated.group("m")), int(dated.group("d")))
        except ValueError:
            return None
        moment = datetime.combine(day, clock, tz)
        if not dated.group("y") and moment > received + timedelta(days=1):  # 12月31日 read on 1月1日
            moment = moment.replace(year=year - 1)
        return moment
    if need_date:
        return None
    at = _clock(text)
    if at is None:
        return None
    clock, parts, _end = at
    moment = datetime.combine(received.date(), clock, tz)
    if parts & _YESTERDAY or moment > received:
        moment -= timedelta(days=1)
    return moment


def incident_time(lines: Sequence[str], received: datetime) -> datetime | None:
    """事发时间 from a report's lines: a labelled line ("事发时间：2026年12月2日9时30分") first, else a date
    and time among the opening lines ("12月2日上午9时许，……"). `received` (aware, local) fills in a year
    or day left out. None when no time can be read: the receipt asks for it instead of guessing."""
    for line in lines:
        label = _LABEL.search(line)
        if label:
            moment = _read(label.group(1), received, need_date=False)
            if moment is not None:
                return moment
    for line in [x for x in lines if x.strip()][:BODY_LINES]:
        moment = _read(line, received, need_date=True)
        if moment is not None:
            return moment
    return None


def delay_minutes(occurred: datetime | None, received: datetime) -> int | None:
    """Minutes from the incident to the report; None when unknown or when 事发时间 is after arrival."""
    if occurred is None or occurred > received + timedelta(minutes=1):
        return None
    return max(0, int((received - occurred).total_seconds() // 60))


def duration_text(minutes: int) -> str:
    """ "45分钟", "2小时15分钟", "1天3小时": how people say a delay."""
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}天{hours}小时" if hours else f"{days}天"
    if hours:
        return f"{hours}小时{mins}分钟" if mins else f"{hours}小时"
    return f"{mins}分钟"


# ---- deadlines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    """The time limits as the office configured them (defaults: the notice's own)."""

    verify_phone_minutes: int = 20  # 三(二)
    verify_written_minutes: int = 40  # 三(二)
    instruction_hours: int = 12  # 三(三) 最迟不得超过12小时
    instruction_same_day: bool = True  # 三(三) 原则上批示当天即报送
    final_report_hours: int = 24  # a 首报 without 终报 after this long gets a reminder
    final_reminder_hours: int = 24  # and another every this many hours


def demand_due(kind: DemandKind, asked: datetime, limits: Deadlines) -> datetime:
    """When the answer to a 核报 or 批示 asked at `asked` (aware, local) is due."""
    if kind == DemandKind.VERIFY_PHONE:
        return asked + timedelta(minutes=limits.verify_phone_minutes)
    if kind == DemandKind.VERIFY_WRITTEN:
        return asked + timedelta(minutes=limits.verify_written_minutes)
    latest = asked + timedelta(hours=limits.instruction_hours)
    if not limits.instruction_same_day:
        return latest
    end_of_day = datetime.combine(asked.date() + timedelta(days=1), time(0), asked.tzinfo)
    return min(latest, end_of_day)


# ---- the watch ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenDemand:
    id: int
    incident_id: int
    kind: DemandKind
    due: datetime


@dataclass(frozen=True)
class OpenIncident:
    id: int
    first_at: datetime  # arrival of the 首报


@dataclass(frozen=True)
class Alert:
    """One mail the watch owes; `key` is unique per alert, so it is sent once whoever runs the watch."""

    key: str
    what: str  # overdue | final_reminder | final_note
    incident_id: int
    demand_id: int | None = None
    count: int = 0  # which 终报 reminder this is


def due_alerts(
    demands: Iterable[OpenDemand], incidents: Iterable[OpenIncident], now: datetime, limits: Deadlines
) -> list[Alert]:
    """Every alert owed at `now`: each unanswered demand past its deadline, and for an incident without
    终报 the reminder of the current interval (after a long outage: the latest one, not a burst) plus one
    note to the duty office."""
    alerts = [Alert(f"overdue:{d.id}", "overdue", d.incident_id, d.id) for d in demands if now >= d.due]
    first_after = timedelta(hours=limits.final_report_hours)
    every = timedelta(hours=max(1, limits.final_reminder_hours))
    for inc in incidents:
        since = now - (inc.first_at + first_after)
        if since < timedelta(0):
            continue
        n = 1 + int(since / every)
        alerts.append(Alert(f"final:{inc.id}:{n}", "final_reminder", inc.id, count=n))
        alerts.append(Alert(f"final-note:{inc.id}", "final_note", inc.id))
    return alerts


def answered_in_time(answered: datetime | None, due: datetime, now: datetime) -> bool | None:
    """True on time, False late (or still unanswered after the deadline), None not due yet."""
    if answered is not None:
        return answered <= due
    return False if now >= due else None


# ---- the bulletin ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentLine:
    """四(五): one unit's incident reporting in a period, as the bulletin prints it."""

    unit: str
    reported: int
    median_delay: str  # 首报 after the incident; "—" without a readable 事发时间
    longest_delay: str
    verify_on_time: int
    verify_late: int
    feedback_on_time: int
    feedback_late: int


def incident_line(
    unit: str, reported: int, delays: Sequence[int], verify: Sequence[bool | None], feedback: Sequence[bool | None]
) -> IncidentLine:
    """A unit's line from its 首报 delays (minutes) and each demand's `answered_in_time`."""
    median = duration_text(int(statistics.median(delays))) if delays else "—"
    longest = duration_text(max(delays)) if delays else "—"
    return IncidentLine(
        unit,
        reported,
        median,
        longest,
        sum(1 for v in verify if v is True),
        sum(1 for v in verify if v is False),
        sum(1 for v in feedback if v is True),
        sum(1 for v in feedback if v is False),
    )


# ---- office commands ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentCommand:
    action: str  # verify | verify_answered | instruct | instruct_answered
    number: str | None
    kind: DemandKind | None = None
    text: str = ""


INCIDENT_USAGE = (
    "突发事件指令：\n"
    "  核报 SJ-2026-007 电话|书面（电话 20 分钟内、书面 40 分钟内反馈）\n"
    "  核报 SJ-2026-007 已电话反馈（登记单位已电话反馈）\n"
    "  批示 SJ-2026-007 批示内容（单位须当天、最迟 12 小时内反馈落实情况）\n"
    "  批示 SJ-2026-007 已反馈（登记单位已电话反馈落实情况）\n"
    "回复事件通知邮件时可省略事件编号。"
)
_ANSWERED = re.compile(r"^(已电话反馈|电话已反馈|已反馈|已电话核报|已落实|已电话反馈落实情况)[。.]?$")


def parse_incident_command(verb: str, rest: str, prefix: str) -> IncidentCommand:
    """`verb` is verify (核报) or instruct (批示), `rest` the words after it; a reply may leave out the number."""
    numbers = numbers_in(rest, prefix)
    number = numbers[0] if numbers else None
    if number:
        pattern = rf"(?<![A-Za-z]){re.escape(prefix)}\s*[-－—]\s*\d{{4}}\s*[-－—]\s*\d{{1,6}}"
        rest = re.sub(pattern, " ", rest, count=1, flags=re.I)
    words = rest.strip(" :：，,").strip()
    answered = _ANSWERED.match(words.replace(" ", "")) is not None
    if verb == "verify":
        if answered:
            return IncidentCommand("verify_answered", number)
        squeezed = words.replace(" ", "")
        if squeezed in ("", "电话", "电话反馈", "电话核报"):
            return IncidentCommand("verify", number, DemandKind.VERIFY_PHONE)
        if squeezed in ("书面", "书面反馈", "书面核报", "书面报告"):
            return IncidentCommand("verify", number, DemandKind.VERIFY_WRITTEN)
        raise CommandError(f"“核报”后面应写“电话”或“书面”，不认识“{words}”。\n" + INCIDENT_USAGE)
    if answered:
        return IncidentCommand("instruct_answered", number)
    if not words:
        raise CommandError("“批示”需要写明批示内容。\n" + INCIDENT_USAGE)
    return IncidentCommand("instruct", number, DemandKind.INSTRUCTION, words)
