"""`make bench` (2): the product beside the libraries a Django team would otherwise
pick, in one run, against one SMTP server, sending the product's own rendered
assignment email, on two clocks:

- from the first request: 200 "create a task for ten people" transactions, one
  after the other, as 200 requests would commit them, to the last 250;
- from COMMIT: the same 200 tasks in one transaction, from its COMMIT.

The yardstick is a plain smtplib loop on one connection (it has no requests: both
of its clocks are its send time). The peers run in processes of their own
(bench/peers.py) from .venv-bench, where django-post-office and
django-celery-email are installed; the product's environment never holds them.
The product's transactions run there too, with its receivers connected: in this
process they would share one interpreter with the SMTP server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.bench_results import PathRun, Throughput
from bench.inbox import expected_keys, markers
from bench.knobs import WINDOW
from devtools.processes import Process

if TYPE_CHECKING:
    from bench.rig import Rig

PATHS = ("django", "celery_email", "post_office", "product")  # beside the loop
CLOCKS = ("request", "commit")
ASSIGNEES = 10
PEER_SETTINGS = {"DJANGO_SETTINGS_MODULE": "bench.peer_settings"}


def throughput(rig: Rig, tasks: int, rounds: int) -> Throughput:
    """Every path on both clocks, `rounds` times: `tasks` tasks x 10 people."""
    return Comparison(rig, tasks).run(rounds)


class Comparison:
    def __init__(self, rig: Rig, tasks: int) -> None:
        self.rig = rig
        self.tasks = tasks
        self.people = rig.people[:ASSIGNEES]
        self.content_path = rig.stack.log_dir / "assignment-email.json"
        self.peer_env = {**rig.stack.env, **PEER_SETTINGS}
        self.sequence = 0

    def run(self, rounds: int) -> Throughput:
        peer_worker = self.prepare_peers()
        runs: list[PathRun] = []
        for _ in range(rounds):
            runs.append(self.loop())
            runs += [self.measure(path, clock) for clock in CLOCKS for path in PATHS]
        self.rig.stack.stop_worker(peer_worker)
        return Throughput(runs, rounds, self.tasks, len(self.people))

    def prepare_peers(self) -> Process:
        """The email every path sends, the peers' tables, django-celery-email's
        worker."""
        write_content(self.content_path)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            env={**os.environ, **self.peer_env},
            check=True,
            timeout=300,
        )
        return self.rig.stack.start_worker(
            4, name="peer-worker", queues="peer", **PEER_SETTINGS
        )

    def loop(self) -> PathRun:
        count = self.tasks * len(self.people)
        command = ["-m", "bench.smtp_loop", str(self.rig.smtp.port), str(count)]
        answer = subprocess.run(
            [sys.executable, *command, str(self.content_path)],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        result = json.loads(answer.stdout)
        count, seconds = result["count"], result["seconds"]
        return PathRun("loop", "both", count, seconds, 0, 0, cpu=result["cpu"])

    def measure(self, path: str, clock: str) -> PathRun:
        self.sequence += 1
        # Letters only: the marker the inbox reads is [a-z]{2,12}-\d{5}.
        prefix = f"{path.replace('_', '')[:4]}{clock[0]}{letters(self.sequence)}"
        expected = expected_keys(markers(prefix, self.tasks), self.people)
        started = self.peer(path, prefix, clock)
        if path == "product":
            started += WINDOW  # its clock starts when its first window ends
        self.rig.wait_for(expected, 600)
        arrivals = self.rig.inbox.tally(expected, prefix)
        seconds = self.rig.inbox.last_arrival(expected) - started
        return PathRun(
            path, clock, len(expected), seconds, arrivals.lost, arrivals.duplicated
        )

    def peer(self, path: str, prefix: str, clock: str) -> float:
        people = ",".join(str(person.pk) for person in self.people)
        project, content = str(self.rig.project.pk), str(self.content_path)
        arguments = [path, clock, prefix, str(self.tasks), project, people, content]
        answer = subprocess.run(
            [sys.executable, "-m", "bench.peers", *arguments],
            env={**os.environ, **self.peer_env},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if answer.returncode != 0:
            raise RuntimeError(f"peer {path} failed:\n{answer.stderr[-3000:]}")
        wall = float(json.loads(answer.stdout.strip().splitlines()[-1])["started"])
        return wall - (time.time() - time.monotonic())  # its wall clock, as ours


def letters(number: int) -> str:
    """0 -> "a", 25 -> "z", 26 -> "ba": a run's number in a marker's letters."""
    text = ""
    while True:
        number, digit = divmod(number, 26)
        text = "abcdefghijklmnopqrstuvwxyz"[digit] + text
        if not number:
            return text


def write_content(path: Path) -> None:
    """The product's assignment email, rendered by its own builder (sample data),
    as the text, HTML and sender every path sends."""
    from django.conf import settings

    from notifications.previews import html_of, preview

    message = preview("task_assigned")
    content: dict[str, Any] = {
        "subject": "New Task Assigned: Load",
        "text": message.body,
        "html": html_of(message),
        "from": settings.DEFAULT_FROM_EMAIL,
    }
    path.write_text(json.dumps(content))
