"""The people an entry of a task's history names (kinds.py's FromHistory.named):
told for the kind's own reason, whoever else follows the task.

Each returns user ids, None among them where the entry names nobody (an account
deleted since); recording drops those and the person who did it.
"""

from __future__ import annotations

from collections.abc import Callable

from tasks.models import Activity

Recipients = Callable[[Activity], list[int | None]]


def person_removed(activity: Activity) -> list[int | None]:
    return [activity.person_id]


def mentioned(activity: Activity) -> list[int | None]:
    """The people a comment mentions who could see the task (tasks/mentions.py)."""
    if activity.comment is None:
        return []
    return list(activity.comment.mentioned.values_list("pk", flat=True))
