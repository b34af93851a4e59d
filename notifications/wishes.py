"""Decided again at send time: does this person still may, and still want, this
email about a task?

Recording told everyone concerned when the event happened (audience.py); a
moment or a day later the worker takes the row and asks again, for the whole
batch at once (a fixed number of queries however many rows):

1. access: the reader can still see the task (tasks.permissions), for the kinds
   that need it (not a removal or a deletion);
2. the kind's condition: an assignment email only while still assigned (an
   unassignment that came before the send sends nothing); a new due date or
   status step only while the task is not completed (one completed since, or
   before, sends nothing: the work is done, and the completion email says so);
   a due-date reminder only while it holds: still assigned, the task open, not
   re-dated since, no later reminder of it recorded, still what its reader
   chooses (reminders.py);
3. the mute on the task (mentions still come through);
4. the reader's level for the project (levels.py): Off sends nothing, Mentions
   only sends mentions, Participating sends what names them and, for the
   rest, only while they still follow the task; Watching sends everything but
   a task they stopped watching.

Before all of these: the reader has not read it in the app already (inbox.py:
the email would tell them what they know), and, for every notification (task
or not), has not reported our email as spam (feedback.py; account emails
still go).

A row that fails is skipped, and the delivery log shows why (last_error). The
kind's own preference (right away, digest, off) comes after, in sending.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from notifications import mutes, reminders
from notifications.contexts import READ_IN_APP
from notifications.kinds import (
    ACCOUNT_KINDS,
    INBOX_KINDS,
    KINDS,
    TASK_KINDS,
    AboutTask,
    Kind,
)
from notifications.levels import DEFAULT, levels_for
from notifications.models import Complaint, Delivery, NotificationLevel
from tasks.models import Task
from tasks.permissions import people_who_can_see
from tasks.watching import Following, watchers_of

Level, Reason = NotificationLevel.Level, Delivery.Reason

CANNOT_SEE = "the recipient can no longer see the task"
NOT_ASSIGNED = "the recipient is no longer assigned to the task"
TASK_DONE = "the task is completed: the change asks nothing of anyone"
MUTED = "the recipient muted this task"
LEVEL_OFF = "the recipient turned off emails about this project"
MENTIONS_ONLY = "the recipient wants only mentions from this project"
STOPPED_WATCHING = "the recipient no longer follows this task"
NOT_WATCHING_PROJECT = "the recipient no longer watches every task of this project"
COMPLAINED = "turned off: the recipient reported our email as spam"


class Wishes:
    """What the worker checks again, for one batch of deliveries."""

    def __init__(self, deliveries: Iterable[Delivery], tasks: Mapping[int, Task]):
        deliveries = list(deliveries)
        self.complained = Complaint.objects.people_among(
            d.recipient_id for d in deliveries if d.kind not in ACCOUNT_KINDS
        )
        rows = [d for d in deliveries if d.kind in TASK_KINDS]
        self.tasks = tasks
        people = {row.recipient_id for row in rows}
        task_ids = {task_of(row) for row in rows}
        self.visible = people_who_can_see(set(tasks) & task_ids, people)
        self.assigned = assignments(task_ids, people)
        self.muted = mutes.muted(people, task_ids)
        self.levels = levels_for(
            {(row.recipient_id, self.project(row)) for row in rows}
        )
        self.following = watchers_of(task_ids)
        reminded = [row for row in rows if row.kind == Kind.DUE_REMINDER]
        people = {row.recipient_id for row in reminded}
        self.reminder_choices = reminders.choices_of(people) if people else {}
        self.latest_reminders = reminders.latest_days(reminded)

    def why_not(self, delivery: Delivery) -> str | None:
        """Why this email must not go now, or None when it may."""
        if delivery.read_at is not None and delivery.kind in INBOX_KINDS:
            return READ_IN_APP
        notification = delivery.kind not in ACCOUNT_KINDS
        if notification and delivery.recipient_id in self.complained:
            return COMPLAINED
        about = KINDS[delivery.kind].task
        if about is None:
            return None
        return self.task_says(delivery, about) or self.reader_says(delivery, about)

    def task_says(self, delivery: Delivery, about: AboutTask) -> str | None:
        """Access and the kind's condition, while the task lives (a deleted
        task's emails are settled by their builders)."""
        pair = (task_of(delivery), delivery.recipient_id)
        if pair[0] not in self.tasks:
            return None
        if about.needs_access and pair not in self.visible:
            return CANNOT_SEE
        if about.while_assigned and pair not in self.assigned:
            return NOT_ASSIGNED
        task = self.tasks[pair[0]]
        if about.while_open and task.status == Task.Status.COMPLETED:
            return TASK_DONE
        if delivery.kind == Kind.DUE_REMINDER:
            choice = self.reminder_choices.get(pair[1], reminders.DEFAULT)
            latest = self.latest_reminders.get((pair[1], pair[0]), "")
            return reminders.why_not_now(delivery, task, choice, latest)
        return None

    def reader_says(self, delivery: Delivery, about: AboutTask) -> str | None:
        """The mute on the task, then the level for its project."""
        reader, task_id = delivery.recipient_id, task_of(delivery)
        mentioned = delivery.kind == Kind.MENTIONED
        if (reader, task_id) in self.muted and not mentioned:
            return MUTED
        level = self.levels.get((reader, self.project(delivery)), DEFAULT)
        if level == Level.OFF:
            return LEVEL_OFF
        if level == Level.MENTIONS:
            return None if mentioned else MENTIONS_ONLY
        if delivery.reason in (
            "",
            about.addressed,
        ):  # named (or recorded before reasons)
            return None
        return self.following_says(delivery, level)

    def following_says(self, delivery: Delivery, level: str) -> str | None:
        """For a follower's email: Watching hears all but a task they stopped
        watching; Participating only tasks they still follow."""
        task_id = task_of(delivery)
        following = self.following.get(task_id, Following())
        if level == Level.WATCHING:
            stopped = delivery.recipient_id in following.stopped
            return STOPPED_WATCHING if stopped else None
        if delivery.reason == Reason.MANAGER:
            return NOT_WATCHING_PROJECT
        gone = task_id not in self.tasks
        if gone or delivery.recipient_id in following.parts:
            return None
        return STOPPED_WATCHING

    def project(self, delivery: Delivery) -> int:
        task = self.tasks.get(task_of(delivery))
        if task is not None:
            return task.project_id
        return int(delivery.context.get("project_id") or 0)


def task_of(delivery: Delivery) -> int:
    return int(delivery.context.get("task_id") or 0)


def assignments(task_ids: set[int], people: set[int]) -> set[tuple[int, int]]:
    """The (task id, user id) pairs among these that are assignments."""
    if not task_ids or not people:
        return set()
    rows = Task.assigned_to.through.objects.filter(
        task_id__in=task_ids, user_id__in=people
    )
    return set(rows.values_list("task_id", "user_id"))
