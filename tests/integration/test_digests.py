"""Digests over a seeded month: totals, ranks, quota, the xlsx and chart, sent once by the scheduler."""

from __future__ import annotations

import email
import email.policy
import io
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import Session, select

from mailbot import digests, schedule
from mailbot.adapters.db import Adoption, Author, Deduction, DigestRun, Item, Message, Review, Unit
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.calendar import parse_period
from tests.helpers import config_file
from tests.servers import SmtpSink

PANSHAN, DAWA, XUANJIAO = "盘山县应急管理局", "大洼区应急管理局", "宣教科"


def seed_november(app: App) -> None:
    """Hand-checked figures for 2026-11 (Asia/Shanghai):

    盘山县: items 1 (张三), 2 (张三、李四 of 大洼区), 3 (张三), 4 (张三) -> 4 accepted;
             item 1 adopted by the province (3), item 2 by the city (1, split), item 4 returned.
             points: 0.3 + 3 (item 1) + 0.15 + 0.5 (item 2, half) + 0.3 (item 3) + 0 (item 4) = 4.25
    大洼区: item 5 (赵婷) + half of item 2 (李四): 0.3 + 0.15 + 0.5 = 0.95, minus a 0.5 deduction = 0.45
    宣教科: nothing: 0 points, missed quota, silent.
    A rejection from 大洼区 and an item of October (not counted) complete the picture.
    """
    with Session(app.engine) as s:
        ids = {u.name: u.id for u in s.exec(select(Unit))}

        def item(seq: int, unit: str, when: datetime, drafters: list[tuple[str, str]], status: str = "received") -> int:
            row = Item(
                number=f"2026-{seq:04d}",
                year=2026,
                seq=seq,
                unit_id=ids[unit],
                title=f"信息{seq}",
                content_hash=f"h{seq}",
                received_at=when,
                points=0.3,
                status=status,
            )
            s.add(row)
            s.flush()
            assert row.id is not None
            for name, u in drafters:
                s.add(Author(item_id=row.id, name=name, unit_id=ids[u], share=0.3 / len(drafters)))
            s.add(
                Message(
                    mailbox="m",
                    folder="INBOX",
                    uidvalidity=1,
                    uid=str(seq),
                    sha256=f"s{seq}",
                    raw_path="x",
                    received_at=when,
                    state="filed",
                    verdict="receipt",
                    unit_id=ids[unit],
                    item_id=row.id,
                )
            )
            return row.id

        nov = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
        one = item(1, PANSHAN, nov, [("张三", PANSHAN)])
        two = item(2, PANSHAN, nov, [("张三", PANSHAN), ("李四", DAWA)])
        item(3, PANSHAN, nov, [("张三", PANSHAN)])
        four = item(4, PANSHAN, nov, [("张三", PANSHAN)], status="returned")
        item(5, DAWA, nov, [("赵婷", DAWA)])
        item(6, DAWA, datetime(2026, 10, 31, 15, 59, tzinfo=UTC), [("赵婷", DAWA)])  # 10-31 23:59 local
        s.add(Adoption(item_id=one, level="province", on=date(2026, 11, 20), by="t"))
        s.add(Adoption(item_id=two, level="city", on=date(2026, 11, 21), by="t"))
        s.add(Review(item_id=four, decision="returned", reason="数据有误", by="t"))
        s.add(Deduction(unit_id=ids[DAWA], points=0.5, reason="信息失实", on=date(2026, 11, 25), by="t"))
        s.add(
            Message(
                mailbox="m",
                folder="INBOX",
                uidvalidity=1,
                uid="99",
                sha256="r",
                raw_path="x",
                received_at=nov,
                state="filed",
                verdict="rejection",
                unit_id=ids[DAWA],
                sender="dawa@example.com",
                subject="报送",
                reasons="missing_photos",
                problems="新闻类信息需要“文字+影像”，但没有找到照片。",
            )
        )
        s.commit()


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SmtpSink) -> App:
    built = build(load_config(config_file(tmp_path, smtp_sink, '[office]\nrecipients = ["office@example.com"]')))
    seed_november(built)
    return built


def test_monthly_bulletin_figures(app: App) -> None:
    report = digests.build_report(app.config, app.engine, "monthly", parse_period("2026-11"))
    lines = {u.unit: u for u in report.units}
    assert [u.unit for u in report.units] == [PANSHAN, DAWA, XUANJIAO]
    assert (lines[PANSHAN].points, lines[PANSHAN].rank, lines[PANSHAN].accepted) == (4.25, 1, 3)
    assert (lines[PANSHAN].adopted_province, lines[PANSHAN].adopted_city) == (1, 1)
    assert (lines[DAWA].points, lines[DAWA].rank, lines[DAWA].rejected, lines[DAWA].received) == (0.45, 2, 1, 2)
    assert lines[DAWA].ytd_points == 0.75  # + October's 0.3
    assert lines[XUANJIAO].points == 0 and not lines[XUANJIAO].quota_met
    # 4 due a month: 盘山县 has 3 (its returned item does not count), 大洼区 1, 宣教科 none.
    assert report.missed_quota == (PANSHAN, DAWA, XUANJIAO)
    assert report.silent_units == (XUANJIAO,)
    assert report.top_units == (PANSHAN, DAWA)
    people = {(p.name, p.unit): p.points for p in report.people}
    assert people == {("张三", PANSHAN): 4.25, ("李四", DAWA): 0.65, ("赵婷", DAWA): 0.3}
    assert report.totals.accepted == 4 and report.totals.adopted == 2 and report.totals.rejected == 1
    assert report.rejections[0].reasons == ("新闻类信息需要“文字+影像”，但没有找到照片。",)


def test_digest_files_open_as_the_office_would(app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert (
        main(["--config", str(tmp_path / "config.toml"), "digest", "monthly", "--period", "2026-11", "--out", str(out)])
        == 0
    )
    xlsx = load_workbook(out / "2026-11-monthly.xlsx")
    sheet = xlsx["单位汇总"]
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    panshan = next(row for row in cells if PANSHAN in row)
    assert 4.25 in panshan
    assert sheet.freeze_panes == "A3" and sheet.page_setup.orientation == "landscape"
    with Image.open(out / "2026-11-monthly.png") as chart:
        assert chart.format == "PNG" and chart.width >= 800
    text = (out / "2026-11-monthly.txt").read_text(encoding="utf-8")
    assert "予以表扬" in text and XUANJIAO in text and "4.25" in text
    html = (out / "2026-11-monthly.html").read_text(encoding="utf-8")
    assert 'src="2026-11-monthly.png"' in html

    assert main(["--config", str(tmp_path / "config.toml"), "digest", "monthly", "--period", "2026-W48"]) == 2
    assert main(["--config", str(tmp_path / "config.toml"), "digest", "yearly", "--period", "2026", "--dry-run"]) == 0
    assert "2026年度政务信息报送情况通报" in capsys.readouterr().out


def test_scheduled_bulletin_is_sent_once_with_chart_and_workbook(
    app: App, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "local_today", lambda _app: date(2026, 12, 1))  # Tuesday, a working day
    stop = threading.Event()
    schedule.daily(app, stop)
    schedule.daily(app, stop)
    app.desk.drain_outbox(app.transport)
    subjects = []
    for received in smtp_sink.messages:
        msg = email.message_from_bytes(received.data, policy=email.policy.default)
        subjects.append(str(msg["Subject"]))
        if "11月" in str(msg["Subject"]):
            assert received.rcpt_tos == ["office@example.com"]
            assert msg["Auto-Submitted"] == "auto-generated"
            parts = {p.get_content_type(): p for p in msg.walk()}
            assert parts["image/png"]["Content-ID"] == "<chart>"
            html = parts["text/html"].get_content()
            assert 'src="cid:chart"' in html
            (attachment,) = [p for p in msg.iter_attachments() if p.get_content_type().endswith("sheet")]
            assert attachment.get_filename() == "2026年11月政务信息报送情况通报.xlsx"
            book = load_workbook(io.BytesIO(attachment.get_content()))
            assert book.sheetnames[0] == "单位汇总"
    assert subjects.count("【局办公室】2026年11月政务信息报送情况通报") == 1
    with Session(app.engine) as s:
        runs = {(r.kind, r.period) for r in s.exec(select(DigestRun))}
    assert ("monthly", "2026-11") in runs and ("weekly", "2026-W48") in runs
