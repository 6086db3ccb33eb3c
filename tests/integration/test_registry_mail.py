"""The registry as the office keeps it, over real Dovecot and SMTP: annex 4 imported as issued (no email
column), a registered liaison's first mail from a new address held with a one-line proposal, the office's
reply `登记 姓名 单位` recording the address and releasing the held mail, which gets its receipt; then
调整 and 停用 by the same path, and `units export` giving the table back with the addresses."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlmodel import Session, select

from mailbot.adapters.db import Item, Liaison, Message, PendingLiaison, Unit
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.mail import build_mail
from tests.helpers import write_config
from tests.integration.test_office import confirm
from tests.integration.test_rules_month import piece
from tests.servers import DovecotServer, SmtpSink

CHIEF = "chief@example.com"  # an [office] admin
OFFICE = "office@example.com"  # [office] recipients
UNIT = "兴隆台区应急管理局"
NEW = "gaofeng.xlt@163.com"


@pytest.fixture
def config(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    return write_config(tmp_path, dovecot, smtp_sink)


def annex4(path: Path) -> Path:
    """信息宣传员登记表 as the rules issue it: 单位（科室）、姓名、联系电话、微信号, no email column."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["信息宣传员登记表"])
    ws.append(["单位（科室）", "姓名", "联系电话", "微信号"])
    ws.append([UNIT, "高  峰", "13940000001", "gf_xlt"])
    ws.append(["宣教科", "陈静", "13940000002", ""])
    wb.save(path)
    return path


def parsed(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def text_of(raw: bytes) -> str:
    body = parsed(raw).get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content()


def reply(notice: EmailMessage, body: str) -> bytes:
    return build_mail(
        CHIEF,
        f"Re: {notice['Subject']}",
        [],
        body=body + "\n\n> 以下来信已暂存……",
        headers=[("In-Reply-To", str(notice["Message-ID"])), ("References", str(notice["Message-ID"]))],
    )


def test_first_mail_from_a_registered_liaison_is_confirmed_by_one_line(
    config: Path, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(config), "units", "import", str(annex4(tmp_path / "附件4.xlsx"))]) == 0
    assert "已导入 2 个单位、2 名宣传员" in capsys.readouterr().out
    app: App = build(load_config(config))
    with Session(app.engine) as s:
        gao = s.exec(select(Liaison).where(Liaison.name == "高峰")).one()
        assert gao.email is None and gao.phone == "13940000001" and gao.active
        kind = s.exec(select(Unit.kind).where(Unit.name == UNIT)).one()
    assert kind == "县区"  # a table without 类别 leaves the registered kind alone

    # 高峰 writes for the first time, from an address nobody registered, under his own name. (A
    # stranger's attachments are never opened, so the footer cannot be read to find him.)
    dovecot.append(piece(UNIT, "高峰", NEW, 1, sender_name="高峰"))
    poll_once(app.source, app.desk, app.transport)
    (notice,) = smtp_sink.wait_for(1)
    smtp_sink.clear()
    assert notice.rcpt_tos == [OFFICE]
    body = text_of(notice.data)
    assert f"来信人似为：{UNIT}信息宣传员高峰" in body and f"第一行写：登记 高峰 {UNIT} {NEW}" in body
    assert "sha256" not in body and "INBOX/" not in body  # no storage ids in what the office reads
    with Session(app.engine) as s:
        held = s.exec(select(Message).where(Message.sender == NEW)).one()
        assert (held.verdict, held.reasons) == ("held", "unknown_sender")
        assert s.exec(select(PendingLiaison)).one().email == NEW

    # The office answers with one line; the address is recorded and the held mail gets its receipt.
    dovecot.append(reply(parsed(notice.data), f"登记 高峰 {UNIT}"))
    poll_once(app.source, app.desk, app.transport)
    confirm(app, dovecot, smtp_sink)  # office commands run once the admin quotes the one-time code
    got = {m.rcpt_tos[0]: m for m in smtp_sink.wait_for(2)}
    assert f"已登记宣传员：{UNIT} 高峰 <{NEW}>" in text_of(got[CHIEF].data)
    assert "暂存的 1 封来信已按正常稿件处理" in text_of(got[CHIEF].data)
    receipt = text_of(got[NEW].data)
    assert "已收录" in receipt and f"报送单位：{UNIT}" in receipt
    with Session(app.engine) as s:
        assert s.exec(select(Liaison).where(Liaison.name == "高峰")).one().email == NEW
        held = s.exec(select(Message).where(Message.sender == NEW)).one()
        item = s.get(Item, held.item_id)
        assert held.verdict == "receipt" and item is not None
        assert item.unit_id == s.exec(select(Unit.id).where(Unit.name == UNIT)).one()
        assert s.exec(select(PendingLiaison)).one().resolved_at is not None
    smtp_sink.clear()

    # 调整 and 停用 by the same command path (admins only).
    confirmations = []
    for subject, line in (("宣传员调整", "调整 高峰 宣教科"), ("宣传员停用", "停用 陈静 宣教科")):
        dovecot.append(build_mail(CHIEF, subject, [], body=line))
        poll_once(app.source, app.desk, app.transport)
        confirm(app, dovecot, smtp_sink)
        confirmations += [text_of(m.data) for m in smtp_sink.wait_for(1)]
        smtp_sink.clear()
    assert any("宣传员高峰已调整到宣教科" in t for t in confirmations)
    assert any("宣传员宣教科陈静已停用" in t for t in confirmations)
    with Session(app.engine) as s:
        xuanjiao = s.exec(select(Unit.id).where(Unit.name == "宣教科")).one()
        assert s.exec(select(Liaison).where(Liaison.name == "高峰")).one().unit_id == xuanjiao
        assert not any(p.active for p in s.exec(select(Liaison).where(Liaison.name == "陈静")))

    out = tmp_path / "登记表.xlsx"
    assert main(["--config", str(config), "units", "export", str(out)]) == 0
    sheet = load_workbook(out).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert rows[0] == ["单位（科室）", "姓名", "联系电话", "微信号", "邮箱", "类别"]
    assert ["宣教科", "高峰", "13940000001", "gf_xlt", NEW, "科室"] in rows
