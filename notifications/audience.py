"""Who is told of an event on a task, and why: one entry per person, for their
strongest reason (mentioned > assigned > created > watching > manager).

- The people the event names (the person removed, the people mentioned, the
  assignees of a task being deleted), for the reason the kind declares.
- When the event is for the task's followers: its watchers (tasks/watching.py:
  assignees, creator, and everyone watching it) for their part, and the people
  who watch every task of its project (levels.py) as `manager`, unless they
  said they would not watch this one. Only those who may see the task
  (tasks.permissions): a follower who lost access is not told.
- Never the person who acted.

This decides who is concerned, whatever their email choices: a row is recorded
for each (the app's inbox, issue 26, lists them), and the worker decides, when
it takes the row, whether its email goes out (wishes.py: levels, mutes, access,
the kind's preference).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from django.db import connection

from notifications.levels import watching_project_sql
from notifications.models import Delivery
from notifications.prepared import fetch_all
from tasks.models import Task
from tasks.permissions import people_who_can_see
from tasks.watching import Following, Row, folded, following_sql

Reason = Delivery.Reason
STRONGEST_FIRST = list(Reason)
PROJECT_PART = "project"  # a project watcher's rows, beside tasks.watching's parts


@dataclass(frozen=True)
class Event:
    task: Task
    actor_id: int | None
    # The people the event names and why: told whether or not they follow it.
    named: Mapping[int, str] = field(default_factory=dict)
    # Whether the task's followers are told too.
    followers: bool = True


def audience(event: Event) -> dict[int, str]:
    """{user id: reason} for everyone told of this event."""
    told = followers(event.task, event.actor_id) if event.followers else {}
    for user_id, reason in event.named.items():
        told[user_id] = strongest(reason, told.get(user_id))
    if event.actor_id is not None:
        told.pop(event.actor_id, None)
    return told


def followers(task: Task, actor_id: int | None = None) -> dict[int, str]:
    """The task's watchers and its project's, who may see it, and why; never
    the person who acted (whose access is then not asked: a task's creator is
    usually its only watcher when it is made)."""
    following, project_watchers = watchers_and_project_watchers(task)
    told = {user_id: Reason(part) for user_id, part in following.parts.items()}
    for user_id in project_watchers - following.stopped:
        told.setdefault(user_id, Reason.MANAGER)
    if actor_id is not None:
        told.pop(actor_id, None)
    allowed = people_who_can_see([task.pk], told)
    return {uid: reason for uid, reason in told.items() if (task.pk, uid) in allowed}


def watchers_and_project_watchers(task: Task) -> tuple[Following, set[int]]:
    """The task's Following and its project's watchers, in one statement:
    tasks.watching's rows and levels' ids as rows of a part of their own."""
    rows_sql, rows_params = following_sql({task.pk})
    project_sql, project_params = watching_project_sql(task.project_id)
    statement = f"{rows_sql} UNION ALL SELECT %s, user_id, %s FROM ({project_sql}) w"  # noqa: S608
    params = [*rows_params, task.pk, PROJECT_PART, *project_params]
    rows = cast("list[Row]", fetch_all(connection, statement, params))
    project_watchers = {user_id for _, user_id, part in rows if part == PROJECT_PART}
    following = folded({task.pk}, (row for row in rows if row[2] != PROJECT_PART))
    return following[task.pk], project_watchers


def strongest(reason: str, other: str | None) -> str:
    if other is None:
        return reason
    return min(reason, other, key=lambda each: STRONGEST_FIRST.index(Reason(each)))
