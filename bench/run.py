"""`make bench`: latency, throughput, scale, commit-to-accepted and memory, one run.

Every figure that is a ratio is measured in this one run against the same servers,
so it holds on a busy machine. Exits 1 when an email is lost or duplicated.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bench.client import Response, Session
from bench.comparison import Comparison
from bench.report import MISSED, OK, Table, ms, percentile, verdict
from bench.stack import Stack, WebServer, cpu_seconds, descendants, status_kib

if TYPE_CHECKING:  # bench.data needs Django set up, which the Stack does
    from bench.data import Tally

WORKERS = int(os.environ.get("BENCH_WORKERS", "1"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
BURST_TASKS = int(os.environ.get("BENCH_BURST_TASKS", "200"))  # x 10 assignees
ISOLATION_SAMPLES = int(os.environ.get("BENCH_ISOLATION_SAMPLES", "60"))
LATENCY_SAMPLES = int(os.environ.get("BENCH_LATENCY_SAMPLES", "20"))
STEP_LABELS = {
    "record_task_assigned": "recording the deliveries (one INSERT ... SELECT)",
    "publish": "publishing the job to Redis",
}
SLOW_SMTP = 2.0  # seconds per message in the isolation phase
ASSIGNEES = 10
BACKLOG_PEOPLE = 200  # x 10 tasks: the 2,000 emails the activation email overtakes
BACKLOG_DELAY = 0.05  # seconds the SMTP server takes per message meanwhile
ACTIVATION_SAMPLES = int(os.environ.get("BENCH_ACTIVATION_SAMPLES", "10"))


@dataclass
class Outcome:
    """What the run found; `failed` is set when an email was lost or duplicated."""

    tables: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def show(self, table: Table) -> None:
        self.tables.append(table.show())
        self.missed += [
            f"{table.title}: {row[0]}" for row in table.rows if MISSED in row
        ]

    def check_delivery(self, label: str, lost: int, duplicated: int) -> str:
        if lost or duplicated:
            self.failed.append(f"{label}: {lost} lost, {duplicated} duplicated")
            return MISSED
        return OK


def main() -> int:
    started = time.monotonic()
    print("make bench: starting PostgreSQL database, Redis, SMTP, web, worker, beat")
    outcome = Outcome()
    with Stack("bench") as stack:
        Bench(stack, outcome).run()
    minutes = (time.monotonic() - started) / 60
    print(f"\nTotal time {minutes:.1f} min.")
    for line in outcome.missed:
        print(f"MISSED target: {line}")
    for line in outcome.failed:
        print(f"FAILED (emails lost or duplicated): {line}")
    return 1 if outcome.failed else 0


class Bench:
    def __init__(self, stack: Stack, outcome: Outcome) -> None:
        from bench import data

        self.stack = stack
        self.outcome = outcome
        self.data = data
        assert stack.smtp is not None
        self.smtp = stack.smtp
        self.inbox = data.Inbox(stack.smtp.received)
        self.burst_tasks = BURST_TASKS

    def run(self) -> None:
        self._prepare()
        # In-process requests first, before any worker or email competes for CPU.
        self.scale_queries()
        self._start_processes()
        self.wait_for(self.scale_expected, 120)
        self.commit_to_accepted()
        self.throughput()
        self.memory()
        self.scale_out()
        self.activation_under_backlog()
        self.request_isolation()
        self.report()
        self.profile_worker()

    def _prepare(self) -> None:
        data = self.data
        self.manager = data.create_manager()
        self.people = data.create_employees("emp", 100)
        self.backlog_people = data.create_employees("bl", BACKLOG_PEOPLE)
        self.project = data.create_project()

    def _start_processes(self) -> None:
        self.workers = [self.stack.start_worker(CONCURRENCY) for _ in range(WORKERS)]
        self.stack.start_beat()
        self.web_on = self.stack.start_web("web-on")
        self.web_off = self.stack.start_web("web-off", app="bench.quiet:application")
        self.web_seed = self.stack.start_web(
            "web-seed", app="bench.seed_style:application"
        )
        print(
            f"Ready: {WORKERS} worker(s) x concurrency {CONCURRENCY}, beat, "
            f"3 gunicorn servers x {os.environ.get('BENCH_GUNICORN_WORKERS', '4')} "
            f"sync workers, SMTP on 127.0.0.1:{self.smtp.port}",
            flush=True,
        )

    def wait_for(self, expected: set, timeout: float) -> bool:
        return self.data.wait_until(
            lambda: self.inbox.arrived(expected) >= len(expected), timeout, 0.2
        )

    # (3a) SQL queries of the request that assigns 1 vs 100 users -------------------

    def scale_queries(self) -> None:
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(self.manager)
        counts: dict[int, int] = {}
        tags = []
        for index, size in enumerate((1, 1, 100)):  # the first one warms caches
            tag = self.data.marker("sq", index)
            tags.append((tag, self.people[:size]))
            fields = task_fields(f"Scale {tag}", self.project.pk, self.people[:size])
            with CaptureQueriesContext(connection) as queries:
                answer = client.post("/tasks/create/", dict_of(fields))
            if answer.status_code != 302:
                raise RuntimeError(f"/tasks/create/ answered {answer.status_code}")
            counts[size] = len(queries.captured_queries)
        counts[0] = self.queries_without_receivers(client)
        self.breakdown = self.request_breakdown(client)
        tags += [(self.data.marker("sq", 100 + i), self.people[:10]) for i in range(20)]
        expected = set().union(*(self.data.expected_keys([t], p) for t, p in tags))
        self.scale_expected = expected
        self.query_counts = counts

    def queries_without_receivers(self, client: Any) -> int:
        """The same 10-assignee request with the assignment receiver disconnected."""
        from django.db import connection
        from django.db.models.signals import m2m_changed
        from django.test.utils import CaptureQueriesContext

        from notifications import receivers
        from tasks.models import Task

        through = Task.assigned_to.through
        uid = "notifications.on_assignees_m2m_changed"
        m2m_changed.disconnect(sender=through, dispatch_uid=uid)
        try:
            fields = task_fields("Scale off", self.project.pk, self.people[:10])
            with CaptureQueriesContext(connection) as queries:
                client.post("/tasks/create/", dict_of(fields))
        finally:
            m2m_changed.connect(
                receivers.on_assignees_m2m_changed, sender=through, dispatch_uid=uid
            )
        return len(queries.captured_queries)

    def request_breakdown(self, client: Any) -> dict[str, float]:
        """Mean ms per 10-assignee request in the product's notification steps.

        Wraps module functions of notifications/ with timers, in this process only.
        """
        from notifications import recording
        from worker import jobs

        steps = [(recording, "record_task_assigned"), (jobs, "publish")]
        spent: dict[str, float] = {name: 0.0 for _, name in steps}
        originals = {name: getattr(module, name) for module, name in steps}
        for module, name in steps:
            setattr(module, name, timer(originals[name], name, spent))
        total = 0.0
        try:
            for index in range(20):
                tag = self.data.marker("sq", 100 + index)
                fields = task_fields(f"Steps {tag}", self.project.pk, self.people[:10])
                start = time.perf_counter()
                client.post("/tasks/create/", dict_of(fields))
                total += time.perf_counter() - start
        finally:
            for module, name in steps:
                setattr(module, name, originals[name])
        return {"request": total / 20 * 1000} | {
            name: seconds / 20 * 1000 for name, seconds in spent.items()
        }

    # (4) commit-to-accepted latency --------------------------------------------------

    def commit_to_accepted(self) -> None:
        from django.db import transaction

        person = self.people[0]
        latencies: list[float] = []
        expected: set = set()
        for index in range(LATENCY_SAMPLES):
            tag = self.data.marker("lat", index)
            key = (person.email.lower(), tag)
            expected.add(key)
            committed: list[float] = []
            with transaction.atomic():
                # Registered first, so it runs right after COMMIT, before dispatch.
                transaction.on_commit(
                    lambda box=committed: box.append(time.monotonic())
                )
                self.data.create_task(self.project, f"Ping {tag}", [person])
            if self.wait_for({key}, 30):
                latencies.append(self.inbox.first_at[key] - committed[0])
            time.sleep(0.3)  # idle between samples
        self.latencies = latencies
        self.latency_tally = self.inbox.tally(expected, "lat")

    # (2) throughput and (3b) worker time per email ----------------------------------

    def throughput(self) -> None:
        """The worker's own figures (small and large bursts from COMMIT), then the
        product beside the peers on both clocks (bench/comparison.py)."""
        self.small = self.burst("sm", 10)
        self.large = self.burst("tp", BURST_TASKS)
        self.comparison = Comparison(self)
        self.comparison.run()
        for problem in self.comparison.delivery_problems():
            self.outcome.failed.append(f"throughput: {problem}")

    # Scale out: the same burst drained by one and by two worker instances -----------

    def scale_out(self) -> None:
        layouts = {
            "one worker instance, concurrency 4": [4],
            "two worker instances (two hosts), concurrency 2 each": [2, 2],
        }
        self.scaled: dict[str, Burst] = {}
        for index, (label, concurrencies) in enumerate(layouts.items()):
            self.replace_workers(concurrencies)
            self.scaled[label] = self.burst(f"so{'ab'[index]}", BURST_TASKS)
        self.replace_workers([CONCURRENCY] * WORKERS)

    def replace_workers(self, concurrencies: list[int]) -> None:
        for worker in self.workers:
            self.stack.stop_worker(worker)
        self.workers = [
            self.stack.start_worker(concurrency, name=f"scale{n}")
            for n, concurrency in enumerate(concurrencies, start=1)
        ]

    # The fast lane: an activation email during a 2,000-email backlog -----------------

    def activation_under_backlog(self) -> None:
        from django.db import transaction

        self.smtp.behaviour.delay = BACKLOG_DELAY
        tags = [self.data.marker("bk", index) for index in range(10)]
        with transaction.atomic():
            for tag in tags:
                self.data.create_task(self.project, f"Load {tag}", self.backlog_people)
        backlog = self.data.expected_keys(tags, self.backlog_people)
        self.data.wait_until(lambda: self.inbox.arrived(backlog) >= 20, 60)
        self.activation_waits: list[float] = []
        for index in range(ACTIVATION_SAMPLES):
            username = f"fastlane{index}"
            self.sign_up(self.web_on, username)
            signed_up = time.monotonic()
            arrived = self.arrival(f"{username}@example.com", timeout=120)
            self.activation_waits.append(arrived - signed_up)
        self.backlog_left = len(backlog) - self.inbox.arrived(backlog)
        self.wait_for(backlog, 300)
        self.backlog_tally = self.inbox.tally(backlog, "bk")
        self.smtp.behaviour.delay = 0.0

    def arrival(self, address: str, timeout: float) -> float:
        """When the SMTP server accepted the first message to this address."""
        found: list[float] = []

        def arrived() -> bool:
            found[:] = [
                m.accepted_at for m in list(self.smtp.received) if address in m.rcpt_tos
            ]
            return bool(found)

        if not self.data.wait_until(arrived, timeout):
            raise RuntimeError(f"no activation email to {address} in {timeout} s")
        return found[0]

    def burst(self, prefix: str, tasks: int) -> Burst:
        from django.db import transaction

        from notifications.models import Delivery

        people = self.people[:ASSIGNEES]
        watermark = (
            Delivery.objects.order_by("-id").values_list("id", flat=True).first()
        )
        cpu_before = self.worker_cpu()
        own_before = time.process_time()
        committed: list[float] = []
        with transaction.atomic():
            transaction.on_commit(
                lambda: committed.extend([time.monotonic(), time.time()])
            )
            for index in range(tasks):
                tag = self.data.marker(prefix, index)
                self.data.create_task(self.project, f"Load {tag}", people)
        expected = self.data.expected_keys(
            [self.data.marker(prefix, i) for i in range(tasks)], people
        )
        self.wait_for(expected, 300)
        tally = self.inbox.tally(expected, prefix)
        last = max((self.inbox.first_at.get(k, 0.0) for k in expected), default=0.0)
        return Burst(
            emails=len(expected),
            seconds=last - committed[0],
            worker_cpu=self.worker_cpu() - cpu_before,
            smtp_cpu=time.process_time() - own_before,
            tally=tally,
            phases=delivery_phases(watermark or 0, committed[1]),
        )

    def worker_cpu(self) -> float:
        return sum(cpu_seconds(worker.pid) for worker in self.workers)

    # (5) peak memory --------------------------------------------------------------

    def memory(self) -> None:
        """After the bursts: each worker's peak and current resident memory."""
        self.peaks = [
            [status_kib(pid, "VmHWM") for pid in descendants(worker.pid)]
            for worker in self.workers
        ]
        self.resident = [
            [status_kib(pid, "VmRSS") for pid in descendants(worker.pid)]
            for worker in self.workers
        ]

    # (1) request isolation -------------------------------------------------------

    def request_isolation(self) -> None:
        self.smtp.behaviour.delay = SLOW_SMTP
        servers = [self.web_on, self.web_off]
        sessions = {web.label: self.manager_session(web) for web in servers}
        for web in servers:  # warm every gunicorn worker: imports, templates
            for index in range(8):
                self.create_task(sessions[web.label], f"Warm {web.label} {index}")
                self.sign_up(web, f"warm{web.label}{index}")
        create: dict[str, list[float]] = {web.label: [] for web in servers}
        signup: dict[str, list[float]] = {web.label: [] for web in servers}
        for index in range(ISOLATION_SAMPLES):
            order = servers if index % 2 == 0 else servers[::-1]
            for web in order:
                answer = self.create_task(sessions[web.label], f"Iso {index}")
                create[web.label].append(answer.elapsed)
            for web in order:
                answer = self.sign_up(web, f"iso{web.label}{index}")
                signup[web.label].append(answer.elapsed)
        self.isolation = {"create": create, "signup": signup}
        self.seed_rows = self.seed_style()

    def manager_session(self, web: WebServer) -> Session:
        session = Session(web.url)
        session.sign_in(self.data.MANAGER_USERNAME, self.data.MANAGER_PASSWORD)
        return session

    def create_task(self, session: Session, title: str) -> Response:
        people = self.people[10 : 10 + ASSIGNEES]
        fields = task_fields(title, self.project.pk, people)
        session.get("/tasks/create/")
        answer = session.post("/tasks/create/", fields)
        expect_redirect(answer, "/tasks/create/")
        return answer

    def sign_up(self, web: WebServer, username: str) -> Response:
        session = Session(web.url)
        session.get("/users/sign-up/")
        answer = session.post("/users/sign-up/", sign_up_fields(username))
        expect_redirect(answer, "/users/sign-up/")
        return answer

    def seed_style(self) -> dict[str, list[float]]:
        """The seed's synchronous send: 4 requests at a time (4 gunicorn workers)."""
        session = self.manager_session(self.web_seed)
        tasks = in_parallel(4, lambda i: self.create_task(session, f"Seed {i}"))
        signups = in_parallel(
            8, lambda i: self.sign_up(self.web_seed, f"seed{i}"), workers=4
        )
        return {"create": tasks, "signup": signups}

    # Profile of the worker's code path ------------------------------------------

    def profile_worker(self) -> None:
        """deliver() under cProfile in a process of its own, the workers stopped."""
        from notifications.models import Delivery

        for worker in self.workers:
            worker.kill()  # mid-way through slow isolation emails: no wait
        self.smtp.behaviour.delay = 0.0
        first = Delivery.objects.order_by("-id").values_list("id", flat=True).first()
        self.data.commit_burst(self.project, "prof", 10, self.people[:50])
        last = Delivery.objects.order_by("-id").values_list("id", flat=True).first()
        command = [sys.executable, "-m", "bench.profile", str((first or 0) + 1)]
        answer = subprocess.run(
            [*command, str(last)], capture_output=True, text=True, timeout=300
        )
        text = answer.stdout if answer.returncode == 0 else answer.stderr[-3000:]
        print(text, flush=True)
        self.outcome.tables.append(text)

    # Report -----------------------------------------------------------------------

    def report(self) -> None:
        show = self.outcome.show
        table = isolation_table(self.isolation, self.seed_rows)
        steps = dict(self.breakdown)
        request = steps.pop("request")
        parts = ", ".join(
            f"{STEP_LABELS.get(name, name)} {ms_value:.1f} ms"
            for name, ms_value in steps.items()
        )
        table.note(
            f"In-process (no HTTP), a 10-assignee create takes {request:.1f} ms on "
            f"average; of that, {parts}. SQL queries: "
            f"{self.query_counts[1]} on, {self.query_counts[0]} off."
        )
        show(table)
        show(self.comparison.table())
        show(self.worker_table())
        show(self.scale_table())
        show(self.scale_out_table())
        show(self.activation_table())
        show(self.latency_table())
        show(memory_table(self.peaks, self.resident))

    def worker_table(self) -> Table:
        large = self.large
        table = Table(
            "(2b) Where the product's time goes, 2,000 emails from COMMIT",
            ("measure", "value", "target", "verdict"),
        )
        delivered = self.outcome.check_delivery(
            "burst", large.tally.lost, large.tally.duplicated
        )
        rate = f"{large.rate:.0f} emails/s, {large.seconds:.1f} s"
        table.add("rate, commit to last accepted", rate, "", "")
        table.add("median commit -> claimed", ms(large.phases["queued"]), "", "")
        table.add("median claimed -> sent", ms(large.phases["sending"]), "", "")
        worker_cpu = f"{large.worker_cpu / large.emails * 1000:.2f} ms"
        smtp_cpu = f"{large.smtp_cpu / large.emails * 1000:.2f} ms"
        table.add("worker CPU per email", worker_cpu, "", "")
        table.add("SMTP server (this process) CPU per email", smtp_cpu, "", "")
        table.add(
            "expected / accepted / lost / duplicated",
            f"{large.tally.expected} / {large.tally.accepted} / "
            f"{large.tally.lost} / {large.tally.duplicated}",
            "0 lost, 0 dup",
            delivered,
        )
        table.note(
            f"Workers: {WORKERS} x concurrency {CONCURRENCY} (prefork), one SMTP "
            "connection kept per worker process. The SMTP server runs in this "
            "process, on the same two cores."
        )
        return table

    def scale_out_table(self) -> Table:
        table = Table(
            "(3c) Scale out: the same 2,000-email burst drained by one and by two "
            "worker instances",
            ("workers", "rate", "lost / duplicated", "target", "verdict"),
        )
        for label, burst in self.scaled.items():
            lost, duplicated = burst.tally.lost, burst.tally.duplicated
            table.add(
                label,
                f"{burst.rate:.0f} emails/s",
                f"{lost} / {duplicated}",
                "0 / 0",
                self.outcome.check_delivery(label, lost, duplicated),
            )
        table.note(
            "Separate `celery worker` processes with their own hostnames, as two hosts "
            "would run them, claiming from one outbox. On two cores the second "
            "instance adds no CPU: the row shows that nothing is sent twice."
        )
        return table

    def activation_table(self) -> Table:
        waits, tally = self.activation_waits, self.backlog_tally
        p95 = percentile(waits, 95)
        table = Table(
            "(3d) The fast lane: sign-up to activation email accepted, during a "
            "2,000-email backlog",
            ("measure", "value", "target", "verdict"),
        )
        table.add(
            "p50 / max", f"{ms(percentile(waits, 50))} / {ms(max(waits))}", "", ""
        )
        table.add("p95", ms(p95), "<= 5 s", verdict(p95 <= 5.0))
        table.add(
            "backlog still queued when the last sign-up's email arrived",
            f"{self.backlog_left} emails",
            "",
            "",
        )
        table.add(
            "backlog: lost / duplicated",
            f"{tally.lost} / {tally.duplicated}",
            "0 / 0",
            self.outcome.check_delivery("backlog", tally.lost, tally.duplicated),
        )
        table.note(
            f"10 tasks x {BACKLOG_PEOPLE} people committed at once, the SMTP server "
            f"taking {BACKLOG_DELAY * 1000:.0f} ms per message; {ACTIVATION_SAMPLES} "
            "sign-ups over HTTP, one after the other, each timed from its answer to "
            "the 250 for its activation email."
        )
        return table

    def scale_table(self) -> Table:
        counts, small, large = self.query_counts, self.small, self.large
        table = Table("(3) Scale", ("measure", "value", "target", "verdict"))
        table.add("SQL queries, create task assigning 1 user", counts[1], "", "")
        table.add("  the same, 10 users, assignment receiver off", counts[0], "", "")
        table.add(
            "SQL queries, create task assigning 100 users",
            counts[100],
            "equal to 1 user",
            verdict(counts[100] == counts[1]),
        )
        per_small = small.worker_cpu / small.emails * 1000
        per_large = large.worker_cpu / large.emails * 1000
        flat = per_large <= per_small * 1.25
        table.add(
            f"worker CPU per email at {small.emails} emails",
            f"{per_small:.2f} ms",
            "",
            "",
        )
        table.add(
            f"worker CPU per email at {large.emails} emails",
            f"{per_large:.2f} ms",
            "flat (<= 1.25x)",
            verdict(flat),
        )
        table.add(
            f"wall time per email at {small.emails} / {large.emails}",
            f"{per_email_ms(small.seconds, small.emails):.2f} / "
            f"{per_email_ms(large.seconds, large.emails):.2f} ms",
            "",
            "",
        )
        sq = self.inbox.tally(self.scale_expected, "sq")
        sm = small.tally
        table.add(
            "emails of these requests / small burst: lost, duplicated",
            f"{sq.lost + sm.lost}, {sq.duplicated + sm.duplicated}",
            "0, 0",
            self.outcome.check_delivery(
                "scale", sq.lost + sm.lost, sq.duplicated + sm.duplicated
            ),
        )
        table.note(
            "Queries counted in-process with Django's test client and "
            "CaptureQueriesContext, after one warm-up request."
        )
        return table

    def latency_table(self) -> Table:
        values, tally = self.latencies, self.latency_tally
        table = Table(
            "(4) Commit-to-accepted latency, single emails, idle system",
            ("measure", "value", "target", "verdict"),
        )
        table.add("p50", ms(percentile(values, 50)), "", "")
        table.add("p95", ms(percentile(values, 95)), "", "")
        table.add(
            "samples / delivered / lost / duplicated",
            f"{LATENCY_SAMPLES} / {tally.accepted} / {tally.lost} / {tally.duplicated}",
            "0 lost, 0 dup",
            self.outcome.check_delivery("latency", tally.lost, tally.duplicated),
        )
        table.note(
            "From the COMMIT of a task assigning one user to the SMTP "
            "server's 250 for its email."
        )
        return table


def isolation_table(
    isolation: dict[str, dict[str, list[float]]], seed: dict[str, list[float]]
) -> Table:
    table = Table(
        f"(1) Request isolation, SMTP server taking {SLOW_SMTP:.0f} s per message",
        (
            "request",
            "notifications off p50 / p95",
            "with emails p50 / p95",
            "ratio p50",
            "ratio p95",
            "overhead p50 / p95",
            "target",
            "verdict",
        ),
    )
    labels = {"create": f"create task, {ASSIGNEES} assignees", "signup": "sign up"}
    for kind, label in labels.items():
        off, on = isolation[kind]["web-off"], isolation[kind]["web-on"]
        p50 = percentile(on, 50) / percentile(off, 50)
        p95 = percentile(on, 95) / percentile(off, 95)
        overhead = (
            f"{(percentile(on, 50) - percentile(off, 50)) * 1000:.1f} / "
            f"{(percentile(on, 95) - percentile(off, 95)) * 1000:.1f} ms"
        )
        table.add(
            label,
            pair(off),
            pair(on),
            f"{p50:.2f}",
            f"{p95:.2f}",
            overhead,
            "p95 <= 1.10",
            verdict(p95 <= 1.10),
        )
    for kind, label in labels.items():
        off, sync = isolation[kind]["web-off"], seed[kind]
        p50 = percentile(sync, 50) / percentile(off, 50)
        p95 = percentile(sync, 95) / percentile(off, 95)
        table.add(
            f"seed-style send_mail in request: {label}",
            pair(off),
            pair(sync),
            f"{p50:.1f}",
            f"{p95:.1f}",
            "",
            "comparison",
            "",
        )
    table.note(
        f"{ISOLATION_SAMPLES} requests per cell, on and off interleaved, over "
        "HTTP to gunicorn after warm-up."
    )
    table.note(
        "Seed-style row: gunicorn serving bench/seed_style.py, the product with "
        "notifications off plus the"
    )
    table.note(
        "seed's receivers calling send_mail per recipient inside the request "
        "(4 and 8 samples, 4 at a time)."
    )
    return table


def timer(
    function: Callable[..., Any], name: str, spent: dict[str, float]
) -> Callable[..., Any]:
    def timed_call(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] += time.perf_counter() - start

    return timed_call


def per_email_ms(seconds: float, emails: int) -> float:
    return seconds / emails * 1000 if emails else 0.0


def pair(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


def memory_table(peaks: list[list[int]], resident: list[list[int]]) -> Table:
    table = Table(
        "(5) Memory of the worker after the bursts",
        ("process", "peak RSS (VmHWM)", "RSS now", "target", "verdict"),
    )
    for index, (group, now) in enumerate(zip(peaks, resident, strict=True), start=1):
        main, children = group[0], group[1:]
        table.add(
            f"worker {index}: main process",
            f"{main / 1024:.0f} MiB",
            f"{now[0] / 1024:.0f} MiB",
            "",
            "",
        )
        if children:
            table.add(
                f"worker {index}: largest of {len(children)} pool processes",
                f"{max(children) / 1024:.0f} MiB",
                f"{max(now[1:], default=0) / 1024:.0f} MiB",
                "",
                "",
            )
        table.add(
            f"worker {index}: sum",
            f"{sum(group) / 1024:.0f} MiB",
            f"{sum(now) / 1024:.0f} MiB",
            "",
            "",
        )
    table.note(
        "Pool processes are replaced after 1,000 jobs "
        "(CELERY_WORKER_MAX_TASKS_PER_CHILD), so their memory cannot grow for long."
    )
    return table


@dataclass
class Burst:
    emails: int
    seconds: float
    worker_cpu: float
    smtp_cpu: float
    tally: Tally
    phases: dict[str, float]

    @property
    def rate(self) -> float:
        return self.emails / self.seconds if self.seconds > 0 else 0.0


def delivery_phases(after_id: int, committed_at: float) -> dict[str, float]:
    """Median seconds from commit to claim and from claim to sent (Delivery rows).

    claimed_at is the last claim (a retry claims again); the burst has no retries.
    """
    from notifications.models import Delivery

    rows = Delivery.objects.filter(id__gt=after_id).values_list("claimed_at", "sent_at")
    waits = [c.timestamp() - committed_at for c, _ in rows if c]
    sends = [(s - c).total_seconds() for c, s in rows if c and s]
    return {"queued": percentile(waits, 50), "sending": percentile(sends, 50)}


def in_parallel(
    count: int, call: Callable[[int], Response], workers: int | None = None
) -> list[float]:
    with ThreadPoolExecutor(max_workers=workers or count) as pool:
        return [answer.elapsed for answer in pool.map(call, range(count))]


def expect_redirect(answer: Response, path: str) -> None:
    if answer.status != 302:
        raise RuntimeError(f"POST {path} answered {answer.status}: {answer.body[:500]}")


def task_fields(title: str, project_id: int, people: list) -> list[tuple[str, str]]:
    due_text = (datetime.now(UTC).date() + timedelta(days=7)).isoformat()
    fields = [
        ("title", title),
        ("description", "Benchmark task"),
        ("due_date", due_text),
        ("project", str(project_id)),
        ("status", "PENDING"),
        ("priority", "M"),
        ("notes", ""),
    ]
    return fields + [("assigned_to", str(person.pk)) for person in people]


def dict_of(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in fields:
        grouped.setdefault(name, []).append(value)
    return grouped


def sign_up_fields(username: str) -> list[tuple[str, str]]:
    password = "Bench#2026pw"
    return [
        ("username", username),
        ("first_name", "Sign"),
        ("last_name", "Up"),
        ("email", f"{username}@example.com"),
        ("password1", password),
        ("password2", password),
    ]


if __name__ == "__main__":
    sys.exit(main())
