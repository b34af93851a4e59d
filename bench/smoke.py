"""`python -m bench.smoke`: the bench's own code tried in about 20 seconds.

A few phases of make bench and make chaos at a small size, against the same real
processes (database, Redis, SMTP server, a worker, gunicorn), and their tables
printed: for checking a change to bench/ without the many minutes of the full
runs. Its figures mean nothing; exits 1 when a phase lost or duplicated an email
or a fault run's check failed.
"""

from __future__ import annotations

import sys

from bench import bench_tables, bursts, chaos_tables, refusals
from bench.data import create_employees
from bench.profile import profile_send_batch
from bench.queries import request_cost
from bench.rig import Rig
from bench.stack import Stack


def main() -> int:
    print("bench smoke: starting PostgreSQL database, Redis, SMTP, web, worker")
    with Stack("smoke") as stack:
        rig = Rig.prepare(stack, "Smoke")
        rejected, unknown = create_employees("rej", 10), create_employees("sup", 5)
        backlog_people = create_employees("bl", 5)
        cost = request_cost(rig)
        rig.smtp.behaviour.reject_recipient = refusals.refused_as_unknown
        rig.start_workers([2])
        web = stack.start_web("web")
        rig.wait_for(cost.expected, 60)
        latency = bursts.latency(rig, 3)
        burst = bursts.burst(rig, "sm", 2)
        fast_lane = bursts.fast_lane(rig, web.url, backlog_people, 2)
        memory = bursts.worker_memory(rig)
        faults = [
            chaos_tables.permanent_failures_row(
                refusals.permanent_failures(rig, rejected)
            ),
            chaos_tables.suppressed_row(refusals.suppressed(rig, unknown)),
        ]
        for table in (
            bench_tables.latency_table(latency),
            bench_tables.worker_table(burst, 1, 2),
            bench_tables.fast_lane_table(fast_lane),
            bench_tables.memory_table(memory),
            chaos_tables.fault_table(faults),
        ):
            print(table.render(), flush=True)
        print(f"\n{bench_tables.request_cost_note(cost)}")
        print(bench_tables.profile_text(profile_send_batch(rig)), flush=True)
    intact = all(
        each.intact for each in (latency.arrivals, burst.arrivals, fast_lane.backlog)
    )
    return 0 if intact and all(row.passed for row in faults) else 1


if __name__ == "__main__":
    sys.exit(main())
