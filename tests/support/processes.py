"""The real processes the end-to-end tests start (Celery workers, gunicorn), on
this test run's database, broker and SMTP server."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import redis

from devtools.processes import Process, start_worker
from tests.support.broker import broker_idle
from tests.support.waiting import wait_until

# One folder per pytest-xdist worker, so two never write the same log.
LOG_DIR = (
    Path(__file__).resolve().parents[2]
    / "test-artifacts"
    / "logs"
    / os.environ.get("PYTEST_XDIST_WORKER", "")
)
# Retries short enough for a test; a hung SMTP server noticed within seconds.
QUICK_RETRIES = {
    "NOTIFICATIONS_RETRY_BASE_DELAY": "0.2",
    "NOTIFICATIONS_RETRY_MAX_DELAY": "1",
    "NOTIFICATIONS_MAX_ATTEMPTS": "30",
    "EMAIL_TIMEOUT": "3",
    # One email per change, at once, unless a test chooses a window.
    "NOTIFICATIONS_COALESCE_SECONDS": "0",
}


def child_environment(
    database: Mapping[str, Any], broker_url: str, smtp_port: int, secret_key: str
) -> dict[str, str]:
    """What points a child process (project.settings) at the test database, the
    broker and the SMTP server."""
    env = {
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": secret_key,
        "DEBUG": "False",
        "CELERY_BROKER_URL": broker_url,
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(smtp_port),
        "EMAIL_USE_TLS": "False",
        # As under `make run`: the end-to-end tests sign people up.
        "SIGN_UP_OPEN": "True",
        **QUICK_RETRIES,
    }
    if database["ENGINE"].endswith("sqlite3"):
        env.update({"DB_NAME": "", "SQLITE_PATH": str(database["NAME"])})
    else:
        env.update({"DB_NAME": database["NAME"], "DB_HOST": str(database["HOST"])})
        env.update({"DB_PORT": str(database["PORT"]), "DB_USER": database["USER"]})
    return env


class SharedWorker:
    """One Celery worker process, kept from one end-to-end test to the next.

    Starting a worker costs seconds; most tests only need one that is running and
    has nothing left to do. A test may kill or stop it: the next one gets a new
    one, as it does when it asks for another environment.
    """

    def __init__(self, broker_url: str, log_dir: Path = LOG_DIR) -> None:
        self.broker = redis.Redis.from_url(broker_url)
        self.log_dir = log_dir
        self.process: Process | None = None
        self.env: dict[str, str] = {}

    def alive(self) -> bool:
        return self.process is not None and self.process.popen.poll() is None

    def running(self, env: dict[str, str]) -> Process:
        """The worker on `env`, started (after emptying the broker) if need be."""
        if not self.alive() or env != self.env:
            self.stop()
            self.broker.flushdb()  # no job left over from an earlier test
            self.process = start_worker(env, self.log_dir, name="e2e-worker")
            self.env = env
        assert self.process is not None
        return self.process

    def settle(self, timeout: float = 30.0) -> None:
        """Wait until the worker has nothing to do, so nothing from one test
        reaches the next; with no live worker, or one that never settles, stop
        it and empty the broker instead."""
        if broker_idle(self.broker):
            return
        if self.alive():
            try:
                wait_until(lambda: broker_idle(self.broker), timeout, "worker idle")
                return
            except AssertionError:
                self.stop()
        self.broker.flushdb()

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        self.process = None


# The session's SharedWorker, once a test has asked for it (tests/conftest.py).
SHARED_WORKER = pytest.StashKey[SharedWorker]()
