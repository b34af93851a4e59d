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
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.report import MISSED, Table, verdict

if TYPE_CHECKING:
    from bench.run import Bench

PEERS = {
    "loop": "plain smtplib loop, one connection (yardstick)",
    "django": "Django's SMTP backend, one connection, send_messages per request",
    "celery_email": "django-celery-email, chunks of 10 (no per-message record)",
    "post_office": "django-post-office, queue then send_queued_mail (durable)",
    "product": "this product (durable, a record per email, retries, pace)",
}
CLOCKS = ("request", "commit")
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "2"))
TARGET = 1.2  # x the loop, from the first request


@dataclass
class Run:
    path: str
    clock: str
    emails: int
    seconds: float
    lost: int
    duplicated: int

    @property
    def rate(self) -> float:
        return self.emails / self.seconds if self.seconds > 0 else 0.0


class Comparison:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.stack, self.data = bench.stack, bench.data
        self.units = bench.burst_tasks
        self.people = bench.people[:10]
        self.content_path = self.stack.log_dir / "assignment-email.json"
        self.runs: list[Run] = []
        self.sequence = 0

    # Set-up ---------------------------------------------------------------------

    def prepare(self) -> None:
        write_content(self.content_path)
        self.peer_env = {
            **self.stack.env,
            "DJANGO_SETTINGS_MODULE": "bench.peer_settings",
        }
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            env={**os.environ, **self.peer_env},
            check=True,
            timeout=300,
        )
        self.peer_worker = self.stack.start_worker(
            4,
            name="peer-worker",
            queues="peer",
            DJANGO_SETTINGS_MODULE="bench.peer_settings",
        )

    # The runs ---------------------------------------------------------------------

    def run(self) -> None:
        self.prepare()
        for _ in range(ROUNDS):
            self.runs.append(self.loop())
            for clock in CLOCKS:
                for path in ("django", "celery_email", "post_office", "product"):
                    self.runs.append(self.measure(path, clock))
        self.stack.stop_worker(self.peer_worker)

    def loop(self) -> Run:
        count = self.units * len(self.people)
        answer = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.smtp_loop",
                str(self.stack.smtp.port),
                str(count),
                str(self.content_path),
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        result = json.loads(answer.stdout)
        return Run("loop", "both", result["count"], result["seconds"], 0, 0)

    def measure(self, path: str, clock: str) -> Run:
        self.sequence += 1
        # Letters only: the marker the inbox reads is [a-z]{2,12}-\d{5}.
        prefix = f"{path.replace('_', '')[:4]}{clock[0]}{letters(self.sequence)}"
        expected = self.data.expected_keys(
            [self.data.marker(prefix, i) for i in range(self.units)], self.people
        )
        if path == "product":
            started = self.product(prefix, clock)
        else:
            started = self.peer(path, prefix, clock)
        self.bench.wait_for(expected, 600)
        tally = self.bench.inbox.tally(expected, prefix)
        ended = max(
            (self.bench.inbox.first_at.get(k, 0.0) for k in expected), default=0
        )
        return Run(
            path, clock, len(expected), ended - started, tally.lost, tally.duplicated
        )

    def product(self, prefix: str, clock: str) -> float:
        """In this process, as the web would: the product's receivers record and
        publish each transaction's emails on commit."""
        from django.db import transaction

        tags = [self.data.marker(prefix, i) for i in range(self.units)]
        if clock == "request":
            started = time.monotonic()
            for tag in tags:
                with transaction.atomic():
                    self.data.create_task(
                        self.bench.project, f"Load {tag}", self.people
                    )
            return started
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(time.monotonic()))
            for tag in tags:
                self.data.create_task(self.bench.project, f"Load {tag}", self.people)
        return committed[0]

    def peer(self, path: str, prefix: str, clock: str) -> float:
        people = ",".join(str(person.pk) for person in self.people)
        answer = subprocess.run(
            [
                sys.executable,
                "-m",
                "bench.peers",
                path,
                clock,
                prefix,
                str(self.units),
                str(self.bench.project.pk),
                people,
                str(self.content_path),
            ],
            env={**os.environ, **self.peer_env},
            capture_output=True,
            text=True,
            timeout=900,
        )
        if answer.returncode != 0:
            raise RuntimeError(f"peer {path} failed:\n{answer.stderr[-3000:]}")
        wall = json.loads(answer.stdout.strip().splitlines()[-1])["started"]
        return wall - (time.time() - time.monotonic())  # its wall clock, as ours

    # Results ------------------------------------------------------------------

    def best(self, path: str, clock: str) -> Run:
        runs = [r for r in self.runs if r.path == path and r.clock in (clock, "both")]
        return max(runs, key=lambda run: run.rate)

    def product_ratio(self) -> float:
        loop = self.best("loop", "request").rate
        return self.best("product", "request").rate / loop if loop else 0.0

    def table(self) -> Table:
        table = Table(
            "(2) Throughput beside the peers: 2,000 emails, one SMTP server",
            (
                "path",
                "from the first request",
                "x loop",
                "from COMMIT",
                "x loop",
                "lost / dup",
            ),
        )
        loop = self.best("loop", "request").rate
        for path, label in PEERS.items():
            request, commit = self.best(path, "request"), self.best(path, "commit")
            lost = sum(r.lost for r in self.runs if r.path == path)
            duplicated = sum(r.duplicated for r in self.runs if r.path == path)
            table.add(
                label,
                f"{request.rate:.0f}/s",
                f"{request.rate / loop:.2f}",
                f"{commit.rate:.0f}/s",
                f"{commit.rate / loop:.2f}",
                f"{lost} / {duplicated}",
            )
        ratio = self.product_ratio()
        table.add(
            f"target: the product >= {TARGET} x the loop from the first request",
            "",
            f"{ratio:.2f}",
            "",
            "",
            verdict(ratio >= TARGET),
        )
        table.note(
            f"Best of {ROUNDS} rounds each; {self.units} tasks x {len(self.people)} "
            "people. Every path sends the product's rendered assignment email (the "
            "peers the same text and HTML for everyone; the product renders each "
            "email for its recipient, with its unsubscribe link)."
        )
        table.note(
            "Workers: the product's 1 worker x concurrency 4; django-celery-email's "
            "own worker x concurrency 4 (queue 'peer'). SMTP server in this process."
        )
        return table

    def missed(self) -> bool:
        return verdict(self.product_ratio() >= TARGET) == MISSED

    def delivery_problems(self) -> list[str]:
        return [
            f"{run.path} ({run.clock}): {run.lost} lost, {run.duplicated} duplicated"
            for run in self.runs
            if run.lost or (run.duplicated and run.path != "celery_email")
        ]


def letters(number: int) -> str:
    """1 -> "a", 26 -> "z", 27 -> "ba": a run's number in a marker's letters."""
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
