"""Start the real processes (Celery worker, beat, web) for tests and benchmarks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "-A", "project"]


class Process:
    """A child process whose output goes to a log file; ready once a line appears."""

    def __init__(
        self, name: str, command: list[str], env: Mapping[str, str], log_dir: Path
    ) -> None:
        self.name = name
        self.command = command
        self.env = {**os.environ, **env}
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self, ready_text: str | None = None, timeout: float = 60.0) -> Process:
        log = self.log_path.open("wb")
        self.popen = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if ready_text:
            self.wait_for_log(ready_text, timeout)
        return self

    def wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.log():
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready:\n{self.log()[-3000:]}")
            time.sleep(0.02)  # each wait overshoots the ready line by up to this

    def log(self) -> str:
        return (
            self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker and its pool children."""
        os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()


def worker_command(
    concurrency: int = 2, name: str = "worker", queues: str = ""
) -> list[str]:
    """A Celery worker; it consumes every queue of the settings unless `queues`
    names some (-Q)."""
    only = ["--queues", queues] if queues else []
    return [
        *CELERY,
        "worker",
        "--loglevel",
        "INFO",
        "--concurrency",
        str(concurrency),
        "--hostname",
        f"{name}-{os.getpid()}@%h",
        "--without-gossip",
        "--without-mingle",
        *only,
    ]


def beat_command(schedule_file: Path) -> list[str]:
    return [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(schedule_file)]


def start_worker(
    env: Mapping[str, str], log_dir: Path, concurrency: int = 2, name: str = "worker"
) -> Process:
    process = Process(name, worker_command(concurrency, name), env, log_dir)
    return process.start(ready_text="ready.", timeout=60)
