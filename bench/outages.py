"""`make chaos` runs 2 and 3: a part of the product's stack taken away mid-run.

2. Redis stopped for 30 s while a manager assigns tasks over HTTP;
3. the worker SIGKILLed twice during a 1,000-email burst.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.chaos_results import KilledWorker, RedisOutage
from bench.forms import manager_session, task_fields
from bench.inbox import Key, expected_keys, marker, wait_until
from bench.knobs import CONCURRENCY
from bench.rows import commit_tracked, count_rows, ids_in

if TYPE_CHECKING:
    from bench.rig import Rig
    from bench.stack import Stack
    from users.models import User

KILLS_AT = (250, 600)  # emails accepted
LEASE_WAIT = 480.0  # the lease (360 s) + two sweep periods + slack
REQUESTS = 100  # run 2
INTERVAL = 0.6  # seconds between run 2's requests
OUTAGE_START = 15.0  # seconds into run 2
OUTAGE_SECONDS = 30.0


# 3. The worker SIGKILLed twice during a 1,000-email burst ---------------------------


@dataclass
class KilledBurst:
    """Run 3 until the lease of the dead worker's claims runs out."""

    expected: set[Key]
    ids: range
    in_flight: list[int]  # rows claimed ("sending") at each kill
    killed_at: float  # time.time() of the last kill


def kill_worker_twice(rig: Rig) -> KilledBurst:
    """Run 3's burst and kills. Its rows left in "sending" come back only when
    their lease runs out, so the other runs happen meanwhile."""
    print("Run 3: 1,000 emails, the worker SIGKILLed twice mid-burst", flush=True)
    expected, ids = commit_tracked(rig.project, "kill", 100, rig.people[:10])
    in_flight: list[int] = []
    stuck: set[int] = set()
    killed_at = 0.0
    for threshold in KILLS_AT:
        reached = rig.wait_for_count(expected, threshold, 120, 0.02)
        in_flight.append(count_rows(ids, "sending"))
        kill_workers(rig)
        killed_at = time.time()
        stuck = ids_in(ids, "sending")  # the dead worker's claims, until their lease
        at = rig.inbox.arrived(expected)
        print(f"  SIGKILL at {at} accepted (threshold reached: {reached})")
        rig.workers = [rig.stack.start_worker(CONCURRENCY, **rig.worker_env)]
    settle_except(ids, stuck)
    return KilledBurst(expected, ids, in_flight, killed_at)


def kill_workers(rig: Rig) -> None:
    """SIGKILL each worker's process group: main process and pool."""
    for worker in rig.workers:
        worker.kill()


def settle_except(ids: range, stuck: set[int]) -> None:
    """Until the new worker has sent every row but the dead worker's claims,
    so that the next runs have the server to themselves."""
    if not wait_until(lambda: ids_in(ids, "queued", "sending") <= stuck, 120, 0.2):
        print("  the rest of the burst did not settle within 120 s; going on")


def after_the_lease(rig: Rig, burst: KilledBurst) -> KilledWorker:
    """Run 3's end: wait for the sweep to hand the dead worker's claims out again."""
    remaining = LEASE_WAIT - (time.time() - burst.killed_at)
    print(f"Run 3: waiting up to {remaining:.0f} s for the sweep", flush=True)
    rig.wait_for(burst.expected, max(remaining, 60), burst.ids)
    return KilledWorker(
        arrivals=rig.inbox.tally(burst.expected, "kill"),
        in_flight=burst.in_flight,
        concurrency=CONCURRENCY,
        repeated_message_ids=rig.inbox.repeated_message_ids("kill"),
    )


# 2. Redis stopped for 30 s while a manager assigns ---------------------------------


class RedisStop:
    """Stops the stack's Redis OUTAGE_START seconds into the run, and starts it
    again OUTAGE_SECONDS later."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.stopped_at = 0.0
        self.restarted_at = 0.0

    @property
    def down(self) -> bool:
        return bool(self.stopped_at) and not self.restarted_at

    def follow(self, elapsed: float) -> None:
        """Stop or restart Redis as `elapsed` seconds into the run require."""
        if not self.stopped_at and elapsed >= OUTAGE_START:
            self.stack.stop_redis_for_outage()
            self.stopped_at = time.monotonic()
        if self.down and elapsed >= OUTAGE_START + OUTAGE_SECONDS:
            self.restart()

    def end(self) -> float:
        """Redis back (after the whole outage), and when it came back."""
        if not self.restarted_at:
            pace(self.stopped_at, OUTAGE_SECONDS)
            self.restart()
        return self.restarted_at

    def restart(self) -> None:
        self.stack.restart_redis()
        self.restarted_at = time.monotonic()


def redis_outage(rig: Rig, web_url: str) -> RedisOutage:
    print("Run 2: 100 assignment requests, Redis stopped for 30 s", flush=True)
    session = manager_session(web_url)
    outage = RedisStop(rig.stack)
    statuses: Counter[int] = Counter()
    during: list[float] = []
    expected: set[Key] = set()
    start = time.monotonic()
    for index in range(REQUESTS):
        pace(start, index * INTERVAL)
        outage.follow(time.monotonic() - start)
        tag, people = marker("ro", index), two_assignees(rig, index)
        fields = task_fields(f"Outage {tag}", rig.project.pk, people)
        answer = session.post("/tasks/create/", fields)
        statuses[answer.status] += 1
        if outage.down:
            during.append(answer.elapsed)
        expected |= expected_keys([tag], people)
    restarted_at = outage.end()
    arrived = rig.wait_for(expected, 240)
    return RedisOutage(
        arrivals=rig.inbox.tally(expected, "ro"),
        requests=REQUESTS,
        statuses=statuses,
        outage_seconds=during,
        all_arrived=arrived,
        last_after_return=rig.inbox.last_arrival(expected) - restarted_at,
    )


def two_assignees(rig: Rig, index: int) -> list[User]:
    """A different pair of people for each request, from the 20th person on."""
    return [rig.people[20 + (2 * index) % 80], rig.people[21 + (2 * index) % 80]]


def pace(start: float, offset: float) -> None:
    """Sleep until `offset` seconds after `start` (time.monotonic())."""
    delay = start + offset - time.monotonic()
    if delay > 0:
        time.sleep(delay)
