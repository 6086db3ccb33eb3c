"""The registry in the browser over HTTP (Flask's client) on real Dovecot and SMTP: a held sender confirmed
next to its mail and answered, 登记/调整/停用 by the email commands' rules and words, rights and CSRF."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from mailbot.adapters.db import AuditEntry, Item, Liaison, Message, PendingLiaison, Unit
from mailbot.bootstrap import App
from mailbot.passes import poll_once
from tests.helpers import reply_text
from tests.integration import web_support as w
from tests.integration.test_rules_month import piece
from tests.servers import DovecotServer, SmtpSink

UNIT = "兴隆台区应急管理局"
NEW = "gaofeng.xlt@163.com"


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    """The register with a few items, and 高峰 registered from annex 4 (no address) whose first mail,
    from an address nobody registered, is held with the proposal to confirm him."""
    built = w.register(dovecot, smtp_sink, tmp_path, monkeypatch)
    with Session(built.engine) as s:
        unit_id = s.exec(select(Unit.id).where(Unit.name == UNIT)).one()
        s.add(Liaison(unit_id=unit_id, name="高峰", source="import"))
        s.commit()
    dovecot.append(piece(UNIT, "高峰", NEW, 1, sender_name="高峰"))
    poll_once(built.source, built.desk, built.transport)
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ["office@example.com"]  # the held-mail summary
    smtp_sink.clear()
    return built


@pytest.fixture
def client(app: App) -> FlaskClient:
    return w.flask_app(app).test_client()


def held_message(app: App) -> Message:
    with Session(app.engine) as s:
        return s.exec(select(Message).where(Message.sender == NEW)).one()


def prefilled(page: str, field: str) -> str:
    found = re.search(rf'name="{field}" value="([^"]*)"', page)
    assert found, f"no prefilled {field}"
    return found.group(1)


def test_an_officer_confirms_a_held_sender_and_the_mail_is_answered(
    app: App, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    held = held_message(app)
    assert (held.verdict, held.reasons) == ("held", "unknown_sender")
    w.sign_in(client, "zhangsan")
    page = client.get("/held").get_data(as_text=True)
    assert f"来信人似为：{UNIT}信息宣传员高峰" in page and f"/held/{held.id}/enrol" in page
    form = {"name": prefilled(page, "name"), "unit": prefilled(page, "unit")}
    assert form == {"name": "高峰", "unit": UNIT}  # what the held notice proposed

    answer = client.post(f"/held/{held.id}/enrol", data={"csrf_token": w.token(page), **form})
    assert answer.status_code == 302 and answer.headers["Location"] == "/held"
    page = html.unescape(client.get("/held").get_data(as_text=True))
    assert f"已登记宣传员：{UNIT} 高峰 <{NEW}>（web:zhangsan）" in page and "暂存的 1 封来信已按正常稿件处理" in page
    assert NEW not in page.split('id="held"')[1]  # no longer waiting
    receipt = smtp_sink.wait_for(1)[0]
    assert receipt.rcpt_tos == [NEW] and "已收录" in reply_text(receipt.message)
    with Session(app.engine) as s:
        gao = s.exec(select(Liaison).where(Liaison.name == "高峰")).one()
        assert (gao.email, gao.active, gao.source) == (NEW, True, "office")  # annex 4's row, now the office's
        released = s.exec(select(Message).where(Message.sender == NEW)).one()
        item = s.get(Item, released.item_id)
        assert released.verdict == "receipt" and item is not None and item.unit_id == gao.unit_id
        assert s.exec(select(PendingLiaison)).one().resolved_at is not None
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "enrol")).one()
    assert (audit.account, audit.target, audit.ok) == ("web:zhangsan", f"高峰 {UNIT} {NEW}", True)
    registry = client.get("/registry").get_data(as_text=True)
    assert "高峰" in registry and NEW in registry
    assert "登记宣传员" in client.get("/audit").get_data(as_text=True)


def test_a_confirmation_with_a_wrong_unit_keeps_the_mail_held(app: App, client: FlaskClient) -> None:
    held = held_message(app)
    w.sign_in(client, "zhangsan")
    data = {"csrf_token": w.token(client.get("/held").get_data(as_text=True)), "name": "高峰", "unit": "不存在的科"}
    page = html.unescape(client.post(f"/held/{held.id}/enrol", data=data, follow_redirects=True).get_data(as_text=True))
    assert "未执行：没有找到单位“不存在的科”。" in page and NEW in page
    assert held_message(app).verdict == "held"
    with Session(app.engine) as s:
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "enrol")).one()
    assert (audit.account, audit.ok, audit.detail) == ("web:zhangsan", False, "没有找到单位“不存在的科”。")


def test_a_viewer_sees_no_registry_forms_and_a_post_gets_403(app: App, client: FlaskClient) -> None:
    held = held_message(app)
    w.sign_in(client, "lisi")
    page = client.get("/held").get_data(as_text=True)
    assert NEW in page and "<form" not in page.split('id="held"')[1] and f"/held/{held.id}/enrol" not in page
    registry = client.get("/registry").get_data(as_text=True)
    assert "陈静" in registry and "xuanjiao@example.com" in registry and 'id="enrol"' not in registry
    token = w.token(page)
    for url, data in (
        (f"/held/{held.id}/enrol", {"name": "高峰", "unit": UNIT}),
        ("/registry/enrol", {"name": "张三", "unit": "宣教科", "email": "zs@163.com"}),
        ("/registry/retire", {"name": "陈静"}),
    ):
        answer = client.post(url, data={"csrf_token": token, **data})
        assert answer.status_code == 403 and "没有权限" in answer.get_data(as_text=True)
    assert held_message(app).verdict == "held"
    with Session(app.engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action.in_(("enrol", "retire")))).all() == []  # type: ignore[attr-defined]
        assert s.exec(select(Liaison).where(Liaison.name == "陈静")).one().active


def test_a_registry_form_without_its_csrf_token_is_refused(app: App, client: FlaskClient) -> None:
    held = held_message(app)
    w.sign_in(client, "zhangsan")
    for url in (f"/held/{held.id}/enrol", "/registry/retire"):
        for data in ({"name": "高峰", "unit": UNIT}, {"name": "陈静", "csrf_token": "forged"}):
            answer = client.post(url, data=data)
            assert answer.status_code == 400 and "校验码" in answer.get_data(as_text=True)
    assert held_message(app).verdict == "held"
    with Session(app.engine) as s:
        assert s.exec(select(Liaison).where(Liaison.name == "陈静")).one().active


def test_enrol_move_and_retire_from_the_registry_page(app: App, client: FlaskClient) -> None:
    w.sign_in(client, "zhangsan")

    def act(verb: str, **form: str) -> str:
        data = {"csrf_token": w.token(client.get("/registry").get_data(as_text=True)), **form}
        return html.unescape(client.post(f"/registry/{verb}", data=data, follow_redirects=True).get_data(as_text=True))

    assert "宣传员陈静已调整到法规科（web:zhangsan），此后的来稿计入法规科。" in act("move", name="陈静", unit="法规科")
    assert "未执行：没有找到单位“不存在的科”。" in act("move", name="陈静", unit="不存在的科")
    assert "未执行：“zs@”不是邮箱地址。" in act("enrol", name="张三", unit="宣教科", email="zs@")
    assert "未执行：姓名、单位各写一项" in act("enrol", name="张 三", unit="宣教科", email="zs@163.com")
    page = act("enrol", name="张三", unit="宣教", email="ZS@163.com")  # the start of a name, as by email
    assert "已登记宣传员：宣教科 张三 <zs@163.com>（web:zhangsan）。" in page
    assert "宣传员法规科陈静已停用（web:zhangsan）" in act("retire", name="陈静", unit="")
    assert "未执行：没有在用的宣传员“陈静”。" in act("retire", name="陈静")
    assert client.post("/registry/delete", data={"csrf_token": w.token(page)}).status_code == 404
    with Session(app.engine) as s:
        units = {u.name: u.id for u in s.exec(select(Unit))}
        chen = s.exec(select(Liaison).where(Liaison.name == "陈静")).one()
        assert (chen.unit_id, chen.active) == (units["法规科"], False)
        zhang = s.exec(select(Liaison).where(Liaison.name == "张三")).one()
        assert (zhang.unit_id, zhang.email, zhang.source) == (units["宣教科"], "zs@163.com", "office")
        trail = [(a.action, a.ok) for a in s.exec(select(AuditEntry).where(AuditEntry.account == "web:zhangsan"))]
    assert trail == [
        ("move", True),
        ("move", False),
        ("enrol", False),
        ("enrol", False),
        ("enrol", True),
        ("retire", True),
        ("retire", False),
    ]
    registry = client.get("/registry").get_data(as_text=True)
    row = re.search(r"<tr class=\"muted\">\s*<td>陈静</td>.*?</tr>", registry, re.S)
    assert row is not None and "已停用" in row.group(0)
