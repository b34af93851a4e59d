"""`make bench` (2b, 3b, 3c, 3d, 4, 5): emails committed in this process and timed
at the SMTP server, and the workers' memory after them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.bench_results import Burst, FastLane, Latency, WorkerMemory
from bench.data import commit_tasks
from bench.forms import post_sign_up
from bench.inbox import markers, wait_until
from bench.knobs import WINDOW
from bench.rows import delivery_phases, last_delivery_id
from bench.stack import descendants, status_kib

if TYPE_CHECKING:
    from bench.rig import Rig
    from users.models import User

ASSIGNEES = 10  # per task of a burst
LAYOUTS = {  # (3c) worker instances, by their concurrency
    "one worker instance, concurrency 4": [4],
    "two worker instances (two hosts), concurrency 2 each": [2, 2],
}
BACKLOG_TASKS = 10  # (3d) x the backlog's people
BACKLOG_DELAY = 0.05  # seconds the SMTP server takes per message meanwhile


def burst(rig: Rig, prefix: str, tasks: int) -> Burst:
    """`tasks` tasks for ten people committed at once, timed until the last email."""
    watermark = last_delivery_id()
    cpu_before = rig.worker_cpu()
    own_before = time.process_time()
    commit = commit_tasks(rig.project, markers(prefix, tasks), rig.people[:ASSIGNEES])
    rig.wait_for(commit.expected, 300)
    return Burst(
        emails=len(commit.expected),
        seconds=rig.inbox.last_arrival(commit.expected) - commit.at - WINDOW,
        worker_cpu=rig.worker_cpu() - cpu_before,
        smtp_cpu=time.process_time() - own_before,
        arrivals=rig.inbox.tally(commit.expected, prefix),
        phases=delivery_phases(watermark, commit.wall),
    )


def latency(rig: Rig, samples: int) -> Latency:
    """(4) One task for one person at a time, on an idle system."""
    person = rig.people[0]
    seconds: list[float] = []
    expected = set()
    for tag in markers("lat", samples):
        commit = commit_tasks(rig.project, [tag], [person], title="Ping")
        expected |= commit.expected
        if rig.wait_for(commit.expected, 30):
            arrived = rig.inbox.last_arrival(commit.expected)
            seconds.append(arrived - commit.at - WINDOW)
        time.sleep(0.3)  # idle between samples
    return Latency(samples, seconds, rig.inbox.tally(expected, "lat"))


def worker_memory(rig: Rig) -> list[WorkerMemory]:
    """(5) Each worker's processes: peak and current resident memory."""
    memory = []
    for worker in rig.workers:
        pids = descendants(worker.pid)
        peak = [status_kib(pid, "VmHWM") for pid in pids]
        memory.append(WorkerMemory(peak, [status_kib(pid, "VmRSS") for pid in pids]))
    return memory


def scale_out(rig: Rig, tasks: int, restore: Sequence[int]) -> dict[str, Burst]:
    """(3c) The same burst drained by each layout of worker instances; then the
    workers of `restore`'s concurrencies again."""
    scaled = {}
    for letter, (layout, concurrencies) in zip("ab", LAYOUTS.items(), strict=True):
        rig.start_workers(concurrencies, name="scale")
        scaled[layout] = burst(rig, f"so{letter}", tasks)
    rig.start_workers(restore, name="scale")
    return scaled


def fast_lane(
    rig: Rig, web_url: str, backlog_people: Sequence[User], samples: int
) -> FastLane:
    """(3d) Sign-ups over HTTP while a backlog of assignment emails drains slowly."""
    tags = markers("bk", BACKLOG_TASKS)
    with rig.answering(delay=BACKLOG_DELAY):
        backlog = commit_tasks(rig.project, tags, backlog_people).expected
        rig.wait_for_count(backlog, 20, 60)
        waits = [activation_wait(rig, web_url, f"fastlane{i}") for i in range(samples)]
        backlog_left = len(backlog) - rig.inbox.arrived(backlog)
        rig.wait_for(backlog, 300)
    return FastLane(
        waits=waits,
        backlog_left=backlog_left,
        backlog=rig.inbox.tally(backlog, "bk"),
        backlog_tasks=BACKLOG_TASKS,
        backlog_people=len(backlog_people),
        smtp_delay=BACKLOG_DELAY,
    )


def activation_wait(rig: Rig, web_url: str, username: str) -> float:
    """Seconds from the sign-up's answer to the 250 for its activation email."""
    post_sign_up(web_url, username)
    signed_up = time.monotonic()
    address = f"{username}@example.com"
    if not wait_until(lambda: rig.inbox.first_accepted_to(address) is not None, 120):
        raise RuntimeError(f"no activation email to {address} in 120 s")
    accepted = rig.inbox.first_accepted_to(address)
    assert accepted is not None
    return accepted - signed_up
