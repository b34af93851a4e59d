"""`make chaos` run 11: the worker SIGKILLed inside the coalescing window.

Twenty tasks are assigned to ten people each, and every task is re-dated three
times at once: each person's four changes to a task wait in the outbox for the
window (COALESCE_ENV) and are owed as one email. Once every row waits, the
worker (main process and pool, holding the jobs due at the window's end) is
SIGKILLed and a new one started: the sweep (beat) publishes the rows when their
time has come, and each (person, task) must get exactly one email, the one that
tells all four changes.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from bench.chaos_results import COALESCE_ENV, CoalescedKill
from bench.inbox import Inbox, Key, wait_until
from bench.knobs import CONCURRENCY
from bench.rows import commit_tracked, count_rows, last_delivery_id, rows_in

if TYPE_CHECKING:
    from bench.rig import Rig

TASKS = 20
PEOPLE = slice(80, 90)
REDATINGS = 3
SETTLE = 150.0  # the window, a sweep period, its grace and slack


def killed_in_window(rig: Rig) -> CoalescedKill:
    window = COALESCE_ENV["NOTIFICATIONS_COALESCE_SECONDS"]
    print(
        f"Run 11: {TASKS} tasks x {PEOPLE.stop - PEOPLE.start} people, re-dated "
        f"{REDATINGS} times in a {window} s window, the worker SIGKILLed inside it",
        flush=True,
    )
    rig.start_workers([CONCURRENCY], **COALESCE_ENV)
    expected, first = commit_tracked(rig.project, "window", TASKS, rig.people[PEOPLE])
    redate_each(rig, expected)
    ids = range(first.start, last_delivery_id() + 1)
    waited = wait_until(lambda: all_waiting(ids), 60, 0.1)
    in_flight = count_rows(ids, "sending")
    for worker in rig.workers:
        worker.kill()
    rig.workers = [rig.stack.start_worker(CONCURRENCY, **COALESCE_ENV)]
    if not wait_until(lambda: count_rows(ids, "queued", "sending") == 0, SETTLE):
        print(f"  not settled within {SETTLE:.0f} s of the kill")
    return measured(rig, expected, ids, waited, in_flight)


def redate_each(rig: Rig, expected: set[Key]) -> None:
    """Each task of the burst moved three times, each its own commit."""
    from tasks.models import Task

    tags = sorted({tag for _, tag in expected})
    tasks = Task.objects.filter(
        project=rig.project, title__in=[f"Load {t}" for t in tags]
    )
    for task in tasks:
        for days in range(1, REDATINGS + 1):
            task.due_date = datetime.date(2031, 1, 1) + datetime.timedelta(days=days)
            task.save()


def all_waiting(ids: range) -> bool:
    """Every row of the run queued for its window, none claimed or sent."""
    waiting = rows_in(ids, "queued").filter(waiting_for="window").count()
    return waiting == len(rows_in(ids))


def measured(
    rig: Rig, expected: set[Key], ids: range, waited: bool, in_flight: int
) -> CoalescedKill:
    inbox = Inbox(rig.smtp.received)
    told_all = sum(
        1
        for message in inbox.messages()
        if "window-" in message.subject and f"{REDATINGS + 1} changes" in message.body()
    )
    return CoalescedKill(
        arrivals=inbox.tally(expected, "window"),
        rows=len(rows_in(ids)),
        waited_at_kill=waited,
        in_flight=in_flight,
        told_all=told_all,
        merged=count_rows(ids, "bundled"),
        skipped=count_rows(ids, "skipped"),
        failed=count_rows(ids, "failed"),
    )
