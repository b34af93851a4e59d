"""The process set of one run: database, Redis, SMTP server, web, workers, beat.

A Stack is a context manager: whatever it started is stopped, and its database
dropped, when the block ends, whether by success, failure, Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg2
from psycopg2 import sql

from bench.knobs import GUNICORN_WORKERS
from devtools.processes import ROOT, Process, beat_command, worker_command
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import SMTPServer, free_port

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


@dataclass
class WebServer:
    label: str
    url: str
    process: Process


def _pg_admin() -> Any:
    connection = psycopg2.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", connect_timeout=5
    )
    connection.autocommit = True
    return connection


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def drop_database(name: str) -> None:
    with contextlib.closing(_pg_admin()) as admin, admin.cursor() as cursor:
        statement = "DROP DATABASE IF EXISTS {} WITH (FORCE)"
        cursor.execute(sql.SQL(statement).format(sql.Identifier(name)))


def drop_stale_databases(prefix: str) -> None:
    """Drop databases left by runs that were SIGKILLed (their pid is gone)."""
    with contextlib.closing(_pg_admin()) as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "_%"]
        )
        names = [row[0] for row in cursor.fetchall()]
    for name in names:
        suffix = name.rsplit("_", 1)[-1]
        if suffix.isdigit() and not _pid_alive(int(suffix)):
            drop_database(name)


def create_database(name: str) -> None:
    with contextlib.closing(_pg_admin()) as admin, admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _raise_exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def wait_http_ok(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s")
        time.sleep(0.2)


class Stack:
    """Starts the parts on loopback; Django in this process uses the same database."""

    def __init__(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.extra_env = extra_env or {}
        self.db_name = f"taskmanager_{name}_{os.getpid()}"
        self.log_dir = ROOT / "var" / "bench" / f"{name}-{os.getpid()}"
        self.frontend_url = "http://127.0.0.1:8000"
        self._exit = ExitStack()
        self.redis: EmbeddedRedis | None = None
        self.smtp: SMTPServer | None = None
        self.env: dict[str, str] = {}
        self.workers: list[Process] = []
        self._worker_count = 0

    # Lifecycle ------------------------------------------------------------------

    def __enter__(self) -> Stack:
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _raise_exit)
        try:
            self._start_base()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        print(f"Cleaning up: processes, Redis, database {self.db_name} ...", flush=True)
        self._exit.close()

    def _start_base(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        drop_stale_databases(f"taskmanager_{self.name}")
        create_database(self.db_name)
        self._exit.callback(drop_database, self.db_name)
        self._exit.callback(self._close_django_connections)
        self.redis = EmbeddedRedis(free_port()).start()
        self._exit.callback(self._stop_redis)
        self.smtp = SMTPServer().start()
        self._smtp_down = False
        self._exit.callback(self._stop_smtp)
        self.env = self._environment()
        os.environ.update(self.env)
        self._setup_django()

    def _stop_smtp(self) -> None:
        if self.smtp is not None and not self._smtp_down:
            self.smtp.stop()

    def _stop_redis(self) -> None:
        assert self.redis is not None
        self.redis.stop()
        self.redis._dir.cleanup()

    def _environment(self) -> dict[str, str]:
        assert self.redis is not None and self.smtp is not None
        return {
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SECURE_SSL_REDIRECT": "False",
            "SESSION_COOKIE_SECURE": "False",
            "CSRF_COOKIE_SECURE": "False",
            "SECURE_HSTS_SECONDS": "0",
            "DB_NAME": self.db_name,
            "DB_HOST": PG_HOST,
            "DB_PORT": str(PG_PORT),
            "DB_USER": PG_USER,
            "DB_PASSWORD": "",
            "CELERY_BROKER_URL": self.redis.url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp.port),
            "EMAIL_USE_TLS": "False",
            "EMAIL_HOST_USER": "",
            "EMAIL_HOST_PASSWORD": "",
            "FRONTEND_URL": self.frontend_url,
            # Every benchmark client signs up from 127.0.0.1: no per-client limit.
            "RATELIMIT_ENABLE": "False",
            # The runs sign people up (closed by default in production).
            "SIGN_UP_OPEN": "True",
            # One email per change, at once: the runs count emails per change
            # (run 11, bench/coalescing.py, sets its own window).
            "NOTIFICATIONS_COALESCE_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }

    def _setup_django(self) -> None:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)

    def _close_django_connections(self) -> None:
        from django.db import connections

        connections.close_all()

    # Processes --------------------------------------------------------------------

    def _register(self, process: Process, stop_timeout: float) -> Process:
        self._exit.callback(process.stop, stop_timeout)
        return process

    def start_web(
        self, label: str, *, app: str = "project.wsgi:application"
    ) -> WebServer:
        port = free_port()
        command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}"]
        command += ["--workers", str(GUNICORN_WORKERS), "--timeout", "120"]
        command += ["--graceful-timeout", "5", "--log-level", "warning"]
        process = self._register(Process(label, command, self.env, self.log_dir), 10)
        process.start()
        url = f"http://127.0.0.1:{port}"
        wait_http_ok(f"{url}/healthz")
        return WebServer(label, url, process)

    def start_worker(
        self, concurrency: int = 4, name: str = "", queues: str = "", **env: str
    ) -> Process:
        self._worker_count += 1
        name = name or f"worker{self._worker_count}"
        command = worker_command(concurrency, name, queues)
        process = Process(name, command, {**self.env, **env}, self.log_dir)
        self._register(process, 10).start(ready_text="ready.", timeout=90)
        self.workers.append(process)
        return process

    def stop_worker(self, process: Process) -> None:
        process.stop()
        if process in self.workers:
            self.workers.remove(process)

    def start_beat(self, name: str = "beat", **env: str) -> Process:
        """A beat process; several, each with a name (and schedule file) of its
        own, run side by side as replicas would."""
        schedule = self.log_dir / f"celery{name}-schedule"
        command = beat_command(schedule)
        process = Process(name, command, {**self.env, **env}, self.log_dir)
        return self._register(process, 10).start(
            ready_text="beat: Starting", timeout=60
        )

    def start_inbound(self, domain: str) -> int:
        """The product's inbound SMTP listener for `domain`; its port."""
        port = free_port()
        command = [sys.executable, "manage.py", "serve_inbound_smtp"]
        command += ["--port", str(port)]
        env = {**self.env, "INBOUND_DOMAIN": domain}
        process = Process("inbound", command, env, self.log_dir)
        self._register(process, 10).start(
            ready_text="Inbound SMTP listening", timeout=60
        )
        return port

    def stop_redis_for_outage(self) -> None:
        assert self.redis is not None
        self.redis.stop()

    def restart_redis(self) -> None:
        assert self.redis is not None
        self.redis.start()

    def stop_smtp_for_outage(self) -> None:
        """The SMTP server dies: its port refuses, its connections drop."""
        assert self.smtp is not None
        self.smtp.stop()
        self._smtp_down = True

    def restart_smtp(self) -> None:
        """The SMTP server back on its port, keeping what it accepted before (a
        new server: aiosmtpd's cannot start twice)."""
        assert self.smtp is not None
        self.smtp = SMTPServer(self.smtp.sink, port=self.smtp.port).start()
        self._smtp_down = False


def descendants(pid: int) -> list[int]:
    """pid and every process below it, from /proc/<pid>/task/*/children."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                found.extend(descendants(int(child)))
    return found


def status_kib(pid: int, field: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of pid and its descendants, live or reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for each in descendants(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += sum(int(value) for value in fields[11:15]) / ticks
    return total
