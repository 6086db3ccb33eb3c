"""The incident rules from plain values: markers, 事发时间, deadlines, what is overdue, the commands."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from mailbot.domain.commands import CommandError, looks_like_command, parse_command
from mailbot.domain.incidents import (
    Deadlines,
    OpenDemand,
    OpenIncident,
    answered_in_time,
    delay_minutes,
    demand_due,
    due_alerts,
    duration_text,
    incident_line,
    incident_time,
    marked_stage,
    numbers_in,
    parse_incident_command,
)
from mailbot.domain.triage import Arrival, Route, triage
from mailbot.domain.vocabulary import DemandKind, IncidentStage

TZ = ZoneInfo("Asia/Shanghai")
RECEIVED = datetime(2026, 12, 2, 10, 5, tzinfo=TZ)


@pytest.mark.parametrize(
    "subject, lines, stage",
    [
        ("【首报】盘山县某化工厂发生火灾", [], IncidentStage.FIRST),
        ("关于火灾情况", ["【续报】截至11时，明火已扑灭"], IncidentStage.FOLLOW_UP),
        ("关于火灾情况", ["终报：事件处置完毕"], IncidentStage.FINAL),
        ("Re: 【首报已收到】SJ-2026-001 【首报】火灾", ["【终报】"], IncidentStage.FINAL),
        ("Re: 【紧急】【核报】SJ-2026-001", [], IncidentStage.VERIFY),
        ("【批示落实】SJ-2026-001", [], IncidentStage.FEEDBACK),
        ("【突发事件】某村民房倒塌", [], IncidentStage.FIRST),  # an office marker
        ("【紧急信息】道路塌陷", [], IncidentStage.FIRST),
        ("【新闻时事】开展应急演练", ["盘山县应急管理局开展演练"], None),
        ("首报演练总结", [], None),  # the word outside a tag is not a marker
    ],
)
def test_markers(subject: str, lines: list[str], stage: IncidentStage | None) -> None:
    assert marked_stage(subject, lines, ("突发事件", "紧急")) == stage


def test_markers_without_office_words() -> None:
    assert marked_stage("【紧急】道路塌陷", [], ()) is None


def test_incident_numbers_are_read_forgivingly() -> None:
    assert numbers_in("Re: 【续报】sj-2026-7 与 SJ－2026－007", "SJ") == ["SJ-2026-007"]
    assert numbers_in("XSJ-2026-001", "SJ") == []


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["事发时间：2026年12月2日9时30分"], datetime(2026, 12, 2, 9, 30, tzinfo=TZ)),
        (["12月2日上午9时许，盘山县某化工厂发生火灾。"], datetime(2026, 12, 2, 9, 0, tzinfo=TZ)),
        (["事发时间：12月1日下午3时20分"], datetime(2026, 12, 1, 15, 20, tzinfo=TZ)),
        (["发生时间：2026-12-02 08:45"], datetime(2026, 12, 2, 8, 45, tzinfo=TZ)),
        (["事发时间：凌晨2点半"], datetime(2026, 12, 2, 2, 30, tzinfo=TZ)),
        (["事发时间：晚上11时"], datetime(2026, 12, 1, 23, 0, tzinfo=TZ)),  # later than arrival: the day before
        (["事发时间：昨晚8时10分"], datetime(2026, 12, 1, 20, 10, tzinfo=TZ)),
        (["标题", "", "事件发生时间为12月2日9:10"], datetime(2026, 12, 2, 9, 10, tzinfo=TZ)),
        (["12月2日，3人受伤"], None),  # a date without a clock is not guessed
        (["今年以来开展检查30次"], None),
    ],
)
def test_incident_time(lines: list[str], expected: datetime | None) -> None:
    assert incident_time(lines, RECEIVED) == expected


def test_a_date_without_year_across_new_year() -> None:
    received = datetime(2027, 1, 1, 0, 20, tzinfo=TZ)
    assert incident_time(["12月31日23时50分许"], received) == datetime(2026, 12, 31, 23, 50, tzinfo=TZ)


def test_delay_and_its_words() -> None:
    assert delay_minutes(datetime(2026, 12, 2, 9, 30, tzinfo=TZ), RECEIVED) == 35
    assert delay_minutes(None, RECEIVED) is None
    assert delay_minutes(RECEIVED + timedelta(hours=1), RECEIVED) is None
    assert [duration_text(m) for m in (35, 60, 135, 1440, 1500)] == [
        "35分钟",
        "1小时",
        "2小时15分钟",
        "1天",
        "1天1小时",
    ]


def test_deadlines() -> None:
    limits = Deadlines()
    asked = datetime(2026, 12, 2, 10, 0, tzinfo=TZ)
    assert demand_due(DemandKind.VERIFY_PHONE, asked, limits) == asked + timedelta(minutes=20)
    assert demand_due(DemandKind.VERIFY_WRITTEN, asked, limits) == asked + timedelta(minutes=40)
    # 三(三): the same day, 12 hours at the latest
    assert demand_due(DemandKind.INSTRUCTION, asked, limits) == datetime(2026, 12, 2, 22, 0, tzinfo=TZ)
    evening = datetime(2026, 12, 2, 20, 0, tzinfo=TZ)
    assert demand_due(DemandKind.INSTRUCTION, evening, limits) == datetime(2026, 12, 3, 0, 0, tzinfo=TZ)
    later = Deadlines(instruction_same_day=False)
    assert demand_due(DemandKind.INSTRUCTION, evening, later) == datetime(2026, 12, 3, 8, 0, tzinfo=TZ)


def test_what_is_overdue() -> None:
    limits = Deadlines(final_report_hours=24, final_reminder_hours=12)
    due = datetime(2026, 12, 2, 10, 40, tzinfo=TZ)
    demands = [OpenDemand(1, 7, DemandKind.VERIFY_WRITTEN, due)]
    incidents = [OpenIncident(7, datetime(2026, 12, 2, 10, 0, tzinfo=TZ))]
    assert due_alerts(demands, incidents, due - timedelta(seconds=1), limits) == []
    assert [a.key for a in due_alerts(demands, incidents, due, limits)] == ["overdue:1"]
    day_after = datetime(2026, 12, 3, 10, 0, tzinfo=TZ)
    assert [a.key for a in due_alerts([], incidents, day_after, limits)] == ["final:7:1", "final-note:7"]
    # after an outage: the current reminder only, never a burst of the missed ones
    much_later = day_after + timedelta(hours=37)
    assert [a.key for a in due_alerts([], incidents, much_later, limits)] == ["final:7:4", "final-note:7"]


def test_answered_in_time() -> None:
    due = datetime(2026, 12, 2, 10, 40, tzinfo=TZ)
    assert answered_in_time(due, due, due) is True
    assert answered_in_time(due + timedelta(minutes=1), due, due) is False
    assert answered_in_time(None, due, due - timedelta(minutes=1)) is None
    assert answered_in_time(None, due, due) is False


def test_a_bulletin_line() -> None:
    line = incident_line("盘山县应急管理局", 3, [35, 90, 20], [True, False, None], [True])
    assert (line.median_delay, line.longest_delay) == ("35分钟", "1小时30分钟")
    assert (line.verify_on_time, line.verify_late, line.feedback_on_time, line.feedback_late) == (1, 1, 1, 0)
    assert incident_line("宣教科", 0, [], [], []).median_delay == "—"


def test_commands() -> None:
    assert looks_like_command("核报 SJ-2026-007 书面")
    command = parse_command("核报 SJ-2026-007 书面")
    assert parse_incident_command(command.verb, command.reason, "SJ").kind == DemandKind.VERIFY_WRITTEN
    assert parse_incident_command("verify", "SJ-2026-007 电话", "SJ").kind == DemandKind.VERIFY_PHONE
    assert parse_incident_command("verify", "", "SJ").number is None
    assert parse_incident_command("verify", "SJ-2026-007 已电话反馈", "SJ").action == "verify_answered"
    instruct = parse_incident_command("instruct", "SJ-2026-007 全力救治伤员，查明原因", "SJ")
    assert (instruct.number, instruct.text) == ("SJ-2026-007", "全力救治伤员，查明原因")
    assert parse_incident_command("instruct", "SJ-2026-007 已反馈", "SJ").action == "instruct_answered"
    with pytest.raises(CommandError, match="电话"):
        parse_incident_command("verify", "SJ-2026-007 马上", "SJ")
    with pytest.raises(CommandError, match="批示内容"):
        parse_incident_command("instruct", "SJ-2026-007", "SJ")


def _arrival(**changes: object) -> Arrival:
    base = dict(
        seen_before=False,
        loop=None,
        authenticated=True,
        from_admin=False,
        looks_like_command=False,
        answers_our_mail=True,
        has_attachments=False,
        liaison_known=True,
        replies_last_hour=0,
        replies_per_hour=20,
        incident=True,
    )
    return Arrival(**(base | changes))  # type: ignore[arg-type]


def test_triage_puts_a_plain_answer_on_the_fast_lane_but_not_an_unknown_sender() -> None:
    assert triage(_arrival()).route == Route.INCIDENT
    assert triage(_arrival(liaison_known=False, answers_our_mail=False)).route == Route.HOLD
    assert triage(_arrival(from_admin=True, looks_like_command=True)).route == Route.COMMAND
    assert triage(_arrival(incident=False)).route == Route.HOLD  # a bare reply to routine mail
