"""A whole month with the demo registry, through real Dovecot and SMTP: a unit that does what 三(一)1 asks
(one item every week, four or more in the month) and owns no column ends the month positive and undeducted;
a unit that sent its four items in one week is listed with the weeks it missed. Every figure of the October
bulletin for these two units is recomputed by hand below.

Time is driven by INTERNALDATE: each message is appended with the moment it "arrived", then all of them are
processed in one pass today, and the bulletin is built with `mailbot digest monthly --period 2026-10`.
"""

from __future__ import annotations

import email
import email.policy
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from mailbot import digests, ledger
from mailbot.adapters.db import Item, make_engine
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.calendar import WorkCalendar, parse_period
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import write_config
from tests.servers import DovecotServer, SmtpSink

TZ = ZoneInfo("Asia/Shanghai")
STEADY = ("双台子区应急管理局", "王丽", "stz.yjj@example.com")  # one item every week
BUNCHED = ("兴隆台区应急管理局", "刘洋", "xlt.yjj@example.com")  # four items in one week
# (unit, local arrival time). The first message (BUNCHED, 09-21) opens mailbot's records.
ARRIVALS = [
    (BUNCHED, datetime(2026, 9, 21, 10, 0, tzinfo=TZ)),  # W39, September
    (STEADY, datetime(2026, 9, 29, 9, 30, tzinfo=TZ)),  # W40 (09-28..10-04, judged in October), September
    (STEADY, datetime(2026, 10, 9, 16, 0, tzinfo=TZ)),  # W41
    (STEADY, datetime(2026, 10, 14, 11, 0, tzinfo=TZ)),  # W42
    (STEADY, datetime(2026, 10, 16, 15, 0, tzinfo=TZ)),  # W42
    (STEADY, datetime(2026, 10, 21, 10, 0, tzinfo=TZ)),  # W43
    (STEADY, datetime(2026, 10, 27, 9, 0, tzinfo=TZ)),  # W44 (ends 11-01: judged in November)
    (BUNCHED, datetime(2026, 10, 12, 9, 0, tzinfo=TZ)),  # W42 x 4
    (BUNCHED, datetime(2026, 10, 13, 9, 0, tzinfo=TZ)),
    (BUNCHED, datetime(2026, 10, 14, 9, 0, tzinfo=TZ)),
    (BUNCHED, datetime(2026, 10, 15, 9, 0, tzinfo=TZ)),
]


def piece(unit: str, person: str, sender: str, n: int, sender_name: str = "") -> bytes:
    """A routine news item as annex 3 shows it: text, photo, drafter and two different reviewers."""
    _title, body = STORIES["training"]
    title = f"{unit}开展第{n}次安全生产检查"
    docx = build_docx(title, [f"第{n}次检查。", *body], [f"撰稿人：{unit}{person}", "初审人：李建国", "复审人：王志刚"])
    files = [("稿件.zip", build_zip([("稿件.docx", docx), ("现场.jpg", make_photo(seed=n))]))]
    return build_mail(sender, title, files, sender_name=sender_name)


def test_a_month_under_the_rules(
    dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    config_path = write_config(tmp_path, dovecot, smtp_sink)
    for n, ((unit, person, sender), arrived) in enumerate(ARRIVALS, 1):
        dovecot.append(piece(unit, person, sender, n), msg_time=arrived)
    assert main(["--config", str(config_path), "poll", "--once"]) == 0
    smtp_sink.wait_for(len(ARRIVALS))

    config = load_config(config_path)
    engine = make_engine(config.database_url())
    with Session(engine) as s:
        items = s.exec(select(Item)).all()
    assert len(items) == len(ARRIVALS) and all(i.kind == "routine" and i.column_name is None for i in items)

    october = parse_period("2026-10")
    report = digests.build_report(config, engine, "monthly", october, today=date(2026, 12, 2))
    lines = {u.unit: u for u in report.units}
    steady, bunched = lines[STEADY[0]], lines[BUNCHED[0]]

    # STEADY: 10-09, 10-14, 10-16, 10-21, 10-27 arrived in October: 5 items x 0.3 = 1.5; it owns no column of
    # its own (通知公告 is shared by 各科室及单位, 新闻时事 is WeChat and kept by its weekly items): no deduction.
    assert (steady.received, steady.accepted, steady.rejected) == (5, 5, 0)
    assert steady.points == pytest.approx(5 * 0.3) and steady.points > 0
    assert steady.deductions == 0 and steady.column_points == 0
    assert (steady.adopted_city, steady.adopted_province, steady.adopted_national) == (0, 0, 0)
    # W40 was kept by 09-29 (a September item: the week closes on 10-04), W41..W43 by October's items.
    assert steady.quota_due == 4 and steady.quota_met and steady.missed_weeks == ()
    assert steady.ytd_accepted == 6 and steady.ytd_points == pytest.approx(6 * 0.3)  # + 09-29

    # BUNCHED: four items in W42 = 4 x 0.3 = 1.2; the month's 4 are there but W40, W41 and W43 have none.
    assert (bunched.received, bunched.accepted) == (4, 4)
    assert bunched.points == pytest.approx(4 * 0.3) and bunched.deductions == 0
    assert bunched.quota_due == 4 and not bunched.quota_met
    assert bunched.missed_weeks == ("2026-W40", "2026-W41", "2026-W43")
    assert bunched.ytd_accepted == 5 and bunched.ytd_points == pytest.approx(5 * 0.3)  # + 09-21

    # Nobody else sent anything: 1.5 ranks first, 1.2 second.
    assert (steady.rank, bunched.rank) == (1, 2)
    assert BUNCHED[0] in report.missed_quota and STEADY[0] not in report.missed_quota
    assert report.top_units[:2] == (STEADY[0], BUNCHED[0])

    health = {c.name: c for c in report.columns}
    # 新闻时事 (WeChat, any item keeps the week): shown for BUNCHED's missed weeks, never deducted.
    assert BUNCHED[0] in health["新闻时事"].overdue and STEADY[0] not in health["新闻时事"].overdue
    # 通知公告 is the collective's miss, not each member's.
    assert health["通知公告"].overdue == ("各科室及单位",)

    # The column table and the deductions agree: 动态要闻 (daily, 宣教科) days missed since mailbot's first
    # message (09-21) in September are the days deducted.
    september = parse_period("2026-09")
    sep_report = digests.build_report(config, engine, "monthly", september, today=date(2026, 12, 2))
    calendar = WorkCalendar()
    workdays = [d for d in calendar.workdays(september) if d >= date(2026, 9, 21)]
    assert {c.name: c for c in sep_report.columns}["动态要闻"].missing == len(workdays)
    with Session(engine) as s:
        entries = ledger.load_ledger(s, config, september.start, september.end, date(2026, 12, 2))
    daily = [e for e in entries if "动态要闻" in e.note]
    assert len(daily) == len(workdays) and sum(e.points for e in daily) == pytest.approx(-0.3 * len(workdays))

    # The bulletin itself, as the office gets it.
    out = tmp_path / "out"
    assert main(["--config", str(config_path), "digest", "monthly", "--period", "2026-10", "--out", str(out)]) == 0
    text = (out / "2026-10-monthly.txt").read_text(encoding="utf-8")
    assert f"{BUNCHED[0]}（第40周、第41周、第43周）" in text
    assert f"{STEADY[0]}（" not in text.split("（三）")[1]
    receipt = email.message_from_bytes(smtp_sink.messages[0].data, policy=email.policy.default)
    assert "您于 2026年" in receipt.get_body(("plain",)).get_content()
