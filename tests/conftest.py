"""Shared pytest fixtures; the servers themselves live in tests/servers.py."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.servers import DovecotServer, SmtpSink, drop_test_databases, find_dovecot, postgres_reachable

# Hypothesis: CI runs a fixed, derandomized set; the long profile (random seeds, ten times the
# examples in the fuzz tests) is for a run on demand: ./scripts/test --hypothesis-profile=long
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile(
    "long", derandomize=False, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("ci")


def _require_dovecot() -> None:
    """Skip on a workstation without Dovecot; in CI a missing Dovecot is a broken setup."""
    if find_dovecot() is not None:
        return
    message = "dovecot not installed (apt-get install dovecot-imapd)"
    if os.environ.get("CI"):
        pytest.fail(f"{message}, but CI is set: the integration tests must not be skipped", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def dovecot_server() -> Iterator[DovecotServer]:
    """One Dovecot for the session; use the ``dovecot`` fixture for a clean mailbox."""
    _require_dovecot()
    with DovecotServer() as server:
        yield server


@pytest.fixture
def dovecot(dovecot_server: DovecotServer) -> DovecotServer:
    """The session's Dovecot with an empty mailbox, running even if a test stopped it.

    reset() takes 15-20 ms against 35-50 ms for a new server. UIDs keep growing across
    tests, so compare against ``uids()`` rather than assuming 1.
    """
    dovecot_server.reset()
    return dovecot_server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """A fresh SMTP sink per test; starting one takes ~2 ms."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="session", autouse=True)
def _postgres_pass() -> Iterator[None]:
    """With MAILBOT_TEST_DB=postgresql every test database is a fresh PostgreSQL database."""
    if os.environ.get("MAILBOT_TEST_DB") == "postgresql" and not postgres_reachable():
        pytest.exit("MAILBOT_TEST_DB=postgresql but PostgreSQL is not reachable (MAILBOT_TEST_POSTGRES)", 2)
    yield
    drop_test_databases()
