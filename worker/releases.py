"""Rows due later, gathered in Redis by the moment they are due: one release job
per moment and lane, not one per request.

A burst of requests each records rows that wait for their coalescing window.
Each used to publish a release job of its own, and each release a deliver job,
most of which found their rows already taken by the run before them. Now a
request appends its ids to the list of the moment (a RELEASE_STEP-long slice of
time) in which they fall due, and only the first to reach a moment publishes
the job that releases it, due at the moment's end. Both are one MULTI, so a
request that comes after its moment was released starts the moment again and
publishes its own job: no id is left behind in a list nobody reads.

Should Redis lose a list (it keeps nothing on disk), the release job not
reach the broker, or a worker die between taking a list and publishing its
rows, the rows are still queued in the database, and the sweep publishes them
once they are past due, as it does for a lost job: later, never lost.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from project.redis import redis_client

# Rows due within the same tenth of a second share a release: a burst's
# releases go from one per request to at most ten a second, and no row waits
# more than this past its time for it (with a quarter of a second, tried
# first, a lone email's commit-to-accepted p95 in make bench was 290 ms; with
# a tenth, 134 to 139 ms).
RELEASE_STEP = 0.1
# A moment's list outlives its release job's countdown by this much (the
# broker holds such a job at most half its visibility timeout).
SPARE_SECONDS = 600
PREFIX = "notifications:release"


def gather(delivery_ids: Sequence[int], queue: str, countdown: float) -> int | None:
    """Add the ids to the moment they fall due in; that moment's number when
    this call is the first to reach it (its caller publishes the release),
    None when a release is already on its way (or there is nothing to add)."""
    if not delivery_ids:
        return None
    moment = math.ceil((time.time() + countdown) / RELEASE_STEP)
    ids, job = keys(queue, moment)
    ttl = math.ceil(countdown) + SPARE_SECONDS
    with redis_client().pipeline(transaction=True) as pipe:
        pipe.rpush(ids, *delivery_ids)
        pipe.expire(ids, ttl)
        pipe.set(job, 1, nx=True, ex=ttl)
        first = pipe.execute()[-1]
    return moment if first else None


def seconds_until(moment: int) -> float:
    """The countdown of a moment's release: its end, from now."""
    return max(moment * RELEASE_STEP - time.time(), 0.0)


def take(queue: str, moment: int) -> list[int]:
    """The ids gathered for a moment, taken out of Redis with its mark, so
    whoever adds to it afterwards publishes a release of their own."""
    ids, job = keys(queue, moment)
    with redis_client().pipeline(transaction=True) as pipe:
        pipe.lrange(ids, 0, -1)
        pipe.delete(ids, job)
        gathered = pipe.execute()[0]
    return [int(pk) for pk in gathered]


def keys(queue: str, moment: int) -> tuple[str, str]:
    """The moment's list of ids, and its mark that a release is published."""
    return f"{PREFIX}:{queue}:{moment}", f"{PREFIX}:{queue}:{moment}:job"
