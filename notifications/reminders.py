"""Due-date reminders: before the due date (N days), on the day, and every day
while overdue, at each assignee's hour in their time zone, as they chose
(DigestSchedule; no row: one day before, on the day, overdue, at 09:00).

Each reminder is an outbox row whose event key names its task, person, which
reminder and day: "reminder:<task>:<person>:<before|today|overdue>:<day>".
The key is unique, and rows are inserted with ON CONFLICT DO NOTHING, so two
beat instances (or one running the job twice) record each reminder once, and
the worker's claim sends each row once, however many jobs name it.

A beat job runs record_due_reminders every minute or so. It asks which
reminder is due *today* for each person whose hour has passed, not which fell
due "in the last minute": a reminder whose hour passed while beat was down is
recorded on its next run, the same day. When the worker takes the row it checks
that the reminder still holds (why_not_now): the task not completed, not
re-dated since, no later reminder of it recorded, still what its reader
chooses; so one recorded before a downtime of the workers is sent when they
return only if it is still true, and says what is true the day it leaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from notifications.contexts import BEFORE, OVERDUE, TODAY
from notifications.models import Delivery, DigestSchedule, Entry
from tasks.models import Task

COMPLETED = "the task was completed since the reminder was due"
REDATED = "the task was re-dated since the reminder was due"
SUPERSEDED = "a later reminder of this task took its place"
NOT_WANTED = "the recipient no longer wants this reminder"
# Longest "days before" the settings offer.
MAX_DAYS_BEFORE = 14


@dataclass(frozen=True)
class Choice:
    """When one person wants their reminders (DigestSchedule's fields)."""

    days_before: int | None = 1
    on_due_day: bool = True
    overdue: bool = True
    at: time = time(9, 0)

    def which(self, due: date, day: date) -> str | None:
        """The reminder of a task due on `due`, on `day`, if any."""
        if due < day:
            return OVERDUE if self.overdue else None
        if due == day:
            return TODAY if self.on_due_day else None
        before = self.days_before
        return BEFORE if before and (due - day).days == before else None


DEFAULT = Choice()


def choices_of(people: Iterable[int]) -> dict[int, Choice]:
    """The choices of these people who have a schedule row, in one query."""
    rows = DigestSchedule.objects.filter(user_id__in=list(people))
    return {
        row.user_id: Choice(
            row.remind_days_before,
            row.remind_on_due_day,
            row.remind_overdue,
            row.remind_at,
        )
        for row in rows
    }


def reminder_key(task_id: int, person_id: int, which: str, day: date) -> str:
    return f"reminder:{task_id}:{person_id}:{which}:{day.isoformat()}"


def open_assignments(now: datetime) -> list[dict[str, Any]]:
    """Every active assignee of every open task due soon enough to remind of
    (any zone's today, plus the longest "days before"), or overdue."""
    latest = now.date() + timedelta(days=MAX_DAYS_BEFORE + 1)
    rows = Task.assigned_to.through.objects.filter(
        task__due_date__lte=latest, task__status__in=Task.OPEN, user__is_active=True
    )
    fields = rows.values(
        "task_id",
        "user_id",
        "task__due_date",
        "task__title",
        "task__project_id",
        "task__project__name",
        "user__time_zone",
    )
    return [dict(row) for row in fields]


def due_entries(now: datetime) -> list[Entry]:
    """The reminders due today, in each person's time zone, once their hour
    has passed: whether or not they were recorded already."""
    rows = open_assignments(now)
    chosen = choices_of({row["user_id"] for row in rows})
    entries = []
    for row in rows:
        choice = chosen.get(row["user_id"], DEFAULT)
        local = now.astimezone(zone_named(row["user__time_zone"]))
        if local.time() < choice.at:
            continue
        which = choice.which(row["task__due_date"], local.date())
        if which is not None:
            entries.append(entry(row, which, local.date()))
    return entries


@cache
def zone_named(name: str) -> ZoneInfo:
    """A person's time zone from its name (User.zone, without the user)."""
    return ZoneInfo(name or settings.TIME_ZONE)


def entry(row: dict[str, Any], which: str, day: date) -> Entry:
    """One reminder to record: its key, and what its email says."""
    task_id, person_id = row["task_id"], row["user_id"]
    return Entry(
        recipient_id=person_id,
        event_key=reminder_key(task_id, person_id, which, day),
        context={
            "task_id": task_id,
            "title": row["task__title"],
            "project_id": row["task__project_id"],
            "project": row["task__project__name"],
            "due_date": row["task__due_date"].isoformat(),
            "reminder": which,
            "day": day.isoformat(),
        },
        reason=Delivery.Reason.ASSIGNED,
        kind=Delivery.Kind.DUE_REMINDER,
    )


def record_due_reminders(now: datetime) -> list[int]:
    """Record the reminders due at `now` that are not recorded yet (once each,
    however many runs at once); return the ids of the queued ones, to publish."""
    return Delivery.objects.record_scheduled(due_entries(now), now)


def latest_days(rows: Iterable[Delivery]) -> dict[tuple[int, int], str]:
    """(person, task) -> the latest day any reminder was recorded for, of the
    reminders among these rows: read off the event keys, one query."""
    pairs = {(row.recipient_id, row.context.get("task_id")) for row in rows}
    about = Q()
    for person, task_id in pairs:
        about |= Q(event_key__startswith=f"reminder:{task_id}:{person}:")
    if not about:
        return {}
    # By recipient first: their index, rather than a scan for the key prefixes.
    theirs = Delivery.objects.filter(
        recipient_id__in={person for person, _ in pairs},
        kind=Delivery.Kind.DUE_REMINDER,
    )
    latest: dict[tuple[int, int], str] = {}
    for key in theirs.filter(about).values_list("event_key", flat=True):
        _, task_part, person_part, _, day = key.split(":")
        pair = (int(person_part), int(task_part))
        latest[pair] = max(latest.get(pair, day), day)
    return latest


def why_not_now(
    delivery: Delivery, task: Task, choice: Choice, latest_day: str
) -> str | None:
    """Why a recorded reminder no longer holds, or None when it does: the
    task completed or re-dated since, a later reminder of it recorded (the
    workers were down past this one's day), or its reader's choice (`choice`,
    as it is now) no longer calls for it. One sent after its day (held by
    quiet hours) says what is true the day it leaves (contexts.due_reminder)."""
    snapshot = delivery.context
    if task.status == Task.Status.COMPLETED:
        return COMPLETED
    due = task.due_date
    if due is None or due.isoformat() != snapshot.get("due_date"):
        return REDATED
    day = str(snapshot.get("day"))
    if latest_day > day:
        return SUPERSEDED
    if choice.which(due, date.fromisoformat(day)) != snapshot.get("reminder"):
        return NOT_WANTED
    return None
