"""Starting Debian's chromium for the browser tests, so that a slow or stuck start says why.

Once in CI, chromium did not come up within chromedriver's 60 s (`DevToolsActivePort file doesn't
exist`, the browser still running) and a whole test module errored with nothing to go on. So the
browser talks to chromedriver over a pipe (no port file to wait for), a start that fails is tried
again with a fresh profile, and when every attempt fails the failure carries the end of
chromedriver's log, which includes chromium's own output.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-pipe",  # chromedriver speaks to it over fds 3/4, not a port named in a file
    "--window-size=1366,768",
    "--lang=zh-CN",
)
ATTEMPTS = 3
LOG_TAIL = 4000  # characters of chromedriver's log kept in the failure


def options(profile: Path) -> webdriver.ChromeOptions:
    chosen = webdriver.ChromeOptions()
    chosen.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        chosen.add_argument(flag)
    return chosen


def start(profile: Path, log: Path) -> WebDriver:
    """One attempt; chromedriver's verbose log, with chromium's stderr in it, goes to `log`."""
    service = Service(executable_path=DRIVER, service_args=["--verbose", "--enable-chrome-logs"], log_output=str(log))
    return webdriver.Chrome(service=service, options=options(profile))


@contextmanager
def chromium() -> Iterator[WebDriver]:
    """A headless chromium with its own profile, removed afterwards; skipped without chromium
    unless CI is set, where a missing browser is a failure."""
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        message = "chromium and chromium-driver not installed (scripts/setup-system)"
        if os.environ.get("CI"):
            pytest.fail(f"{message}, but CI is set: the browser tests must not be skipped", pytrace=False)
        pytest.skip(message)
    failures: list[str] = []
    for attempt in range(1, ATTEMPTS + 1):
        profile = Path(tempfile.mkdtemp(prefix="mailbot-chromium-"))
        log = profile.with_suffix(".log")
        try:
            driver = start(profile, log)
        except WebDriverException as error:
            tail = log.read_text(errors="replace")[-LOG_TAIL:] if log.exists() else "(no log)"
            failures.append(f"attempt {attempt}: {error.msg}\n--- chromedriver log, end ---\n{tail}")
            shutil.rmtree(profile, ignore_errors=True)
            log.unlink(missing_ok=True)
            continue
        try:
            yield driver
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
            log.unlink(missing_ok=True)
        return
    pytest.fail(f"chromium did not start in {ATTEMPTS} attempts\n" + "\n\n".join(failures), pytrace=False)
