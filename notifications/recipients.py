"""Who is told of an entry in a task's history (kinds.py names one per kind).

Each returns user ids, None among them where the task has no such person;
recording drops those and the person who did it.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.models import Activity, Task

Recipients = Callable[[Activity], list[int | None]]


def person_removed(activity: Activity) -> list[int | None]:
    return [activity.person_id]


def assignees(activity: Activity) -> list[int | None]:
    return list(activity.task.assigned_to.values_list("pk", flat=True))


def creator_if_completed(activity: Activity) -> list[int | None]:
    completed = activity.after == Task.Status.COMPLETED
    return [activity.task.created_by_id] if completed else []


def people_on_task(activity: Activity) -> list[int | None]:
    return [*assignees(activity), activity.task.created_by_id]
