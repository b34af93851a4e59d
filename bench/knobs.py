"""The environment knobs of `make bench` and `make chaos`, read once.

Smaller values make a quicker run for trying the bench itself (bench/README.md).
"""

from __future__ import annotations

import os


def knob(name: str, default: int) -> int:
    return int(os.environ.get(name, str(default)))


WORKERS = knob("BENCH_WORKERS", 1)  # worker instances of make bench
CONCURRENCY = knob("BENCH_CONCURRENCY", 4)  # pool processes per worker instance
GUNICORN_WORKERS = knob("BENCH_GUNICORN_WORKERS", 4)
BURST_TASKS = knob("BENCH_BURST_TASKS", 200)  # x 10 assignees: the 2,000-email burst
ROUNDS = knob("BENCH_ROUNDS", 2)  # of the throughput comparison, the best one counts
# 150: the p95 of 60 moved by more than the overhead it judges, from run to run
# (0.95 to 1.46 at one commit, 2026-12-05).
ISOLATION_SAMPLES = knob("BENCH_ISOLATION_SAMPLES", 150)
LATENCY_SAMPLES = knob("BENCH_LATENCY_SAMPLES", 20)
ACTIVATION_SAMPLES = knob("BENCH_ACTIVATION_SAMPLES", 10)
# make bench runs with coalescing on (every notification waits this window
# first); its timings of notifications count from the window's end.
WINDOW = knob("BENCH_COALESCE_SECONDS", 1)
