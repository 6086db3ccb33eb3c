"""The register in a real browser: Debian's chromium, headless, through /usr/bin/chromedriver, against
`mailbot web`'s own server (waitress on a free loopback port) with real Dovecot and SMTP behind it.

MAILBOT_SCREENSHOTS=docs keeps the screenshots of the main pages (1366x768) there for the README.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlmodel import Session, select

from mailbot import digests
from mailbot.adapters.db import Adoption, Item, Liaison, Message, Unit
from mailbot.bootstrap import App
from mailbot.domain.calendar import month_of
from mailbot.passes import poll_once
from mailbot.samples.mail import build_mail
from mailbot.schedule import local_today
from mailbot.web import serve
from tests.integration import web_support as w
from tests.integration.browser_support import chromium
from tests.servers import DovecotServer, SmtpSink


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    with chromium() as driver:
        yield driver


@pytest.fixture
def app(dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    # the sample week: receipts, rejections, one held
    return w.register(dovecot, smtp_sink, tmp_path, monkeypatch, count=17)


@pytest.fixture
def site(app: App, browser: WebDriver) -> Iterator[str]:
    """`mailbot web`'s server on a free port, in a thread; the browser starts with no cookies."""
    server = serve.make_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    browser.delete_all_cookies()
    yield serve.address(server).rstrip("/")
    serve.stop(server)
    thread.join(timeout=10)
    assert not thread.is_alive()


def wait(browser: WebDriver, condition: object, timeout: float = 15) -> object:
    return WebDriverWait(browser, timeout).until(condition)  # type: ignore[arg-type]


def shot(browser: WebDriver, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("MAILBOT_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    browser.set_window_size(1366, 768)
    browser.save_screenshot(str(folder / f"web-{name}.png"))


def log_in(browser: WebDriver, site: str, name: str, password: str = w.PASSWORD) -> None:
    browser.get(f"{site}/login")
    wait(browser, ec.presence_of_element_located((By.ID, "name")))
    browser.find_element(By.ID, "name").clear()
    browser.find_element(By.ID, "name").send_keys(name)
    browser.find_element(By.ID, "password").send_keys(password)
    browser.find_element(By.CSS_SELECTOR, "form.login button").click()


def unit_total(browser: WebDriver, site: str, unit_id: int, period: str) -> Decimal:
    browser.get(f"{site}/?unit={unit_id}&period={period}")
    found = wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#unit-total strong")))
    return Decimal(found.text)  # type: ignore[attr-defined]


def test_find_open_adopt_and_see_the_total_change(
    app: App, site: str, browser: WebDriver, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with Session(app.engine) as s:
        item = s.exec(select(Item).where(Item.kind == "routine").order_by(Item.id)).first()
        assert item is not None
        unit = s.get(Unit, item.unit_id)
        assert unit is not None and unit.id is not None
    period = month_of(local_today(app)).label
    browser.get(f"{site}/login")
    wait(browser, ec.presence_of_element_located((By.ID, "password")))
    shot(browser, "login", tmp_path)
    log_in(browser, site, "zhangsan")
    wait(browser, ec.presence_of_element_located((By.ID, "items")))
    shot(browser, "register", tmp_path)
    before = unit_total(browser, site, unit.id, period)

    browser.get(f"{site}/?period={period}")
    search = wait(browser, ec.presence_of_element_located((By.NAME, "q")))
    search.send_keys(item.title[:8])  # type: ignore[attr-defined]
    browser.find_element(By.CSS_SELECTOR, "form.filters button").click()
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main"), "共 1 条"))
    browser.find_element(By.LINK_TEXT, item.number).click()
    wait(browser, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), item.number))
    shot(browser, "item", tmp_path)

    Select(browser.find_element(By.NAME, "level")).select_by_value("province")
    browser.find_element(By.NAME, "publication").send_keys("《辽宁信息》第5期")
    browser.find_element(By.ID, "adopt").click()
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash.ok"), "省级采用"))
    assert "web:zhangsan" in browser.find_element(By.ID, "adoptions").text

    after = unit_total(browser, site, unit.id, period)
    assert after - before == Decimal("3")  # the item has one drafter, of its own unit
    report = digests.build_report(app.config, app.engine, "monthly", month_of(local_today(app)))
    (line,) = [u for u in report.units if u.unit == unit.name]
    assert Decimal(f"{line.points:g}") == after  # and the next bulletin says the same

    browser.get(f"{site}/units/{unit.id}?period={period}")
    wait(browser, ec.text_to_be_present_in_element((By.ID, "unit-points"), f"{after}"))
    assert "省级采用 3 分" in browser.find_element(By.ID, "unit-ledger").text
    shot(browser, "unit", tmp_path)
    browser.get(f"{site}/bulletins/build?kind=monthly&period={period}")
    wait(browser, ec.text_to_be_present_in_element((By.TAG_NAME, "body"), report.title))
    shot(browser, "bulletin", tmp_path)
    browser.get(f"{site}/held")
    wait(browser, ec.presence_of_element_located((By.ID, "held")))
    shot(browser, "held", tmp_path)
    assert any("已被省级采用" in str(m.message["Subject"]) for m in smtp_sink.wait_for(1))


def test_a_viewer_sees_no_actions_and_a_forged_post_gets_403(app: App, site: str, browser: WebDriver) -> None:
    with Session(app.engine) as s:
        number = s.exec(select(Item.number).order_by(Item.id)).first()
    log_in(browser, site, "lisi")
    wait(browser, ec.presence_of_element_located((By.ID, "items")))
    browser.get(f"{site}/items/{number}")
    wait(browser, ec.text_to_be_present_in_element((By.TAG_NAME, "h1"), str(number)))
    assert not browser.find_elements(By.ID, "adopt")
    # The page offers no form; build one as a curious viewer would, with the session's own token.
    browser.execute_script(
        """const token = document.querySelector('input[name=csrf_token]').value;
        const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        for (const [k, v] of [['csrf_token', token], ['level', 'national']]) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i); }
        document.body.appendChild(f); f.submit();""",
        f"/items/{number}/adopt",
    )
    wait(browser, ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "没有权限"))
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []


def test_a_form_without_its_token_is_refused(app: App, site: str, browser: WebDriver) -> None:
    with Session(app.engine) as s:
        number = s.exec(select(Item.number).order_by(Item.id)).first()
    log_in(browser, site, "zhangsan")
    wait(browser, ec.presence_of_element_located((By.ID, "items")))
    browser.get(f"{site}/items/{number}")
    wait(browser, ec.presence_of_element_located((By.ID, "adopt")))
    browser.execute_script("document.querySelector('#adopt-form input[name=csrf_token]').remove()")
    browser.find_element(By.ID, "adopt").click()
    wait(browser, ec.text_to_be_present_in_element((By.TAG_NAME, "main"), "校验码"))
    with Session(app.engine) as s:
        assert s.exec(select(Adoption)).all() == []


def test_five_wrong_passwords_and_the_sixth_try_waits(app: App, site: str, browser: WebDriver) -> None:
    for _ in range(5):
        log_in(browser, site, "zhangsan", "a wrong password")
        wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash.error"), "账号或密码不正确"))
    log_in(browser, site, "zhangsan")
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash.error"), "暂停登录"))
    assert not browser.find_elements(By.ID, "items")


def test_confirm_a_held_sender_and_see_it_leave_the_list(
    app: App, site: str, browser: WebDriver, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    with Session(app.engine) as s:
        held = s.exec(select(Message).where(Message.verdict == "held")).one()  # the sample week's stranger
    log_in(browser, site, "zhangsan")
    wait(browser, ec.presence_of_element_located((By.ID, "items")))
    browser.find_element(By.LINK_TEXT, "暂存邮件").click()
    row = wait(browser, ec.presence_of_element_located((By.ID, f"held-{held.id}")))
    assert held.sender in row.text  # type: ignore[attr-defined]
    name = browser.find_element(By.CSS_SELECTOR, f"#held-{held.id} input[name=name]")
    name.clear()
    name.send_keys("张三")
    browser.find_element(By.CSS_SELECTOR, f"#held-{held.id} input[name=unit]").send_keys("宣教科")
    browser.find_element(By.CSS_SELECTOR, f"#held-{held.id} button").click()
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash.ok"), "已登记宣传员：宣教科 张三"))
    assert not browser.find_elements(By.ID, f"held-{held.id}")
    assert held.sender not in browser.find_element(By.ID, "held").text
    assert any(held.sender in m.rcpt_tos for m in smtp_sink.wait_for(1))  # its reply, as after 登记 by email

    browser.find_element(By.LINK_TEXT, "宣传员名册").click()
    wait(browser, ec.text_to_be_present_in_element((By.ID, "registry"), held.sender))
    shot(browser, "registry", tmp_path)
    with Session(app.engine) as s:
        assert s.exec(select(Liaison).where(Liaison.email == held.sender)).one().name == "张三"


def test_ask_a_unit_for_a_written_verification_from_the_incidents_page(
    app: App, site: str, browser: WebDriver, dovecot: DovecotServer, smtp_sink: SmtpSink, tmp_path: Path
) -> None:
    liaison = next(u.liaisons[0] for u in app.config.units if u.name == "盘山县应急管理局")
    dovecot.append(
        build_mail(liaison.email, "【首报】盘山县某化工厂发生火灾", [], body="某化工厂储罐区起火，暂无人员伤亡。")
    )
    poll_once(app.source, app.desk, app.transport)
    smtp_sink.wait_for(1)
    smtp_sink.clear()
    log_in(browser, site, "zhangsan")
    wait(browser, ec.presence_of_element_located((By.ID, "items")))
    browser.find_element(By.LINK_TEXT, "突发事件").click()
    row = wait(browser, ec.presence_of_element_located((By.CSS_SELECTOR, "#incidents tr[id^=incident-]")))
    assert "盘山县应急管理局" in row.text and "终报" in row.text  # type: ignore[attr-defined]
    shot(browser, "incidents", tmp_path)
    row.find_element(By.CSS_SELECTOR, "button[value=书面]").click()  # type: ignore[attr-defined]
    wait(browser, ec.text_to_be_present_in_element((By.CSS_SELECTOR, ".flash.ok"), "核报（书面反馈）"))
    (notice,) = smtp_sink.wait_for(1)
    assert liaison.email in notice.rcpt_tos
    assert "登记：已电话反馈" in browser.find_element(By.ID, "incidents").text
