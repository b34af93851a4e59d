"""`make bench`: latency, throughput, scale, commit-to-accepted and memory, one run.

Every figure that is a ratio is measured in this one run against the same servers,
so it holds on a busy machine. Prints the tables (bench.bench_tables); exits 1 when
an email is lost or duplicated.
"""

from __future__ import annotations

import sys
import time

from bench import bench_tables, bursts, comparison
from bench.bench_results import BenchResults
from bench.data import create_employees
from bench.isolation import Servers, request_isolation
from bench.knobs import (
    ACTIVATION_SAMPLES,
    BURST_TASKS,
    CONCURRENCY,
    GUNICORN_WORKERS,
    ISOLATION_SAMPLES,
    LATENCY_SAMPLES,
    ROUNDS,
    WINDOW,
    WORKERS,
)
from bench.profile import profile_send_batch
from bench.queries import request_cost
from bench.rig import Rig
from bench.stack import Stack

BACKLOG_PEOPLE = 200  # x 10 tasks: the 2,000 emails the activation email overtakes


def main() -> int:
    started = time.monotonic()
    print("make bench: starting PostgreSQL database, Redis, SMTP, web, worker, beat")
    with Stack("bench", {"NOTIFICATIONS_COALESCE_SECONDS": str(WINDOW)}) as stack:
        rig = Rig.prepare(stack, "Benchmark")
        results = measure(rig)
        printed = bench_tables.tables(results)
        for table in printed:
            print(table.render(), flush=True)
        profile = profile_send_batch(rig)
        print(bench_tables.profile_text(profile) + "\n", flush=True)
    print(f"\nTotal time {(time.monotonic() - started) / 60:.1f} min.")
    for line in bench_tables.missed(printed):
        print(f"MISSED target: {line}")
    failures = results.delivery_failures()
    for line in failures:
        print(f"FAILED (emails lost or duplicated): {line}")
    return 1 if failures else 0


def measure(rig: Rig) -> BenchResults:
    """The phases in order: in-process requests first, before any worker or email
    competes for CPU; request isolation last, as its slow emails drain slowly."""
    backlog_people = create_employees("bl", BACKLOG_PEOPLE)
    cost = request_cost(rig)
    servers = start_processes(rig)
    rig.wait_for(cost.expected, 120)
    latency = bursts.latency(rig, LATENCY_SAMPLES)
    small = bursts.burst(rig, "sm", 10)
    large = bursts.burst(rig, "tp", BURST_TASKS)
    throughput = comparison.throughput(rig, BURST_TASKS, ROUNDS)
    memory = bursts.worker_memory(rig)
    scale_out = bursts.scale_out(rig, BURST_TASKS, restore=[CONCURRENCY] * WORKERS)
    fast_lane = bursts.fast_lane(
        rig, servers.on.url, backlog_people, ACTIVATION_SAMPLES
    )
    isolation = request_isolation(rig, servers, ISOLATION_SAMPLES)
    return BenchResults(
        workers=WORKERS,
        concurrency=CONCURRENCY,
        request_cost=cost,
        request_emails=rig.inbox.tally(cost.expected, "sq"),
        latency=latency,
        small=small,
        large=large,
        throughput=throughput,
        memory=memory,
        scale_out=scale_out,
        fast_lane=fast_lane,
        isolation=isolation,
    )


def start_processes(rig: Rig) -> Servers:
    """The workers, beat, and three gunicorn servers: the product, the product
    with its email receivers off, and the seed's send-in-the-request."""
    rig.start_workers([CONCURRENCY] * WORKERS)
    rig.stack.start_beat()
    servers = Servers(
        on=rig.stack.start_web("web-on"),
        off=rig.stack.start_web("web-off", app="bench.quiet:application"),
        seed=rig.stack.start_web("web-seed", app="bench.seed_style:application"),
    )
    print(
        f"Ready: {WORKERS} worker(s) x concurrency {CONCURRENCY}, beat, "
        f"3 gunicorn servers x {GUNICORN_WORKERS} sync workers, "
        f"SMTP on 127.0.0.1:{rig.smtp.port}",
        flush=True,
    )
    return servers


if __name__ == "__main__":
    sys.exit(main())
