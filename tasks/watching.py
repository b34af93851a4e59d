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

from tasks.models import Task, Watch
from users.models import User

# How someone came to watch a task, strongest first (the audience's reasons).
ASSIGNED, CREATED, WATCHING = "assigned", "created", "watching"


@dataclass
class Following:
    """Who follows one task, and who said they would not."""

    # Each watcher's id and how they came to watch.
    parts: dict[int, str] = field(default_factory=dict)
    # Who pressed "Stop watching" (and has not watched again since).
    stopped: set[int] = field(default_factory=set)


def watchers_of(task_ids: Iterable[int]) -> dict[int, Following]:
    """Per task id, who follows it and who stopped, in three queries however
    many tasks and people."""
    tasks = set(task_ids)
    found = {task_id: Following() for task_id in tasks}
    if not tasks:
        return found
    watches = Watch.objects.filter(task_id__in=tasks).values_list(
        "task_id", "user_id", "watching"
    )
    for task_id, user_id, watching in watches:
        if watching:
            found[task_id].parts[user_id] = WATCHING
        else:
            found[task_id].stopped.add(user_id)
    creators = Task.objects.filter(pk__in=tasks, created_by__isnull=False)
    for task_id, user_id in creators.values_list("pk", "created_by_id"):
        found[task_id].parts[user_id] = CREATED
    assignments = Task.assigned_to.through.objects.filter(task_id__in=tasks)
    for task_id, user_id in assignments.values_list("task_id", "user_id"):
        found[task_id].parts[user_id] = ASSIGNED
    for following in found.values():
        for user_id in following.stopped:
            following.parts.pop(user_id, None)
    return found


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
