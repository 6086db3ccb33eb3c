"""The register over HTTP (Flask's client) on top of real Dovecot and SMTP: rights, CSRF, the brake,
what the pages show and that their figures are the bulletin's."""

from __future__ import annotations

import io
import sys
from datetime import date
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlmodel import Session, select

from mailbot import digest_mail, digests
from mailbot.adapters.db import Adoption, AuditEntry, Deduction, Item, Review, StoredFile, Unit
from mailbot.bootstrap import App
from mailbot.cli import main
from mailbot.domain.calendar import month_of, year_of
from mailbot.passes import poll_once
from mailbot.samples.mail import build_mail
from mailbot.schedule import local_today
from tests.integration import web_support as w
from tests.servers import DovecotServer, SmtpSink


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    return w.register(dovecot, smtp_sink, tmp_path, monkeypatch)


@pytest.fixture
def client(app: App) -> FlaskClient:
    return w.flask_app(app).test_client()


def first_item(app: App) -> Item:
    with Session(app.engine) as s:
        return s.exec(select(Item).order_by(Item.id)).first()  # type: ignore[arg-type, return-value]


def form_token(client: FlaskClient, url: str) -> str:
    return w.token(client.get(url).get_data(as_text=True))


def test_every_page_needs_a_sign_in_and_the_cookie_is_locked_down(app: App, client: FlaskClient) -> None:
    for url in ("/", "/units", "/held", "/bulletins", f"/items/{first_item(app).number}", "/files/1"):
        answer = client.get(url)
        assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert w.sign_in(client, "zhangsan", "wrong password!") == 401
    answer = client.get("/login")
    page = answer.get_data(as_text=True)
    assert "登录" in page and answer.headers["X-Frame-Options"] == "DENY"
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # default-src 'none': no script at all
    login = client.post("/login", data={"csrf_token": w.token(page), "name": "zhangsan", "password": w.PASSWORD})
    cookie = login.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get("/").status_code == 200


def test_an_officer_adopts_and_it_is_recorded_like_the_cli_does(
    app: App, client: FlaskClient, smtp_sink: SmtpSink
) -> None:
    item = first_item(app)
    assert w.sign_in(client, "zhangsan") == 302
    url = f"/items/{item.number}"
    answer = client.post(
        f"{url}/adopt",
        data={"csrf_token": form_token(client, url), "level": "province", "publication": "《辽宁信息》第5期"},
    )
    assert answer.status_code == 302
    page = client.get(url).get_data(as_text=True)
    assert "已登记为省级采用" in page and "web:zhangsan" in page and "省级采用 3 分" in page
    with Session(app.engine) as s:
        adoption = s.exec(select(Adoption)).one()
        assert (adoption.by, adoption.level, adoption.on) == ("web:zhangsan", "province", local_today(app))
        audit = s.exec(select(AuditEntry).where(AuditEntry.action == "adopt")).one()
        assert (audit.account, audit.target, audit.ok) == ("web:zhangsan", item.number, True)
    notice = smtp_sink.wait_for(1)[0]
    assert "已被省级采用" in str(notice.message["Subject"])  # the unit hears of it, as from the CLI


def test_review_grade_deduct_and_solicit_from_the_browser(app: App, client: FlaskClient) -> None:
    item = first_item(app)
    w.sign_in(client, "zhangsan")
    url = f"/items/{item.number}"
    client.post(f"{url}/review", data={"csrf_token": form_token(client, url), "decision": "returned", "reason": ""})
    assert "退回需要写明原因" in client.get(url).get_data(as_text=True)
    client.post(f"{url}/review", data={"csrf_token": form_token(client, url), "decision": "approved"})
    client.post(f"{url}/grade", data={"csrf_token": form_token(client, url), "grade": "2"})
    assert "不是约稿，不能评分" in client.get(url).get_data(as_text=True)
    unit_url = f"/units/{item.unit_id}"
    client.post(
        f"{unit_url}/deduct",
        data={"csrf_token": form_token(client, unit_url), "points": "0.5", "reason": "信息失实", "on": "2026-12-01"},
    )
    client.post(
        "/solicitations",
        data={"csrf_token": form_token(client, "/solicitations"), "topic": "冬季安全生产", "deadline": "2026-12-10"},
    )
    assert "《冬季安全生产》" in client.get("/solicitations").get_data(as_text=True)
    with Session(app.engine) as s:
        assert s.exec(select(Review)).one().by == "web:zhangsan"
        deduction = s.exec(select(Deduction)).one()
        assert (deduction.points, deduction.on, deduction.by) == (0.5, date(2026, 12, 1), "web:zhangsan")
        actions = [(a.action, a.ok) for a in s.exec(select(AuditEntry).where(AuditEntry.account == "web:zhangsan"))]
    assert actions == [("review", False), ("review", True), ("grade", False), ("deduct", True), ("solicit", True)]
    trail = client.get("/audit").get_data(as_text=True)
    assert "信息失实" in trail and "web:zhangsan" in trail and "退回需要写明原因" in trail


def test_a_viewer_reads_but_cannot_act(app: App, client: FlaskClient) -> None:
    item = first_item(app)
    w.sign_in(client, "lisi")
    url = f"/items/{item.number}"
    page = client.get(url).get_data(as_text=True)
    assert item.title in page and "登记采用" not in page
    answer = client.post(f"{url}/adopt", data={"csrf_token": w.token(page), "level": "city"})
    assert answer.status_code == 403 and "没有权限" in answer.get_data(as_text=True)
    assert client.get("/audit").status_code == 403
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "adopt")).all() == []


def test_a_form_without_its_csrf_token_is_refused(app: App, client: FlaskClient) -> None:
    item = first_item(app)
    w.sign_in(client, "zhangsan")
    for data in ({"level": "city"}, {"level": "city", "csrf_token": "forged"}):
        answer = client.post(f"/items/{item.number}/adopt", data=data)
        assert answer.status_code == 400 and "校验码" in answer.get_data(as_text=True)
    assert client.post("/login", data={"name": "zhangsan", "password": w.PASSWORD}).status_code == 400
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []


def test_five_wrong_passwords_lock_the_account_and_the_client(app: App, client: FlaskClient) -> None:
    for _ in range(5):
        assert w.sign_in(client, "zhangsan", "not the password") == 401
    assert w.sign_in(client, "zhangsan") == 429  # even the right password waits
    other = w.flask_app(app).test_client()
    assert w.sign_in(other, "lisi") == 429  # same client address: it cannot go on guessing other accounts
    with Session(app.engine) as s:
        kinds = [a.action for a in s.exec(select(AuditEntry).where(AuditEntry.action.startswith("login")))]  # type: ignore[attr-defined]
    assert kinds.count("login_failed") == 5 and kinds.count("login_locked") == 2


def test_a_new_password_or_a_disabled_account_ends_open_sessions(
    app: App, client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    w.sign_in(client, "zhangsan")
    assert client.get("/").status_code == 200
    config = str(tmp_path / "config.toml")
    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert main(["--config", config, "users", "passwd", "zhangsan"]) == 0
    assert client.get("/").status_code == 302
    assert w.sign_in(client, "zhangsan", "another long password") == 302
    assert main(["--config", config, "users", "disable", "zhangsan"]) == 0
    assert client.get("/").status_code == 302
    assert w.sign_in(client, "zhangsan", "another long password") == 401
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(["--config", config, "users", "add", "wangwu", "--role", "officer"]) == 1
    assert main(["--config", config, "users", "list"]) == 0


def test_the_register_filters_and_the_unit_page_adds_up_to_the_bulletin(app: App, client: FlaskClient) -> None:
    item = first_item(app)
    w.sign_in(client, "lisi")
    year = str(local_today(app).year)
    listing = client.get(f"/?period={year}").get_data(as_text=True)
    assert "共 3 条" in listing and item.number in listing
    assert "共 1 条" in client.get(f"/?period={year}&q={item.title[:6]}").get_data(as_text=True)
    assert "共 0 条" in client.get(f"/?period={year}&status=returned").get_data(as_text=True)
    assert "共 0 条" in client.get(f"/?period={year}&solicited=yes").get_data(as_text=True)
    assert "共 3 条" in client.get(f"/?period={year}&kind=routine&unit=&column=").get_data(as_text=True)
    period = month_of(local_today(app))
    report = digests.build_report(app.config, app.engine, "monthly", period)
    with Session(app.engine) as s:
        ids = {u.name: u.id for u in s.exec(select(Unit))}
    for line in report.units:
        page = client.get(f"/units/{ids[line.unit]}?period={period.label}").get_data(as_text=True)
        assert f'<strong id="unit-points">{line.points:g}</strong>' in page, line.unit
    standings = client.get(f"/units?period={period.label}").get_data(as_text=True)
    assert all(line.unit in standings for line in report.units)
    assert "逐条说明" in client.get(f"/?unit={item.unit_id}&period={period.label}").get_data(as_text=True)
    assert client.get(f"/units/1?period={year_of(local_today(app)).label}").status_code == 200


def test_files_are_served_by_id_and_no_page_shows_a_path_or_secret(
    app: App, client: FlaskClient, dovecot: DovecotServer
) -> None:
    item = first_item(app)
    w.sign_in(client, "lisi")
    page = client.get(f"/items/{item.number}").get_data(as_text=True)
    with Session(app.engine) as s:
        files = [f for f in s.exec(select(StoredFile)) if f.kind in ("manuscript", "photo")]
    assert files and f"/files/{files[0].id}" in page
    docx = client.get(f"/files/{files[0].id}")
    assert docx.status_code == 200 and "attachment" in docx.headers["Content-Disposition"]
    assert app.desk.storage.get(f"files/{files[0].sha256[:2]}/{files[0].sha256}") == docx.data
    raw = client.get("/messages/1.eml")
    assert raw.status_code == 200 and b"Subject:" in raw.data
    assert client.get("/files/99999").status_code == 404
    assert client.get("/files/..%2f..%2fetc%2fpasswd").status_code == 404
    secrets = [str(app.config.storage_dir()), str(app.config.base_dir), "raw/", dovecot.password, w.KEY.decode()]
    for url in ("/", f"/items/{item.number}", "/units", "/held", "/bulletins", "/nope", f"/units/{item.unit_id}"):
        text = client.get(url).get_data(as_text=True)
        assert not [s for s in secrets if s in text], url


def test_held_mail_and_bulletins_sent_and_on_demand(
    app: App, client: FlaskClient, dovecot: DovecotServer, smtp_sink: SmtpSink
) -> None:
    dovecot.append(build_mail("stranger@example.org", "一份稿件", []))
    poll_once(app.source, app.desk, app.transport)
    smtp_sink.wait_for(1)
    period = month_of(local_today(app))
    rendered = digest_mail.render(app.config, app.engine, app.desk.renderer, "monthly", period)
    outbox_id = digest_mail.enqueue(app.config, app.engine, rendered)
    w.sign_in(client, "lisi")
    held = client.get("/held").get_data(as_text=True)
    assert "stranger@example.org" in held and "发件人不是已登记的信息宣传员" in held and "下载原始邮件" in held
    listing = client.get("/bulletins").get_data(as_text=True)
    assert rendered.subject in listing
    html = client.get(f"/bulletins/{outbox_id}")
    assert html.status_code == 200 and rendered.report.title in html.get_data(as_text=True)
    assert f"/bulletins/{outbox_id}/chart.png" in html.get_data(as_text=True)
    assert client.get(f"/bulletins/{outbox_id}/chart.png").data == rendered.chart
    xlsx = client.get(f"/bulletins/{outbox_id}.xlsx")
    assert xlsx.data == rendered.xlsx and load_workbook(io.BytesIO(xlsx.data)).sheetnames
    built = client.get(f"/bulletins/build?kind=monthly&period={period.label}").get_data(as_text=True)
    assert rendered.report.title in built and "data:image/png;base64," in built
    assert client.get(f"/bulletins/build.xlsx?kind=monthly&period={period.label}").status_code == 200
    wrong = client.get("/bulletins/build?kind=weekly&period=2026-11", follow_redirects=True)
    assert "不是一个周报的期间" in wrong.get_data(as_text=True)


def test_changes_made_elsewhere_show_at_once(app: App, client: FlaskClient) -> None:
    """The CLI and the daemon write from other processes: a cached ledger must not hide their changes."""
    from mailbot import office

    item = first_item(app)
    w.sign_in(client, "lisi")
    url = f"/units/{item.unit_id}?period={month_of(local_today(app)).label}"
    before = client.get(url).get_data(as_text=True)
    assert '<strong id="unit-points">0.45</strong>' in before  # 0.3 for its item, 0.15 for a shared one
    with Session(app.engine) as s:
        office.review(s, item.number, "returned", "数据有误", "cli:someone")
        s.commit()
    assert '<strong id="unit-points">0.15</strong>' in client.get(url).get_data(as_text=True)


def test_sign_in_goes_back_only_to_this_site_and_cookies_can_be_secure(app: App) -> None:
    from dataclasses import replace

    client = w.flask_app(app).test_client()
    page = client.get("/login?next=//evil.example/").get_data(as_text=True)
    data = {"csrf_token": w.token(page), "name": "lisi", "password": w.PASSWORD, "next": "//evil.example/"}
    assert client.post("/login", data=data).headers["Location"] == "/"
    secure = replace(app, config=replace(app.config, web=replace(app.config.web, secure_cookies=True)))
    client = w.flask_app(secure).test_client()
    assert "Secure" in client.get("/login").headers["Set-Cookie"]


@pytest.mark.parametrize("command", ["web", "run"])
def test_mailbot_web_and_run_serve_on_the_loopback(app: App, tmp_path: Path, smtp_sink: SmtpSink, command: str) -> None:
    """`mailbot web`, and `mailbot run` with [web] enabled (whose outbox thread sends the unit's notice);
    an adoption made through either reaches the unit, and both stop cleanly on a signal."""
    import signal
    import subprocess
    import time
    import urllib.parse
    import urllib.request

    from tests.servers import free_port

    port = free_port()
    config = tmp_path / "config.toml"
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f"\n[web]\nenabled = true\nport = {port}\n")
    base = f"http://127.0.0.1:{port}"
    out, err = (tmp_path / "out.log").open("w+b"), (tmp_path / "err.log").open("w+b")
    process = subprocess.Popen(
        [sys.executable, "-m", "mailbot", "--config", str(config), command], stdout=out, stderr=err
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = urllib.request.urlopen(f"{base}/login", timeout=2)
                break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "err.log").read_text()
                time.sleep(0.05)
        assert answer.status == 200 and "Server" not in answer.headers
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = browser.open(f"{base}/login").read().decode("utf-8")
        fields = {"csrf_token": w.token(page), "name": "zhangsan", "password": w.PASSWORD}
        browser.open(f"{base}/login", urllib.parse.urlencode(fields).encode())
        number = first_item(app).number
        page = browser.open(f"{base}/items/{number}").read().decode("utf-8")
        fields = {"csrf_token": w.token(page), "level": "city"}
        done = browser.open(f"{base}/items/{number}/adopt", urllib.parse.urlencode(fields).encode()).read()
        assert "已登记为市级采用" in done.decode("utf-8")
        assert any("已被市级采用" in str(m.message["Subject"]) for m in smtp_sink.wait_for(1, timeout=30))
    finally:
        process.send_signal(signal.SIGINT if command == "web" else signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0
    if command == "web":
        assert f"127.0.0.1:{port}" in (tmp_path / "out.log").read_text()


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_client_address_comes_from_the_proxy_only_when_configured(app: App, proxies: int) -> None:
    import threading
    import urllib.error
    import urllib.parse
    import urllib.request
    from dataclasses import replace

    from mailbot.web import serve

    behind = replace(app, config=replace(app.config, web=replace(app.config.web, proxies=proxies)))
    server = serve.make_server(behind, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        base = serve.address(server)
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = opener.open(f"{base}login").read().decode("utf-8")
        form = urllib.parse.urlencode({"csrf_token": w.token(page), "name": "zhangsan", "password": "wrong one!"})
        request = urllib.request.Request(f"{base}login", form.encode(), headers={"X-Forwarded-For": "10.1.2.3"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(request)
        assert refused.value.code == 401
    finally:
        serve.stop(server)
        thread.join(timeout=10)
    with Session(app.engine) as s:
        failed = s.exec(select(AuditEntry).where(AuditEntry.action == "login_failed")).one()
    assert failed.client == ("10.1.2.3" if proxies else "127.0.0.1")


def test_mailbot_web_stops_on_sigint_even_when_started_with_it_ignored(app: App, tmp_path: Path) -> None:
    """A background job of a non-interactive shell (or nohup) starts with SIGINT ignored, so Python never
    raises KeyboardInterrupt: `mailbot web` must still stop on SIGINT and on SIGTERM."""
    import signal
    import subprocess
    import time
    import urllib.request

    from tests.servers import free_port

    for sent in (signal.SIGINT, signal.SIGTERM):
        port = free_port()
        config = tmp_path / f"config-{int(sent)}.toml"
        text = (tmp_path / "config.toml").read_text(encoding="utf-8")
        config.write_text(text + f"\n[web]\nport = {port}\n", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "--config", str(config), "web"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # noqa: PLW1509
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2)
                    break
                except OSError:
                    assert process.poll() is None and time.monotonic() < deadline
                    time.sleep(0.05)
            process.send_signal(sent)
            assert process.wait(timeout=30) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def test_stopping_the_register_beside_the_daemon_leaves_no_traceback(app: App) -> None:
    """`mailbot run` stops its register from the main thread while the serving thread waits in
    select(): the sockets must be closed by that thread, not pulled from under it (EBADF). The race
    is narrow, so it is run many times, with browser-like connections left open."""
    import socket
    import threading

    from mailbot.web import serve

    failures: list[threading.ExceptHookArgs] = []
    previous, threading.excepthook = threading.excepthook, failures.append
    try:
        for _ in range(40):
            server = serve.make_server(app, "127.0.0.1", 0)
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            idle = [socket.create_connection((server.effective_host, server.effective_port)) for _ in range(6)]
            serve.stop(server)
            thread.join(timeout=10)
            assert not thread.is_alive()
            assert not server._map  # noqa: SLF001 - every socket closed, the listening one included
            for conn in idle:
                conn.close()
    finally:
        threading.excepthook = previous
    assert [f.exc_value for f in failures] == []
