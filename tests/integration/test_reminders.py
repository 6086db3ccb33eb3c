"""Quota reminders with fixed dates, sent through a real SMTP server; the registry import."""

from __future__ import annotations

import email
import email.policy
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from mailbot import reminders, schedule
from mailbot.adapters.db import Item, Liaison, Reminder, Unit
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from tests.helpers import REPO, UNITS, config_file  # noqa: F401 - also imported from here by older tests
from tests.servers import SmtpSink


def add_item(app: App, unit: str, when: datetime, title: str = "信息") -> None:
    with Session(app.engine) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.name == unit)).one()
        seq = len(s.exec(select(Item)).all()) + 1
        s.add(
            Item(
                number=f"2026-{seq:04d}",
                year=2026,
                seq=seq,
                unit_id=unit_id,
                title=f"{title}{seq}",
                content_hash=f"h{seq}",
                received_at=when,
            )
        )
        s.commit()


def reminded(smtp: SmtpSink) -> dict[str, str]:
    out = {}
    for m in smtp.messages:
        msg = email.message_from_bytes(m.data, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        assert body is not None
        out[",".join(sorted(m.rcpt_tos))] = str(msg["Subject"]) + "\n" + body.get_content()
    return out


def test_week_boundary_decides_who_is_reminded(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    path = config_file(tmp_path, smtp_sink)
    app = build(load_config(path))
    # Asia/Shanghai: 2026-11-22 23:59 is Sunday of W47; 2026-11-23 00:00 is Monday of W48.
    add_item(app, "盘山县应急管理局", datetime(2026, 11, 22, 15, 59, tzinfo=UTC))  # last minute of W47
    add_item(app, "大洼区应急管理局", datetime(2026, 11, 22, 16, 0, tzinfo=UTC))  # first minute of W48
    assert main(["--config", str(path), "remind", "--date", "2026-11-25"]) == 0
    got = reminded(smtp_sink)
    assert set(got) == {"panshan2@example.com,panshan@example.com", "xuanjiao@example.com"}
    text = got["panshan2@example.com,panshan@example.com"]
    assert "盘山县应急管理局：本周还差1条" in text
    assert "本周（11月23日至11月29日）：应报 1 条，已收录 0 条，还差 1 条，请于 11月27日 前报送" in text
    assert "本月" not in text  # 11-25 is before the month's last three working days

    # Never twice for the same week, even when asked again (11-24 is still before the month-end window).
    assert main(["--config", str(path), "remind", "--date", "2026-11-24"]) == 0
    assert len(smtp_sink.messages) == 2


def test_month_end_adds_the_monthly_quota(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    path = config_file(tmp_path, smtp_sink)
    app = build(load_config(path))
    for day in (3, 10, 17, 24):  # four items in November, one of them this week
        add_item(app, "大洼区应急管理局", datetime(2026, 11, day, 2, 0, tzinfo=UTC))
    add_item(app, "盘山县应急管理局", datetime(2026, 11, 24, 2, 0, tzinfo=UTC), title="演练")
    assert main(["--config", str(path), "remind", "--date", "2026-11-27"]) == 0
    got = reminded(smtp_sink)
    assert "dawa@example.com" not in got  # weekly and monthly met
    panshan = got["panshan2@example.com,panshan@example.com"]
    assert "本月（11月1日至11月30日）：应报 4 条，已收录 1 条，还差 3 条，请于 11月30日 前报送" in panshan
    assert "本周" not in panshan and "2026-0005  演练5" in panshan
    with Session(app.engine) as s:
        kinds = {(r.kind, r.period) for r in s.exec(select(Reminder))}
    assert kinds == {("monthly", "2026-11"), ("weekly", "2026-W48")}


def test_national_day_week_and_relaxed_weeks(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    cfg = load_config(config_file(tmp_path, smtp_sink))
    # 2026 National Day: 10-01..10-07 off, Saturday 10-10 a make-up working day.
    assert reminders.due_periods(cfg, date(2026, 10, 9), scheduled=True)[0].label == "2026-W41"
    assert reminders.due_periods(cfg, date(2026, 10, 8), scheduled=True) == []
    relaxed = load_config(config_file(tmp_path, smtp_sink, '[quotas]\nrelaxed_weeks = ["2026-W41"]'))
    app = build(relaxed)
    assert reminders.plan(relaxed, app.engine, date(2026, 10, 9), scheduled=True) == []
    # Spring Festival 2026-W08 has no working day: nothing is scheduled that week.
    assert all(reminders.due_periods(cfg, date(2026, 2, d), scheduled=True) == [] for d in range(16, 23))


def test_per_kind_quota(tmp_path: Path, smtp_sink: SmtpSink) -> None:
    extra = '[quotas.kinds."科室"]\nweekly = 0\nmonthly = 2\n'
    cfg = load_config(config_file(tmp_path, smtp_sink, extra))
    app = build(cfg)
    plans = reminders.plan(cfg, app.engine, date(2026, 11, 25), scheduled=False)
    assert sorted(p.unit for p in plans) == ["大洼区应急管理局", "盘山县应急管理局"]


def test_dry_run_sends_and_records_nothing(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, smtp_sink)
    assert main(["--config", str(path), "remind", "--date", "2026-11-25", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "宣教科  ->  xuanjiao@example.com（2026-W48：已报 0 条，应报 1 条）" in out and "应发提醒 3 封" in out
    assert smtp_sink.messages == []
    with Session(build(load_config(path)).engine) as s:
        assert s.exec(select(Reminder)).all() == []


def test_scheduled_daily_job_runs_once_per_period(
    tmp_path: Path, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = build(load_config(config_file(tmp_path, smtp_sink)))
    monkeypatch.setattr(schedule, "local_today", lambda _app: date(2026, 11, 26))  # Thursday of W48
    stop = threading.Event()
    schedule.daily(app, stop)
    schedule.daily(app, stop)  # a restart or a catch-up run the same day
    with Session(app.engine) as s:
        rows = s.exec(select(Reminder)).all()
    assert sorted((r.kind, r.period) for r in rows).count(("weekly", "2026-W48")) == 3
    assert len(rows) == 6  # three units, week and month (11-26 is in November's last three working days)


def test_units_import_from_xlsx_and_csv(
    tmp_path: Path, smtp_sink: SmtpSink, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config_file(tmp_path, smtp_sink)
    book = Workbook()
    sheet = book.active
    sheet.append(["信息宣传员登记表"])
    sheet.append(["单位（科室）", "姓名", "联系电话", "微信号", "邮箱"])
    sheet.append(["高新区应急管理部", "郑凯", 13800000000, "zk_wx", "GXQ@example.com"])
    sheet.append(["盘山县应急管理局", "李新", "0427-1", "", "panshan.new@example.com"])
    book.save(tmp_path / "附件4.xlsx")
    assert main(["--config", str(path), "units", "import", str(tmp_path / "附件4.xlsx")]) == 0
    assert "已导入 2 个单位、2 名宣传员" in capsys.readouterr().out
    app = build(load_config(path))
    with Session(app.engine) as s:
        gxq = s.exec(select(Liaison).where(Liaison.email == "gxq@example.com")).one()
        assert (gxq.name, gxq.phone, gxq.wechat, gxq.active) == ("郑凯", "13800000000", "zk_wx", True)
        # Config liaisons of the same unit are kept: each source manages its own entries.
        assert s.exec(select(Liaison).where(Liaison.email == "panshan@example.com")).one().active

    # A new table for 盘山县 names someone else: the imported liaison is retired, not deleted.
    (tmp_path / "new.csv").write_bytes("单位,姓名,邮箱\n盘山县应急管理局,王新,panshan.wx@example.com\n".encode("gbk"))
    assert main(["--config", str(path), "units", "import", str(tmp_path / "new.csv")]) == 0
    with Session(app.engine) as s:
        old = s.exec(select(Liaison).where(Liaison.email == "panshan.new@example.com")).one()
        assert old.active is False
        assert s.exec(select(Liaison).where(Liaison.email == "gxq@example.com")).one().active  # other unit untouched

    (tmp_path / "bad.csv").write_text("单位,姓名,邮箱\n宣教科,陈静,not-an-email\n", encoding="utf-8")
    assert main(["--config", str(path), "units", "import", str(tmp_path / "bad.csv")]) == 1
    out = capsys.readouterr().out
    assert "第2行：邮箱格式不正确" in out and "未导入任何内容" in out

    assert main(["--config", str(path), "units", "list"]) == 0
    listing = capsys.readouterr().out
    assert "高新区应急管理部" in listing and "停用" in listing
