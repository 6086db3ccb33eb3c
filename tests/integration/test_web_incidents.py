"""Open incidents in the browser over HTTP (Flask's client) on real Dovecot and SMTP: the list with what
each waits for, and the duty office's 核报 and 批示 from a form, mailed to the unit as the emailed command."""

from __future__ import annotations

import html
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlmodel import Session, select

from mailbot.adapters.db import AuditEntry
from mailbot.adapters.incident_tables import IncidentDemand
from mailbot.bootstrap import App, build
from mailbot.cli import main
from mailbot.config import load_config
from mailbot.passes import poll_once
from mailbot.samples.mail import build_mail
from tests.integration import web_support as w
from tests.integration.test_incidents import LIAISON, TZ, UNIT_PEOPLE, config_path, parsed, text_of
from tests.servers import DovecotServer, SmtpSink

# An hour ago: the 首报 has just come in and nothing is overdue yet except the 终报 clock running.
ARRIVED = datetime.now(TZ).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)
    built = build(load_config(config_path(tmp_path, dovecot, smtp_sink)))
    w.with_accounts(built)
    first = build_mail(
        LIAISON, "【首报】盘山县某化工厂发生火灾", [], body="今日上午9时许，某化工厂储罐区起火，暂无人员伤亡。"
    )
    dovecot.append(first, msg_time=ARRIVED)
    poll_once(built.source, built.desk, built.transport)
    smtp_sink.wait_for(2)  # the receipt and the duty office's copy
    smtp_sink.clear()
    return built


@pytest.fixture
def client(app: App) -> FlaskClient:
    return w.flask_app(app).test_client()


NUMBER = f"SJ-{datetime.now(TZ).year}-001"


def page(client: FlaskClient) -> str:
    return html.unescape(client.get("/incidents").get_data(as_text=True))


def test_an_officer_asks_for_a_written_verification_and_the_unit_is_mailed_at_once(
    app: App, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    w.sign_in(client, "zhangsan")
    before = page(client)
    assert NUMBER in before and "盘山县应急管理局" in before and "终报（首报后已 1小时" in before
    answer = client.post(f"/incidents/{NUMBER}/verify", data={"csrf_token": w.token(before), "words": "书面"})
    assert answer.status_code == 302
    after = page(client)
    assert "已通知盘山县应急管理局" in after and f"事件 {NUMBER} 核报（书面反馈）" in after
    assert "登记：已电话反馈" in after  # a 核报 is now pending: its phone answer can be recorded
    mails = [parsed(m.data) for m in smtp_sink.wait_for(1)]
    (notice,) = mails
    assert str(notice["Subject"]).startswith(f"【紧急】【核报】{NUMBER} 请于") and notice["Importance"] == "high"
    assert set(str(notice["To"]).replace(" ", "").split(",")) & UNIT_PEOPLE
    assert "书面" in text_of(notice)
    with Session(app.engine) as s:
        (demand,) = s.exec(select(IncidentDemand)).all()
        assert (demand.kind, demand.by) == ("verify_written", "web:zhangsan")
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "verify")).one()
        assert audit.account == "web:zhangsan" and audit.ok and NUMBER in audit.target

    # the unit answers by phone: recorded from the same row, and the 核报 no longer waits
    client.post(f"/incidents/{NUMBER}/verify", data={"csrf_token": w.token(after), "words": "已电话反馈"})
    done = page(client)
    assert "已电话反馈事件" in done and "按时" in done and "登记：已电话反馈" not in done
    with Session(app.engine) as s:
        assert s.exec(select(IncidentDemand)).one().answered_how == "phone"


def test_a_bad_instruction_is_refused_in_words_and_a_viewer_cannot_act(app: App, client: FlaskClient) -> None:
    w.sign_in(client, "zhangsan")
    listed = page(client)
    client.post(f"/incidents/{NUMBER}/instruct", data={"csrf_token": w.token(listed), "words": ""})
    assert "未执行：“批示”需要写明批示内容。" in page(client)
    client.post("/incidents/SJ-2000-999/verify", data={"csrf_token": w.token(listed), "words": "电话"})
    assert "未执行" in page(client)
    # a missing CSRF token is refused before anything runs
    assert client.post(f"/incidents/{NUMBER}/verify", data={"words": "电话"}).status_code == 400

    viewer = w.flask_app(app).test_client()
    w.sign_in(viewer, "lisi")
    seen = page(viewer)
    assert NUMBER in seen and "核报</b>" not in seen  # sees the list, no forms
    forbidden = viewer.post(f"/incidents/{NUMBER}/verify", data={"csrf_token": w.token(seen), "words": "电话"})
    assert forbidden.status_code == 403
    with Session(app.engine) as s:
        assert s.exec(select(IncidentDemand)).all() == []


def test_the_cli_refuses_the_same_bad_instruction_in_one_line(
    app: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--config", str(tmp_path / "config.toml"), "incident", "批示", NUMBER]) == 2
    assert capsys.readouterr().out.strip() == "未执行：“批示”需要写明批示内容。"
