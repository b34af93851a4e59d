"""`make bench` (3a, and the note under 1): `POST /tasks/create/` in this process.

With Django's test client, after a warm-up request: the SQL queries of a request
that assigns 1 user and 100, of a ten-assignee one with notifications off
(bench/switch.py), and how much of a ten-assignee request the product's
notification steps take.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bench.bench_results import RequestCost
from bench.forms import grouped, task_fields
from bench.inbox import Key, expected_keys, marker

if TYPE_CHECKING:
    from django.test import Client

    from bench.rig import Rig
    from users.models import User

TIMED_REQUESTS = 20


def request_cost(rig: Rig) -> RequestCost:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(rig.manager)
    queries, expected = count_queries(client, rig)
    queries[0] = count_queries_notifications_off(client, rig)
    request_ms, steps_ms, timed = time_notification_steps(client, rig)
    return RequestCost(queries, request_ms, steps_ms, expected | timed)


def create_task(client: Client, title: str, rig: Rig, people: Sequence[User]) -> None:
    fields = grouped(task_fields(title, rig.project.pk, people))
    answer = client.post("/tasks/create/", fields)
    if answer.status_code != 302:
        raise RuntimeError(f"/tasks/create/ answered {answer.status_code}")


def create_task_counted(
    client: Client, title: str, rig: Rig, people: Sequence[User]
) -> int:
    """create_task, returning the SQL queries it made."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        create_task(client, title, rig, people)
    return len(queries.captured_queries)


def count_queries(client: Client, rig: Rig) -> tuple[dict[int, int], set[Key]]:
    """Queries by number of assignees; the first request warms the caches."""
    counts: dict[int, int] = {}
    expected: set[Key] = set()
    for index, size in enumerate((1, 1, 100)):
        tag, people = marker("sq", index), rig.people[:size]
        counts[size] = create_task_counted(client, f"Scale {tag}", rig, people)
        expected |= expected_keys([tag], people)
    return counts, expected


def count_queries_notifications_off(client: Client, rig: Rig) -> int:
    """The same ten-assignee request with every notifications receiver
    disconnected."""
    from bench.switch import notifications_off

    with notifications_off():
        return create_task_counted(client, "Scale off", rig, rig.people[:10])


def time_notification_steps(
    client: Client, rig: Rig
) -> tuple[float, dict[str, float], set[Key]]:
    """Mean ms of a ten-assignee request, and of the product's notification steps
    in it: module functions wrapped with timers, in this process only."""
    from notifications import recording
    from worker import jobs

    steps = [
        (recording, "record_task_assigned"),
        (recording, "record_activity"),
        (jobs, "publish"),
    ]
    spent = {name: 0.0 for _, name in steps}
    originals = {name: getattr(module, name) for module, name in steps}
    for module, name in steps:
        setattr(module, name, timer(originals[name], name, spent))
    tags = [marker("sq", 100 + index) for index in range(TIMED_REQUESTS)]
    total = 0.0
    try:
        for tag in tags:
            start = time.perf_counter()
            create_task(client, f"Steps {tag}", rig, rig.people[:10])
            total += time.perf_counter() - start
    finally:
        for module, name in steps:
            setattr(module, name, originals[name])
    steps_ms = {name: seconds / len(tags) * 1000 for name, seconds in spent.items()}
    return total / len(tags) * 1000, steps_ms, expected_keys(tags, rig.people[:10])


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
