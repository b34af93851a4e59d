"""The tables `make bench` prints, from its results (bench.bench_results).

The performance targets live here, beside the words that state them: a missed
one is marked MISSED and listed at the end, but does not fail the run.
"""

from __future__ import annotations

from bench.bench_results import (
    BenchResults,
    Burst,
    FastLane,
    Isolation,
    Latency,
    ProfileFailed,
    RequestCost,
    SendProfile,
    Throughput,
    WorkerMemory,
)
from bench.inbox import Arrivals
from bench.knobs import WINDOW
from bench.markdown import MISSED, OK, Table, ms, verdict
from bench.stats import percentile

ISOLATION_TARGET = 1.10  # p95 with notifications over p95 without
THROUGHPUT_TARGET = 1.2  # the product x the loop, from the first request
CPU_TARGET = 1.5  # worker CPU per email over the plain loop's, same run
FLAT_TARGET = 1.25  # worker CPU per email, large burst over small
FAST_LANE_TARGET = 5.0  # seconds, p95 from sign-up to activation email
PATHS = {
    "loop": "plain smtplib loop, one connection (yardstick)",
    "django": "Django's SMTP backend, one connection, send_messages per request",
    "celery_email": "django-celery-email, chunks of 10 (no per-message record)",
    "post_office": "django-post-office, queue then send_queued_mail (durable)",
    "product": "this product (durable, a record per email, retries, pace)",
}
STEPS = {
    "record_task_assigned": "recording the deliveries (one INSERT ... SELECT)",
    "record_activity": "recording its history's emails (the task's followers)",
    "publish": "handing the ids to Redis (gathered for their release, or a job)",
}
PROFILE_PARTS = {
    "templates": "templates (3 per email)",
    "mime": "MIME building",
    "smtp": "SMTP round trips",
    "sql": "SQL (claim, select, record)",
    "other": "everything else (Python, ORM)",
    "total": "total under cProfile",
}


def tables(results: BenchResults) -> list[Table]:
    """In the order they are printed."""
    return [
        isolation_table(results.isolation, results.request_cost),
        throughput_table(results.throughput),
        worker_table(
            results.large,
            results.workers,
            results.concurrency,
            results.throughput.loop_cpu_ms(),
        ),
        scale_table(results),
        scale_out_table(results.scale_out),
        fast_lane_table(results.fast_lane),
        latency_table(results.latency),
        memory_table(results.memory),
    ]


def missed(printed: list[Table]) -> list[str]:
    return [line for table in printed for line in table.missed()]


def delivered(arrivals: Arrivals) -> str:
    return OK if arrivals.intact else MISSED


def pair(values: list[float]) -> str:
    return f"{ms(percentile(values, 50))} / {ms(percentile(values, 95))}"


def ratio(values: list[float], baseline: list[float], q: float) -> float:
    return percentile(values, q) / percentile(baseline, q)


def difference_ms(values: list[float], baseline: list[float], q: float) -> str:
    return f"{(percentile(values, q) - percentile(baseline, q)) * 1000:.1f}"


# (1) Request isolation -------------------------------------------------------------


def isolation_table(isolation: Isolation, cost: RequestCost) -> Table:
    table = Table(
        f"(1) Request isolation, SMTP server taking {isolation.smtp_delay:.0f} s "
        "per message",
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
    labels = {
        "create": f"create task, {isolation.assignees} assignees",
        "signup": "sign up",
    }
    for kind, label in labels.items():
        off, on = isolation.times[kind]["web-off"], isolation.times[kind]["web-on"]
        table.add(*isolation_row(label, off, on))
    for kind, label in labels.items():
        off, sync = isolation.times[kind]["web-off"], isolation.seed_style[kind]
        table.add(
            *seed_style_row(f"seed-style send_mail in request: {label}", off, sync)
        )
    table.note(
        f"{isolation.samples} requests per cell, on and off interleaved, over "
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
    table.note(request_cost_note(cost))
    return table


def isolation_row(label: str, off: list[float], on: list[float]) -> tuple[str, ...]:
    p95 = ratio(on, off, 95)
    return (
        label,
        pair(off),
        pair(on),
        f"{ratio(on, off, 50):.2f}",
        f"{p95:.2f}",
        f"{difference_ms(on, off, 50)} / {difference_ms(on, off, 95)} ms",
        f"p95 <= {ISOLATION_TARGET:.2f}",
        verdict(p95 <= ISOLATION_TARGET),
    )


def seed_style_row(label: str, off: list[float], sync: list[float]) -> tuple[str, ...]:
    p50, p95 = ratio(sync, off, 50), ratio(sync, off, 95)
    return (
        label,
        pair(off),
        pair(sync),
        f"{p50:.1f}",
        f"{p95:.1f}",
        "",
        "comparison",
        "",
    )


def request_cost_note(cost: RequestCost) -> str:
    parts = ", ".join(
        f"{STEPS.get(name, name)} {spent:.1f} ms"
        for name, spent in cost.steps_ms.items()
    )
    return (
        f"In-process (no HTTP), a 10-assignee create takes {cost.request_ms:.1f} ms on "
        f"average; of that, {parts}. SQL queries: "
        f"{cost.queries[1]} on, {cost.queries[0]} off."
    )


# (2) Throughput, (2b) where the product's time goes --------------------------------


def throughput_table(throughput: Throughput) -> Table:
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
    loop = throughput.best("loop", "request").rate
    for path, label in PATHS.items():
        request, commit = (
            throughput.best(path, "request"),
            throughput.best(path, "commit"),
        )
        lost, duplicated = throughput.losses(path)
        table.add(
            label,
            f"{request.rate:.0f}/s",
            f"{request.rate / loop:.2f}",
            f"{commit.rate:.0f}/s",
            f"{commit.rate / loop:.2f}",
            f"{lost} / {duplicated}",
        )
    product = throughput.product_ratio()
    table.add(
        f"target: the product >= {THROUGHPUT_TARGET} x the loop from the first request",
        "",
        f"{product:.2f}",
        "",
        "",
        verdict(product >= THROUGHPUT_TARGET),
    )
    table.add(
        "target: the product ahead of every peer from the first request",
        "",
        "",
        "",
        "",
        verdict(throughput.ahead_of_peers()),
    )
    table.note(
        f"Best of {throughput.rounds} rounds each; {throughput.tasks} tasks x "
        f"{throughput.people} people. Every path sends the product's rendered "
        "assignment email (the peers the same text and HTML for everyone; the "
        "product renders each email for its recipient, with its unsubscribe link)."
    )
    table.note(
        f"Coalescing on: each of the product's emails waits a {WINDOW} s window "
        "after its change, and its clocks start when the window ends (first "
        "request or COMMIT + the window); reminders' beat and threading on."
    )
    table.note(
        "Workers: the product's 1 worker x concurrency 4; django-celery-email's "
        "own worker x concurrency 4 (queue 'peer'). SMTP server in this process."
    )
    return table


def ms_of(milliseconds: float) -> str:
    return f"{milliseconds:.2f} ms"


def worker_table(
    large: Burst, workers: int, concurrency: int, loop_cpu: float = 0.0
) -> Table:
    """With `loop_cpu` (the plain loop's CPU per email), the target on CPU."""
    table = Table(
        "(2b) Where the product's time goes, 2,000 emails from the window's end",
        ("measure", "value", "target", "verdict"),
    )
    arrivals = large.arrivals
    rate = f"{large.rate:.0f} emails/s, {large.seconds:.1f} s"
    table.add("rate, commit to last accepted", rate, "", "")
    table.add("median commit -> claimed", ms(large.phases["queued"]), "", "")
    table.add("median claimed -> sent", ms(large.phases["sending"]), "", "")
    table.add("worker CPU per email", f"{large.worker_cpu_ms:.2f} ms", "", "")
    if loop_cpu:
        table.add("plain loop CPU per email (its fastest run)", ms_of(loop_cpu), "", "")
        ratio = large.worker_cpu_ms / loop_cpu
        table.add(
            "worker CPU per email / the loop's",
            f"{ratio:.2f}",
            f"<= {CPU_TARGET}",
            verdict(ratio <= CPU_TARGET),
        )
    table.add(
        "SMTP server (this process) CPU per email",
        f"{large.smtp_cpu_ms:.2f} ms",
        "",
        "",
    )
    table.add(
        "expected / accepted / lost / duplicated",
        f"{arrivals.expected} / {arrivals.accepted} / "
        f"{arrivals.lost} / {arrivals.duplicated}",
        "0 lost, 0 dup",
        delivered(arrivals),
    )
    table.note(
        f"Workers: {workers} x concurrency {concurrency} (prefork), one SMTP "
        "connection kept per worker process. The SMTP server runs in this "
        "process, on the same two cores."
    )
    return table


# (3) Scale -------------------------------------------------------------------------


def scale_table(results: BenchResults) -> Table:
    queries, small, large = results.request_cost.queries, results.small, results.large
    table = Table("(3) Scale", ("measure", "value", "target", "verdict"))
    table.add("SQL queries, create task assigning 1 user", queries[1], "", "")
    table.add("  the same, 10 users, notifications off", queries[0], "", "")
    table.add(
        "SQL queries, create task assigning 100 users",
        queries[100],
        "equal to 1 user",
        verdict(queries[100] == queries[1]),
    )
    flat = large.worker_cpu_ms <= small.worker_cpu_ms * FLAT_TARGET
    table.add(
        f"worker CPU per email at {small.emails} emails",
        f"{small.worker_cpu_ms:.2f} ms",
        "",
        "",
    )
    table.add(
        f"worker CPU per email at {large.emails} emails",
        f"{large.worker_cpu_ms:.2f} ms",
        f"flat (<= {FLAT_TARGET}x)",
        verdict(flat),
    )
    table.add(
        f"wall time per email at {small.emails} / {large.emails}",
        f"{small.wall_ms:.2f} / {large.wall_ms:.2f} ms",
        "",
        "",
    )
    emails = results.request_emails + small.arrivals
    table.add(
        "emails of these requests / small burst: lost, duplicated",
        f"{emails.lost}, {emails.duplicated}",
        "0, 0",
        delivered(emails),
    )
    table.note(
        "Queries counted in-process with Django's test client and "
        "CaptureQueriesContext, after one warm-up request."
    )
    return table


def scale_out_table(scaled: dict[str, Burst]) -> Table:
    table = Table(
        "(3c) Scale out: the same 2,000-email burst drained by one and by two "
        "worker instances",
        ("workers", "rate", "lost / duplicated", "target", "verdict"),
    )
    for layout, burst in scaled.items():
        arrivals = burst.arrivals
        table.add(
            layout,
            f"{burst.rate:.0f} emails/s",
            f"{arrivals.lost} / {arrivals.duplicated}",
            "0 / 0",
            delivered(arrivals),
        )
    table.note(
        "Separate `celery worker` processes with their own hostnames, as two hosts "
        "would run them, claiming from one outbox. On two cores the second "
        "instance adds no CPU: the row shows that nothing is sent twice."
    )
    return table


def fast_lane_table(fast_lane: FastLane) -> Table:
    waits, backlog = fast_lane.waits, fast_lane.backlog
    p95 = percentile(waits, 95)
    table = Table(
        "(3d) The fast lane: sign-up to activation email accepted, during a "
        "2,000-email backlog",
        ("measure", "value", "target", "verdict"),
    )
    table.add("p50 / max", f"{ms(percentile(waits, 50))} / {ms(max(waits))}", "", "")
    table.add(
        "p95", ms(p95), f"<= {FAST_LANE_TARGET:.0f} s", verdict(p95 <= FAST_LANE_TARGET)
    )
    table.add(
        "backlog still queued when the last sign-up's email arrived",
        f"{fast_lane.backlog_left} emails",
        "",
        "",
    )
    table.add(
        "backlog: lost / duplicated",
        f"{backlog.lost} / {backlog.duplicated}",
        "0 / 0",
        delivered(backlog),
    )
    table.note(
        f"{fast_lane.backlog_tasks} tasks x {fast_lane.backlog_people} people "
        "committed at once, the SMTP server taking "
        f"{fast_lane.smtp_delay * 1000:.0f} ms per message; {len(waits)} "
        "sign-ups over HTTP, one after the other, each timed from its answer to "
        "the 250 for its activation email."
    )
    return table


# (4) Latency, (5) memory, the profile ----------------------------------------------


def latency_table(latency: Latency) -> Table:
    values, arrivals = latency.seconds, latency.arrivals
    table = Table(
        "(4) Commit-to-accepted latency, single emails, idle system",
        ("measure", "value", "target", "verdict"),
    )
    table.add("p50", ms(percentile(values, 50)), "", "")
    table.add("p95", ms(percentile(values, 95)), "", "")
    table.add(
        "samples / delivered / lost / duplicated",
        f"{latency.samples} / {arrivals.accepted} / {arrivals.lost} / "
        f"{arrivals.duplicated}",
        "0 lost, 0 dup",
        delivered(arrivals),
    )
    table.note(
        "From the end of the coalescing window (COMMIT + "
        f"{WINDOW} s) of a task assigning one user to the SMTP server's 250 for "
        "its email."
    )
    return table


def memory_table(memory: list[WorkerMemory]) -> Table:
    table = Table(
        "(5) Memory of the worker after the bursts",
        ("process", "peak RSS (VmHWM)", "RSS now", "target", "verdict"),
    )
    for number, worker in enumerate(memory, start=1):
        peak, now = worker.peak_kib, worker.resident_kib
        table.add(f"worker {number}: main process", mib(peak[0]), mib(now[0]), "", "")
        if peak[1:]:
            table.add(
                f"worker {number}: largest of {len(peak) - 1} pool processes",
                mib(max(peak[1:])),
                mib(max(now[1:], default=0)),
                "",
                "",
            )
        table.add(f"worker {number}: sum", mib(sum(peak)), mib(sum(now)), "", "")
    table.note(
        "Pool processes are replaced after 1,000 jobs "
        "(CELERY_WORKER_MAX_TASKS_PER_CHILD), so their memory cannot grow for long."
    )
    return table


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f} MiB"


def profile_text(profile: SendProfile | ProfileFailed) -> str:
    if isinstance(profile, ProfileFailed):
        return profile.stderr
    return profile_table(profile).render()


def profile_table(profile: SendProfile) -> Table:
    emails, total = profile.emails, profile.parts["total"]
    table = Table(
        f"Profile: send_batch() on {emails} deliveries in batches of "
        f"{profile.batch}, one process",
        ("part", "ms per email", "share"),
    )
    for part, label in PROFILE_PARTS.items():
        seconds = profile.parts[part]
        table.add(label, f"{seconds / emails * 1000:.2f}", f"{seconds / total:.0%}")
    table.note(
        f"Wall time with the profiler on: {profile.wall / emails * 1000:.2f} ms per "
        "email. Categories can overlap (a query made while rendering counts in both)."
    )
    return table
