"""Who follows a task: its watchers.

A task's creator and assignees watch it without asking; so does anyone who
comments on it or is mentioned in a comment, or presses "Watch", or whom a
Manager adds (each a Watch row, watching). "Stop watching" is a row too
(watching=False), and wins over being creator or assignee, so an assignee who
stopped watching stays that way; commenting, being mentioned or "Watch" again
make them a watcher once more. Nobody watches a task they may not see: callers
ask tasks.permissions first (the views), or filter after (the audience).

notifications/audience.py tells a task's watchers of what happens to it, each
for their strongest part: assigned, then created, then watching.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection

from tasks.models import Task, Watch
from users.models import User

# How someone came to watch a task, strongest first (the audience's reasons).
ASSIGNED, CREATED, WATCHING = "assigned", "created", "watching"
STRONGEST_FIRST = (ASSIGNED, CREATED, WATCHING)
STOPPED = "stopped"  # a Watch row of someone who pressed "Stop watching"
Row = tuple[int, int, str]  # task id, user id, part


@dataclass
class Following:
    """Who follows one task, and who said they would not."""

    # Each watcher's id and how they came to watch.
    parts: dict[int, str] = field(default_factory=dict)
    # Who pressed "Stop watching" (and has not watched again since).
    stopped: set[int] = field(default_factory=set)


def watchers_of(task_ids: Iterable[int]) -> dict[int, Following]:
    """Per task id, who follows it and who stopped, in one query however many
    tasks and people."""
    tasks = set(task_ids)
    return folded(tasks, following_rows(tasks) if tasks else [])


def folded(tasks: set[int], rows: Iterable[Row]) -> dict[int, Following]:
    """following_rows as each task's Following: everyone for their strongest
    part, nobody who stopped."""
    found = {task_id: Following() for task_id in tasks}
    for task_id, user_id, part in rows:
        following = found[task_id]
        if part == STOPPED:
            following.stopped.add(user_id)
        elif stronger(part, following.parts.get(user_id)):
            following.parts[user_id] = part
    for following in found.values():
        for user_id in following.stopped:
            following.parts.pop(user_id, None)
    return found


def following_rows(tasks: set[int]) -> list[Row]:
    statement, params = following_sql(tasks)
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        rows: list[Row] = cursor.fetchall()
    return rows


def following_sql(tasks: set[int]) -> tuple[str, list[int | str]]:
    """(task id, user id, part) for every Watch row (watching, or STOPPED),
    creator and assignee of these tasks, in one UNION ALL; and its parameters
    (notifications.audience adds the project's watchers to it).

    Written out rather than built by the ORM: the request that changes a task
    asks it for its history's audience, and compiling three querysets cost
    that request more than running them (bench/RESULTS.md). Only quoted names
    are interpolated; every value is a parameter."""
    quote = connection.ops.quote_name
    watches, tasks_table = quote(Watch._meta.db_table), quote(Task._meta.db_table)
    assignments = quote(Task.assigned_to.through._meta.db_table)
    ids = ", ".join(["%s"] * len(tasks))
    statement = (
        "SELECT task_id, user_id, CASE WHEN watching THEN %s ELSE %s END "  # noqa: S608
        f"FROM {watches} WHERE task_id IN ({ids}) "
        f"UNION ALL SELECT id, created_by_id, %s FROM {tasks_table} "
        f"WHERE id IN ({ids}) AND created_by_id IS NOT NULL "
        f"UNION ALL SELECT task_id, user_id, %s FROM {assignments} "
        f"WHERE task_id IN ({ids})"
    )
    order = sorted(tasks)
    params: list[int | str] = [WATCHING, STOPPED, *order, CREATED, *order]
    return statement, [*params, ASSIGNED, *order]


def stronger(part: str, other: str | None) -> bool:
    return other is None or STRONGEST_FIRST.index(part) < STRONGEST_FIRST.index(other)


def watchers(task: Task) -> list[tuple[User, str]]:
    """The task's watchers, each with how they came to watch, by name."""
    parts = watchers_of([task.pk])[task.pk].parts
    people = User.objects.filter(pk__in=parts).order_by(
        "first_name", "last_name", "username"
    )
    return [(person, parts[person.pk]) for person in people]


def watch(task: Task, user_ids: Iterable[int], added_by: User | None = None) -> None:
    """These people watch the task from now on, in one statement."""
    rows = [
        Watch(task=task, user_id=user_id, watching=True, added_by=added_by)
        for user_id in set(user_ids)
    ]
    Watch.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["task", "user"],
        update_fields=["watching", "added_by", "updated_at"],
    )


def unwatch(task: Task, user: User) -> None:
    """This person stops watching, even as the task's creator or assignee."""
    Watch.objects.update_or_create(
        task=task, user=user, defaults={"watching": False, "added_by": None}
    )


def is_watching(task: Task, user: User) -> bool:
    return user.pk in watchers_of([task.pk])[task.pk].parts
