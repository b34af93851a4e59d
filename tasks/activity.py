"""A task's history: what happened to it, who did it and when.

Recorded here by the domain receivers (tasks/receivers.py) and the comment form,
each Activity announced with `activity_recorded` (tasks/signals.py) once saved:
notifications listens, and tells the people concerned. The actor is the
signed-in user of the request (users.actor); changes made outside a request have
none.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction

from tasks.mentions import mentions_in
from tasks.models import Activity, Comment, Task
from tasks.signals import activity_recorded
from tasks.watching import watch
from users.actor import current_actor
from users.models import User

Verb = Activity.Verb


def record(task: Task, verb: str, actor: User | None = None, **fields: Any) -> Activity:
    """One entry; the actor is the request's user unless named."""
    activity = Activity.objects.create(
        task=task, verb=verb, actor=actor or current_actor(), **fields
    )
    activity_recorded.send(sender=Activity, activities=[activity])
    return activity


def record_people(verb: str, pairs: Iterable[tuple[int, int]]) -> list[Activity]:
    """ASSIGNED or UNASSIGNED for (task id, user id) pairs, in one INSERT."""
    actor = current_actor()
    activities = Activity.objects.bulk_create(
        Activity(task_id=task_id, person_id=user_id, verb=verb, actor=actor)
        for task_id, user_id in pairs
    )
    if activities:
        activity_recorded.send(sender=Activity, activities=activities)
    return activities


def record_changes(task: Task, before: dict[str, Any]) -> None:
    """STATUS and DUE_DATE entries for what a save changed."""
    if before["status"] != task.status:
        record(task, Verb.STATUS, before=before["status"], after=task.status)
    if before["due_date"] != task.due_date:
        record(
            task,
            Verb.DUE_DATE,
            before=iso(before["due_date"]),
            after=iso(task.due_date),
        )


def iso(day: datetime.date | None) -> str:
    """A due date as the history keeps it; "" for none (due dates are optional)."""
    return day.isoformat() if day else ""


@transaction.atomic  # a comment never lacks its history entry (and its emails)
def add_comment(
    task: Task, author: User, body: str, mentioned: Sequence[User] | None = None
) -> Comment:
    """The comment, the people it mentions (found in `body` unless given), who
    all watch the task from now on with its author, and its history entry."""
    if mentioned is None:
        mentioned = mentions_in(task, body, author).people
    comment = Comment.objects.create(task=task, author=author, body=body)
    if mentioned:
        comment.mentioned.add(*mentioned)
    watch(task, [author.pk, *(person.pk for person in mentioned)])
    record(task, Verb.COMMENTED, actor=author, comment=comment)
    return comment
