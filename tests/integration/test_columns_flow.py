"""Columns (栏目) through the whole desk: filing, points, warnings, missed cycles, health, reminders."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, select

from mailbot import digests, reminders
from mailbot.adapters.db import Item, Message, Outbox, Reminder, Unit
from mailbot.bootstrap import App, build
from mailbot.config import load_config
from mailbot.domain.calendar import parse_period
from mailbot.ports import MailRef
from mailbot.samples.archives import build_zip
from mailbot.samples.corpus import STORIES
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo
from tests.helpers import config_file, ingest
from tests.servers import SmtpSink

COLUMNS = """
[[columns]]
name = "动态要闻"
channel = "website"
cycle = "daily"
units = ["宣教科"]
points = 0.3
penalty = 0.3
photos = true
aliases = ["动态新闻"]
[[columns]]
name = "文件解读"
channel = "website"
cycle = "monthly"
units = ["宣教科"]
points = 0.5
penalty = 0.5
photos = false
[[columns]]
name = "通知公告"
channel = "website"
cycle = "weekly"
units = ["*"]
points = 0.3
penalty = 0.3
photos = false
[[columns]]
name = "部门领导"
channel = "website"
cycle = "on_change"
units = ["宣教科"]
points = 0.3
penalty = 0.3
photos = false
"""


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SmtpSink) -> App:
    return build(load_config(_with_columns(tmp_path, smtp_sink)))


def _with_columns(tmp_path: Path, smtp_sink: SmtpSink) -> Path:
    path = config_file(tmp_path, smtp_sink)
    path.write_text(path.read_text(encoding="utf-8") + COLUMNS, encoding="utf-8")
    return path


def submit(app: App, subject: str, uid: str, *, photos: bool = True) -> tuple[str, str]:
    title, body = STORIES["training"]
    members = [("稿件.docx", build_docx(f"{title}{uid}", body, ["撰稿人：宣教科陈静", "初审人：李四", "复审人：王五"]))]
    if photos:
        members.append(("照片.jpg", make_photo(1024, 768, seed=int(uid))))
    raw = build_mail("xuanjiao@example.com", subject, [("a.zip", build_zip(members))])
    outcome = ingest(app.desk, MailRef("m", "INBOX", 1, uid), raw)
    with Session(app.engine) as s:
        reply = s.exec(select(Message).where(Message.uid == uid)).one()
        item = s.get(Item, reply.item_id) if reply.item_id else None
        out = s.exec(select(Outbox).where(Outbox.message_pk == reply.id)).one()
        text = email.message_from_bytes(out.raw, policy=email.policy.default).get_body(("plain",)).get_content()
    return (f"{outcome.verdict}:{(item.column_name or '') if item else ''}:{item.points if item else ''}", text)


def test_filing_points_and_warnings(app: App) -> None:
    assert submit(app, "【动态要闻】市应急局召开安全生产例会", "1")[0] == "receipt:动态要闻:0.3"
    got, text = submit(app, "【文件解读】《安全生产法》解读", "2", photos=False)
    assert got == "receipt:文件解读:0.5"  # a policy interpretation earns 0.5 and needs no photo
    assert "计入栏目：文件解读" in text and "本稿得分：0.5 分" in text
    got, text = submit(app, "【动态新闻】应急演练", "3")
    assert got == "receipt:动态要闻:0.3" and "栏目“动态新闻”已按“动态要闻”登记" in text
    got, text = submit(app, "【工作简报】第五期", "4")
    assert got == "receipt::0.3" and "没有名为“工作简报”的栏目" in text and "文件解读" in text
    got, _text = submit(app, "【动态要闻】没有照片的动态", "5", photos=False)
    assert got.startswith("rejection")  # news columns need photos


def seed(app: App) -> None:
    """宣教科 sends 文件解读 in October only; 通知公告 (weekly, every unit) only from 盘山县 in W45."""
    with Session(app.engine) as s:
        ids = {u.name: u.id for u in s.exec(select(Unit))}
        rows = [
            (1, "宣教科", "文件解读", datetime(2026, 10, 9, 2, tzinfo=UTC)),
            (2, "盘山县应急管理局", "通知公告", datetime(2026, 11, 3, 2, tzinfo=UTC)),
            (3, "宣教科", "部门领导", datetime(2026, 11, 4, 2, tzinfo=UTC)),
        ]
        for seq, unit, column, when in rows:
            s.add(
                Message(
                    mailbox="m",
                    folder="INBOX",
                    uidvalidity=1,
                    uid=f"s{seq}",
                    sha256=f"x{seq}",
                    raw_path="x",
                    received_at=datetime(2026, 10, 1, 1, tzinfo=UTC),
                    state="filed",
                    verdict="receipt",
                    unit_id=ids[unit],
                )
            )
            s.add(
                Item(
                    number=f"2026-{seq:04d}",
                    year=2026,
                    seq=seq,
                    unit_id=ids[unit],
                    title=f"t{seq}",
                    content_hash=f"h{seq}",
                    received_at=when,
                    points=0.3,
                    column_name=column,
                )
            )
        s.commit()


def test_missed_cycles_are_deducted_once_and_shown(app: App) -> None:
    seed(app)
    nov = parse_period("2026-11")
    report = digests.build_report(app.config, app.engine, "monthly", nov, today=date(2026, 12, 2))
    lines = {u.unit: u for u in report.units}
    # 宣教科: 文件解读 missing in November (-0.5); 动态要闻 is daily with 宣教科 responsible: each of
    # November's 21 working days missed (21 x -0.3). 通知公告 (各科室及单位) is a shared duty: the weeks
    # nobody sent one are the collective's miss, shown in the column table and deducted from no member.
    assert lines["宣教科"].deductions == pytest.approx(-0.5 - 21 * 0.3)
    # 盘山县 sent 通知公告 in W45: it kept that week for everyone and earned 0.3 as a column item.
    assert lines["盘山县应急管理局"].deductions == 0
    assert lines["盘山县应急管理局"].column_points == pytest.approx(0.3)
    health = {c.name: c for c in report.columns}
    assert health["文件解读"].status == "逾期" and health["文件解读"].overdue == ("宣教科",)
    assert health["部门领导"].status == "即时更新" and health["部门领导"].missing == 0  # never overdue
    # W44 and W46-W48 went without one: 4 missed, under the collective's name.
    assert health["通知公告"].received == 1 and health["通知公告"].overdue == ("各科室及单位",)
    assert health["通知公告"].missing == 4
    # The same bulletin built again deducts the same amounts: computed, never accumulated.
    again = digests.build_report(app.config, app.engine, "monthly", nov, today=date(2026, 12, 2))
    assert again.units == report.units

    # October: 文件解读 was sent, so no deduction for it; the mailbox's first message dates from October 1st.
    oct_report = digests.build_report(
        app.config, app.engine, "monthly", parse_period("2026-10"), today=date(2026, 12, 2)
    )
    assert not any("文件解读" in u for c in oct_report.columns if c.name == "文件解读" for u in c.overdue)


def test_column_reminder_before_the_cycle_closes(app: App, smtp_sink: SmtpSink) -> None:
    seed(app)
    # Friday 2026-11-27 is the last working day of W48: 通知公告 (weekly) is due from every unit but none came.
    assert reminders.send_column_reminders(app.config, app.engine, app.desk.renderer, date(2026, 11, 27)) == 3
    assert reminders.send_column_reminders(app.config, app.engine, app.desk.renderer, date(2026, 11, 27)) == 0
    app.desk.drain_outbox(app.transport)
    texts = {m.rcpt_tos[0]: m.message.get_body(("plain",)).get_content() for m in smtp_sink.messages}
    assert "《通知公告》（每周）：应报 1 条，已收录 0 条，还差 1 条，请于 11月27日 前报送" in texts["dawa@example.com"]
    assert "动态要闻" not in texts["xuanjiao@example.com"]  # daily columns are not reminded
    assert "《文件解读》（每月）" in texts["xuanjiao@example.com"]
    with Session(app.engine) as s:
        # 文件解读 closes on Monday 11-30, one working day away: 宣教科 is reminded of it in the same email.
        assert {r.period for r in s.exec(select(Reminder))} == {"通知公告 2026-W48", "文件解读 2026-11"}
