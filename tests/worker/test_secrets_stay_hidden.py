"""No worker reply and no Flower page shows a secret, and Flower asks for its
password however it is started.

Real processes: a password-protected Redis, a Celery worker and Flower, started
from a copy of the project whose secrets sit in the environment or in .env.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from devtools.processes import Process, worker_command
from devtools.redis_server import EmbeddedRedis
from devtools.smtp import free_port
from tests.support.processes import LOG_DIR

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "node_modules", "test-artifacts", "var", "staticfiles", ".env",
    "*.sqlite3", "__pycache__", ".pytest_cache", ".ruff_cache", "bench",
)  # fmt: skip
SECRETS = {
    "flower": "flowerpw-4d1c9e07a2",
    "broker": "brokerpw-77be0c5f13",
    "smtp_user": "smtpuser-0c2d5b9e41",
    "smtp_password": "smtppw-9f3a61d0c8",
    "secret_key": "secretkey-5e0b8c3f71-" + "k2J9xQ4vR7mT1pL8zW3nB6yH0dF5sG" * 2,
    "db_password": "dbpw-31e7a9c4b6",
    "fallback_password": "fallbackpw-6a0e2d94bc",
    "esp_api_key": "espkey-1f8c3b07ad",
    "webhook_secret": "hookpw-c47e19b2f5",
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project: its .env is this test's, never a developer's."""
    copy = tmp_path_factory.mktemp("project") / "app"
    shutil.copytree(ROOT, copy, ignore=NOT_COPIED)
    return copy


@pytest.fixture(scope="module")
def protected_redis() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(free_port(), password=SECRETS["broker"]) as server:
        yield server


def secret_environment(broker_url: str, project: Path) -> dict[str, str]:
    return {
        "DEBUG": "False", "SECRET_KEY": SECRETS["secret_key"],
        "CELERY_BROKER_URL": broker_url,
        "FLOWER_BASIC_AUTH": f"ops:{SECRETS['flower']}",
        "EMAIL_HOST_USER": SECRETS["smtp_user"],
        "EMAIL_HOST_PASSWORD": SECRETS["smtp_password"],
        "EMAIL_FALLBACK_HOST": "127.0.0.1",
        "EMAIL_FALLBACK_PASSWORD": SECRETS["fallback_password"],
        "ESP_API_KEY": SECRETS["esp_api_key"],
        "ANYMAIL_WEBHOOK_SECRET": f"esp:{SECRETS['webhook_secret']}",
        # PostgreSQL settings that are never connected to: inspecting needs no DB.
        "DB_NAME": "never_connected", "DB_PORT": str(free_port()),
        "DB_PASSWORD": SECRETS["db_password"], "PYTHONPATH": str(project),
    }  # fmt: skip


def in_copy(project: Path, env: dict[str, str]) -> dict[str, str]:
    """Run from the copy: drop this test run's own settings from the environment."""
    ours = {"SECRET_KEY", "FLOWER_BASIC_AUTH", "CELERY_BROKER_URL", "SQLITE_PATH"}
    base = {k: v for k, v in os.environ.items() if k not in ours}
    return {**base, **env}


@pytest.fixture(scope="module")
def worker(project: Path, protected_redis: EmbeddedRedis) -> Iterator[Process]:
    env = in_copy(project, secret_environment(protected_redis.url, project))
    process = Process("secrets-worker", worker_command(1, "secrets"), env, LOG_DIR)
    process.env = env  # exactly this environment, nothing of ours
    process.popen = subprocess.Popen(
        process.command, cwd=project, env=env, start_new_session=True,
        stdout=process.log_path.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    process.wait_for_log("ready.", timeout=60)
    yield process
    process.stop()


def celery(project: Path, env: dict[str, str], *args: str) -> str:
    answer = subprocess.run(
        [sys.executable, "-m", "celery", "-A", "project", *args],
        cwd=project, env=in_copy(project, env), capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    return answer.stdout


def assert_no_secret(text: str) -> None:
    shown = [name for name, value in SECRETS.items() if value in text]
    assert shown == [], f"{shown} shown"


def worker_name(worker: Process) -> str:
    """The node name the worker announced (name@host) when it was ready."""
    found = re.search(r"(\S+@\S+) ready\.", worker.log())
    assert found, worker.log()
    return found.group(1)


def inspect(project: Path, env: dict[str, str], worker: Process, *args: str) -> str:
    """`celery inspect` addressed to the worker: it returns once the worker has
    answered (asking every worker, it would wait out the whole timeout)."""
    address = ["--destination", worker_name(worker), "--timeout", "30"]
    return celery(project, env, "inspect", *args, *address)


def test_inspect_conf_stats_and_report_show_no_secret(
    project: Path, protected_redis: EmbeddedRedis, worker: Process
) -> None:
    env = secret_environment(protected_redis.url, project)
    conf = inspect(project, env, worker, "conf", "--json")
    [reply] = json.loads(conf).values()
    assert reply["task_acks_late"] is True  # Celery's settings are there
    assert not {"SECRET_KEY", "FLOWER_BASIC_AUTH", "DATABASES"} & set(reply)
    # Only Celery's own names, and the one its Django fixup reads by that name.
    assert [key for key in reply if key.isupper()] == ["CELERY_DB_REUSE_MAX"]
    assert_no_secret(conf)  # every value of the settings the worker answers with
    commands = ("stats", "report", "registered")
    with ThreadPoolExecutor() as pool:  # three celery processes at once
        answers = list(pool.map(lambda c: inspect(project, env, worker, c), commands))
    for answer in answers:
        assert worker_name(worker) in answer  # the worker did answer
        assert_no_secret(answer)


class FlowerProcess:
    def __init__(self, project: Path, env: dict[str, str], name: str) -> None:
        self.port = free_port()
        command = [
            sys.executable, "-m", "celery", "-A", "project", "flower",
            "--address=127.0.0.1", f"--port={self.port}",
        ]  # fmt: skip
        self.process = Process(name, command, env, LOG_DIR)
        self.process.env = env
        self.project = project

    def start(self, cwd: Path) -> FlowerProcess:
        self.process.popen = subprocess.Popen(
            self.process.command, cwd=cwd, env=self.process.env,
            stdout=self.process.log_path.open("wb"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        return self

    def get(self, path: str, password: str | None = None) -> tuple[int, str]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if password:
            token = base64.b64encode(f"ops:{password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def wait_until_answering(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.get("/")
                return
            except OSError:
                if self.process.popen.poll() is not None:
                    raise RuntimeError(self.process.log()) from None
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def wait_for_worker(self, name: str, timeout: float = 30) -> str:
        """/api/workers?refresh=1 once it lists the worker (inspect replies)."""
        deadline = time.monotonic() + timeout
        while True:
            status, body = self.get("/api/workers?refresh=1", SECRETS["flower"])
            if status == 200 and name in body and '"conf"' in body:
                return body
            assert time.monotonic() < deadline, body
            time.sleep(0.5)


@pytest.fixture(scope="module")
def flower_from_dotenv(
    project: Path, protected_redis: EmbeddedRedis, worker: Process
) -> Iterator[FlowerProcess]:
    """Flower whose password is only in the copy's .env, started from elsewhere.

    The .env goes once Flower answers: it has read it, and the next test starts
    a Flower that must find no password anywhere."""
    env = secret_environment(protected_redis.url, project)
    flower_line = f"FLOWER_BASIC_AUTH={env.pop('FLOWER_BASIC_AUTH')}\n"
    (project / ".env").write_text(flower_line)
    flower = FlowerProcess(project, in_copy(project, env), "secrets-flower")
    try:
        flower.start(cwd=project.parent).wait_until_answering()
    finally:
        (project / ".env").unlink()
    yield flower
    flower.process.stop()


def test_flower_asks_for_the_password_it_found_only_in_dotenv(
    flower_from_dotenv: FlowerProcess,
) -> None:
    assert flower_from_dotenv.get("/")[0] == 401
    assert flower_from_dotenv.get("/", "wrong-password")[0] == 401
    assert flower_from_dotenv.get("/", SECRETS["flower"])[0] == 200


def test_flowers_worker_pages_show_no_secret(
    flower_from_dotenv: FlowerProcess, worker: Process
) -> None:
    body = flower_from_dotenv.wait_for_worker("secrets-")
    assert_no_secret(body)
    [worker_name] = [key for key in json.loads(body) if key.startswith("secrets-")]
    for path in (f"/worker/{worker_name}", "/workers", "/broker", "/tasks"):
        status, page = flower_from_dotenv.get(path, SECRETS["flower"])
        assert status == 200, path
        assert_no_secret(page)


def test_flower_refuses_to_start_without_a_password(
    project: Path, protected_redis: EmbeddedRedis
) -> None:
    env = secret_environment(protected_redis.url, project)
    del env["FLOWER_BASIC_AUTH"]
    flower = FlowerProcess(project, in_copy(project, env), "secrets-flower-bare")
    flower.start(cwd=project)
    assert flower.process.popen.wait(timeout=60) != 0
    assert "FLOWER_BASIC_AUTH is not set" in flower.process.log()
