"""Where a worker's time goes: notifications.sending.send_batch under cProfile.

Runs the product's own send_batch(), in a process of its own like a worker, on a
batch of deliveries that no worker is consuming (the workers are killed first),
against the same SMTP server, with no coalescing window (each row is sent on its
first claim), and splits its time into templates, MIME building, SMTP round
trips (which include the server's time to answer), SQL and the rest.
"""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

from bench.bench_results import ProfileFailed, SendProfile
from bench.data import commit_tasks
from bench.inbox import markers
from bench.rows import last_delivery_id

if TYPE_CHECKING:
    from bench.rig import Rig

# (file suffix, function name) pairs whose cumulative time makes each part.
TEMPLATES = [("django/template/loader.py", "render_to_string")]
MIME = [("django/core/mail/message.py", "message"), ("email/message.py", "as_bytes")]
TRANSMIT = [("notifications/smtp.py", "transact")]
SQL = [("~", "<method 'execute' of 'psycopg2.extensions.cursor' objects>")]
DELIVER = [("notifications/sending.py", "send_batch")]
BATCH = 50
# The rows are sent in the first run rather than handed back to wait for a
# coalescing window: the profile is of sending.
SEND_AT_ONCE = {"NOTIFICATIONS_COALESCE_SECONDS": "0"}


def profile_send_batch(rig: Rig) -> SendProfile | ProfileFailed:
    """10 tasks x 50 people committed with the workers killed (mid-way through
    slow emails: no wait), then profiled in `python -m bench.profile`."""
    for worker in rig.workers:
        worker.kill()
    rig.smtp.behaviour.delay = 0.0
    first = last_delivery_id() + 1
    commit_tasks(rig.project, markers("prof", 10), rig.people[:50])
    command = ["-m", "bench.profile", str(first), str(last_delivery_id())]
    answer = subprocess.run(
        [sys.executable, *command],
        env={**os.environ, **SEND_AT_ONCE},
        capture_output=True,
        text=True,
        timeout=300,
    )
    if answer.returncode != 0:
        return ProfileFailed(answer.stderr[-3000:])
    return SendProfile(**json.loads(answer.stdout.strip().splitlines()[-1]))


def cumulative(stats: pstats.Stats, wanted: list[tuple[str, str]]) -> float:
    total = 0.0
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (path, _line, name), (_cc, _nc, _tt, ct, _callers) in entries:
        if any(path.endswith(suffix) and name == fn for suffix, fn in wanted):
            total += ct
    return total


def profile_deliveries(
    deliver: Callable[[Sequence[int]], object], ids: list[int], batch: int
) -> tuple[pstats.Stats, float]:
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    for index in range(0, len(ids), batch):
        deliver(ids[index : index + batch])
    profiler.disable()
    return pstats.Stats(profiler), time.perf_counter() - start


def send_profile(ids: list[int], batch: int) -> SendProfile:
    from notifications.sending import send_batch

    stats, wall = profile_deliveries(send_batch, ids, batch)
    total = cumulative(stats, DELIVER) or wall
    templates = cumulative(stats, TEMPLATES)
    mime = cumulative(stats, MIME)
    smtp = max(cumulative(stats, TRANSMIT) - mime, 0.0)
    sql = cumulative(stats, SQL)
    other = max(total - templates - mime - smtp - sql, 0.0)
    parts = {"templates": templates, "mime": mime, "smtp": smtp, "sql": sql}
    return SendProfile(len(ids), batch, parts | {"other": other, "total": total}, wall)


def main() -> None:
    """`python -m bench.profile FIRST LAST`: profile deliveries FIRST..LAST and
    print the SendProfile as JSON.

    Run with the stack's environment, in a process of its own so the profile,
    like a worker, does not share the SMTP server's interpreter.
    """
    import django

    django.setup()
    first, last = int(sys.argv[1]), int(sys.argv[2])
    profile = send_profile(list(range(first, last + 1)), BATCH)
    print(json.dumps(asdict(profile)))


if __name__ == "__main__":
    main()
