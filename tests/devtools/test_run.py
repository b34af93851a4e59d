"""`make run`'s preparation: environment over .env, and which SMTP server to use."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from decouple import AutoConfig

from devtools import run
from devtools.smtp import SMTPServer, free_port

HONCHO = str(Path(sys.executable).parent / "honcho")


@pytest.fixture
def env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A .env for devtools.run in a directory of its own."""
    path = tmp_path / ".env"
    monkeypatch.setattr(run, "ENV_FILE", path)
    return path


def config_with(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> object:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return AutoConfig(search_path=str(tmp_path))


@pytest.fixture
def not_smtp() -> Iterator[int]:
    """A port held by something that answers like a web server."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")

    threading.Thread(target=answer, daemon=True).start()
    yield server.getsockname()[1]
    stop.set()
    server.close()


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port where something accepts connections and says nothing."""
    server = socket.create_server(("127.0.0.1", 0))
    yield server.getsockname()[1]
    server.close()


class TestEnvironmentFirst:
    def test_the_environment_wins_and_dotenv_fills_in_the_rest(
        self, env_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        env_file.write_text("FLOWER_BASIC_AUTH=ops:from-dotenv\nRUN_TEST_ONLY=filled\n")
        monkeypatch.setenv("FLOWER_BASIC_AUTH", "ops:from-environment")
        monkeypatch.delenv("RUN_TEST_ONLY", raising=False)
        run.environment_first()
        assert os.environ["FLOWER_BASIC_AUTH"] == "ops:from-environment"
        assert os.environ["RUN_TEST_ONLY"] == "filled"
        monkeypatch.delenv("RUN_TEST_ONLY")

    def test_every_honcho_process_sees_the_environments_value(
        self, tmp_path: Path, env_file: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """honcho alone loads .env over the environment; as make run starts it,
        the processes get the environment's value."""
        env_file.write_text("DEBUG=True\nEMAIL_PORT=2525\n")
        (tmp_path / "Procfile").write_text(
            "show: python -c \"import os; print(os.environ['DEBUG'], "
            "os.environ['EMAIL_PORT'])\"\n"
        )
        monkeypatch.setenv("DEBUG", "False")
        monkeypatch.delenv("EMAIL_PORT", raising=False)
        run.environment_first()
        started = subprocess.run(
            run.honcho_command(HONCHO, ["show"]),
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert "False 2525" in started.stdout, started.stdout + started.stderr
        monkeypatch.delenv("EMAIL_PORT")


class TestMailPlan:
    def test_an_smtp_server_already_answering_is_used(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        with SMTPServer() as server:
            config = config_with(
                monkeypatch,
                tmp_path,
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=str(server.port),
            )
            plan = run.mail_plan(config)
        assert not plan.start_catcher
        assert f"127.0.0.1:{server.port}" in plan.destination
        assert "smtp" not in run.processes(config, plan)

    def test_the_catcher_starts_where_nothing_answers(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        config = config_with(
            monkeypatch, tmp_path, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(free_port())
        )
        plan = run.mail_plan(config)
        assert plan.start_catcher
        assert run.processes(config, plan)[0] == "smtp"

    def test_a_port_held_by_something_else_stops_make_run_with_a_message(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, not_smtp: int
    ) -> None:
        config = config_with(
            monkeypatch, tmp_path, EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(not_smtp)
        )
        with pytest.raises(SystemExit, match=r"not an SMTP server.*HTTP/1\.1 400"):
            run.mail_plan(config)

    def test_a_listener_that_never_greets_is_not_taken_for_smtp(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, silent_listener: int
    ) -> None:
        monkeypatch.setattr(run, "GREETING_TIMEOUT", 0.3)
        config = config_with(
            monkeypatch,
            tmp_path,
            EMAIL_HOST="localhost",
            EMAIL_PORT=str(silent_listener),
        )
        with pytest.raises(SystemExit, match="not an SMTP server"):
            run.mail_plan(config)

    def test_a_remote_server_is_used_as_named(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        config = config_with(
            monkeypatch, tmp_path, EMAIL_HOST="smtp.example.com", EMAIL_PORT="587"
        )
        plan = run.mail_plan(config)
        assert not plan.start_catcher
        assert plan.destination == "the SMTP server at smtp.example.com:587"
