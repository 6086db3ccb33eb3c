"""Every figure explained: for a month, a quarter and a year, the ledger lines of each unit and each person
add up to the totals the bulletin prints, the workbook lists them (信息明细, 扣分明细), and `mailbot explain`
prints the same lines. The seeded autumn mixes submissions, adoptions, a returned item, a graded 约稿, column
items, the office's deduction and missed column cycles, so one unit ends below zero."""

from __future__ import annotations

import io
import math
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlmodel import Session, select

from mailbot import digest_mail, digests, ledger, schedule
from mailbot.adapters import chart
from mailbot.adapters.db import Author, Deduction, Item, Message, Solicitation, Unit
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.domain.calendar import parse_period
from mailbot.duties import Duties
from mailbot.ledger import period_entries
from mailbot.reminders import work_calendar
from tests.helpers import config_file
from tests.integration.test_columns_flow import COLUMNS
from tests.integration.test_digests import DAWA, PANSHAN, XUANJIAO, seed_november
from tests.servers import SmtpSink

TODAY = date(2027, 1, 6)  # after the year closed
PERIODS = ("2026-11", "2026-Q4", "2026")


@pytest.fixture
def app(tmp_path: Path, smtp_sink: SmtpSink) -> App:
    path = config_file(tmp_path, smtp_sink, '[office]\nrecipients = ["office@example.com"]\n' + COLUMNS)
    built = build(load_config(path))
    seed_november(built)
    seed_autumn(built)
    return built


def seed_autumn(app: App) -> None:
    """Beyond seed_november: 宣教科's 文件解读 in October (a column item), a 约稿 answered in time and graded 2,
    one answered late, and a deduction the office charged to a person."""
    with Session(app.engine) as s:
        ids = {u.name: u.id for u in s.exec(select(Unit))}
        sol = Solicitation(topic="防汛备汛", deadline=date(2026, 10, 20), by="t")
        s.add(sol)
        s.flush()
        rows = [
            (20, XUANJIAO, datetime(2026, 10, 9, 2, tzinfo=UTC), "陈静", "文件解读", None, None),
            (21, PANSHAN, datetime(2026, 10, 19, 2, tzinfo=UTC), "孙悦", None, sol.id, 2),
            (22, DAWA, datetime(2026, 10, 22, 2, tzinfo=UTC), "赵婷", None, sol.id, 3),
        ]
        for seq, unit, when, person, column, solicitation, grade in rows:
            item = Item(
                number=f"2026-{seq:04d}",
                year=2026,
                seq=seq,
                unit_id=ids[unit],
                title=f"信息{seq}",
                content_hash=f"h{seq}",
                received_at=when,
                points=0.3,
                column_name=column,
                solicitation_id=solicitation,
                grade=grade,
            )
            s.add(item)
            s.flush()
            assert item.id is not None
            s.add(Author(item_id=item.id, name=person, unit_id=ids[unit], share=0.3))
            s.add(
                Message(
                    mailbox="m",
                    folder="INBOX",
                    uidvalidity=1,
                    uid=f"a{seq}",
                    sha256=f"a{seq}",
                    raw_path="x",
                    received_at=when,
                    state="filed",
                    verdict="receipt",
                    unit_id=ids[unit],
                    item_id=item.id,
                )
            )
        s.add(
            Deduction(
                unit_id=ids[PANSHAN], person="张三", points=0.2, reason="错别字", on=date(2026, 12, 3), by="王主任"
            )
        )
        s.commit()


def explained(capsys: pytest.CaptureFixture[str], config: Path, unit: str, period: str) -> list[float]:
    """The signed figures of the lines `mailbot explain` prints, and its stated total last."""
    capsys.readouterr()
    assert main(["--config", str(config), "explain", unit, "--period", period]) == 0
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if re.match(r"^\d+月\d+日", line)]
    figures = [float(re.split(r"\s{2,}", line)[3]) for line in lines]
    total = float(re.search(r"合计 (-?[\d.]+) 分", out).group(1))  # type: ignore[union-attr]
    return [*figures, total]


def test_every_total_is_the_sum_of_its_lines(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schedule, "local_today", lambda _app: TODAY)
    kinds = {"month": "monthly", "quarter": "quarterly", "year": "yearly"}
    for label in PERIODS:
        period = parse_period(label)
        report = digests.build_report(app.config, app.engine, kinds[period.kind], period, today=TODAY)
        with Session(app.engine) as s:
            entries = [e for e in period_entries(s, app.config, period, TODAY) if period.contains(e.on)]
            names = {u.id: u.name for u in s.exec(select(Unit))}
        assert entries, label
        for u in report.units:
            mine = [e.points for e in entries if names[e.unit_id] == u.unit]
            assert round(math.fsum(mine), 4) == pytest.approx(u.points), (label, u.unit)
            lines = [d.points for d in report.deduction_lines if d.unit == u.unit]
            assert round(math.fsum(lines), 4) == pytest.approx(u.deductions), (label, u.unit)
            *figures, total = explained(capsys, tmp_path / "config.toml", u.unit, label)
            assert len(figures) == len(mine) and total == pytest.approx(u.points), (label, u.unit)
            assert math.fsum(figures) == pytest.approx(u.points), (label, u.unit)
        for p in report.people:
            mine = [e.points for e in entries if e.person == p.name and names[e.unit_id] == p.unit]
            assert round(math.fsum(mine), 4) == pytest.approx(p.points), (label, p.name)
        if period.kind == "month":
            # The two detail sheets hold every line: items' points plus deductions are all the units' points.
            assert report.details and not report.month_lines
            listed = math.fsum(d.points for d in report.details) + math.fsum(d.points for d in report.deduction_lines)
        else:
            # A quarter or a year lists each unit's months instead (月度明细): they add up to the unit's total.
            assert report.month_lines and not report.details, label
            for u in report.units:
                months = [m.points for m in report.month_lines if m.unit == u.unit]
                assert round(math.fsum(months), 4) == pytest.approx(u.points), (label, u.unit)
            listed = math.fsum(m.points for m in report.month_lines)
        assert listed == pytest.approx(math.fsum(u.points for u in report.units)), label


def test_a_long_bulletin_can_list_every_item(app: App) -> None:
    """[office] items_in_long_bulletins: the year's 信息明细 instead of its months, adding up the same."""
    config = replace(app.config, office=replace(app.config.office, items_in_long_bulletins=True))
    period = parse_period("2026")
    report = digests.build_report(config, app.engine, "yearly", period, today=TODAY)
    assert report.details and not report.month_lines
    listed = math.fsum(d.points for d in report.details) + math.fsum(d.points for d in report.deduction_lines)
    assert listed == pytest.approx(math.fsum(u.points for u in report.units))
    by_month = digests.build_report(app.config, app.engine, "yearly", period, today=TODAY)
    assert [u.points for u in by_month.units] == [u.points for u in report.units]


def test_one_units_ledger_is_its_lines_of_the_whole_ledger(app: App) -> None:
    """The unit page reads only the unit's items and duties: the lines, their order and their notes must be
    those of the bulletin's ledger for that unit, deductions for missed cycles included."""
    for label in PERIODS:
        period = parse_period(label)
        with Session(app.engine) as s:
            whole = period_entries(s, app.config, period, TODAY)
            ids = [u.id for u in s.exec(select(Unit)) if u.id is not None]
            for unit_id in ids:
                alone = ledger.read_ledger(
                    s, app.config, date(2026, 1, 1), period.end, TODAY, units=frozenset({unit_id})
                )
                mine = [e for e in whole if e.unit_id == unit_id]
                assert alone.entries == mine, (label, unit_id)
                assert [e.deduction for e in alone.entries] == [e.deduction for e in mine], (label, unit_id)
        assert any(e.deduction is not None and e.deduction.rule == "三(二)2" for e in whole), label


def test_a_units_duties_are_its_statuses_of_the_whole_registry(app: App) -> None:
    """Duties for one unit read its items and those of the units sharing a duty with it: its cycle statuses
    must be the registry-wide ones under its name."""
    calendar = work_calendar(app.config)
    with Session(app.engine) as s:
        whole = Duties(s, app.config, calendar)
        assert any(c.shared for c in whole.columns)
        for name, unit_id in whole.ids.items():
            alone = Duties(s, app.config, calendar, units=frozenset({unit_id}))
            for label in PERIODS:
                period = parse_period(label)
                for column in whole.columns:
                    everyone = whole.statuses(column, period.start, period.end, TODAY)
                    assert alone.statuses(column, period.start, period.end, TODAY) == [
                        st for st in everyone if st.unit == name
                    ], (name, label, column.name)


def test_the_monthly_workbook_lists_every_item_and_deduction(app: App) -> None:
    nov = parse_period("2026-11")
    report = digests.build_report(app.config, app.engine, "monthly", nov, today=TODAY)
    rendered = digest_mail.render_report(app.desk.renderer, app.config, report)
    book = load_workbook(io.BytesIO(rendered.xlsx))
    details = book["信息明细"]
    numbers = [row[1].value for row in details.iter_rows(min_row=3) if row[1].value != "合计"]
    assert numbers == ["2026-0001", "2026-0002", "2026-0003", "2026-0004", "2026-0005"]
    header = [c.value for c in details[2]]
    second = {h: c.value for h, c in zip(header, details[4], strict=True)}
    assert second["撰稿人及得分"] == "张三 0.65、李四 0.65"  # 0.3 + the city's 1, split in two
    assert second["采用"] == "市级（11月21日）" and second["本期得分"] == pytest.approx(1.3)
    returned = {h: c.value for h, c in zip(header, details[6], strict=True)}
    assert returned["状态"] == "已退回" and returned["本期得分"] == 0
    deductions = book["扣分明细"]
    rows = [[c.value for c in row] for row in deductions.iter_rows(min_row=3)]
    office = next(r for r in rows if r[1] == DAWA)
    assert office[2:] == ["办公室扣分", "—", "11月25日", -0.5, "信息失实", "t"]
    missed = [r for r in rows if r[1] == XUANJIAO]
    assert all(r[2] == "三(二)2" and r[7] == "系统按规则计算" for r in missed)
    assert any(r[3] == "栏目《文件解读》（每月）" and r[4] == "11月1日至11月30日" for r in missed)
    assert rows[-1][1] == "合计" and rows[-1][5] == pytest.approx(sum(d.points for d in report.deduction_lines))
    units = book["单位汇总"]
    assert "缺报周次（三(一)1）" in [c.value for c in units[2]]
    # The unit below zero has a bar, drawn left of zero in the deductions' red.
    xuanjiao = next(u for u in report.units if u.unit == XUANJIAO)
    assert xuanjiao.points < 0
    image = Image.open(io.BytesIO(rendered.chart)).convert("RGB")
    row = chart._HEADER + [u.unit for u in sorted(report.units, key=lambda u: -u.points)].index(XUANJIAO) * chart._ROW
    red = [x for x in range(image.width) if image.getpixel((x, row + chart._ROW // 2)) == chart._NEGATIVE]
    assert len(red) > 50
    # The HTML gives each unit's deductions one line, with their total and where the lines are.
    assert f"{XUANJIAO}：扣分 " in rendered.html and "扣分明细" in rendered.html
