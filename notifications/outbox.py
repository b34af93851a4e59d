"""Recording deliveries: the only way anything asks for an email.

Called by the receivers in notifications/signals.py and by the users app's forms
and views. Records rows in the caller's transaction and dispatches on commit; it
renders nothing, sends nothing and makes no token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from notifications.dispatch import dispatch_on_commit
from notifications.models import Delivery
from tasks.models import Task
from users.models import User

Kind = Delivery.Kind


@dataclass(frozen=True)
class Entry:
    """One delivery to record: who, the event's unique key, what the email needs."""

    recipient_id: int
    event_key: str
    context: dict[str, Any] = field(default_factory=dict)


def record(kind: str, entries: Iterable[Entry]) -> list[int]:
    """Record one queued delivery per entry, once per event key; dispatch on commit.

    One query however many entries, and no second one for the ids: an upsert on
    the unique event_key returns the id of every row, whether recorded now or
    before. Its update writes back the same key, so a row recorded before is left
    as it was; dispatching it again is harmless, the worker's claim skips any row
    that is no longer queued.
    """
    now = timezone.now()
    rows = {
        e.event_key: Delivery(kind=kind, recipient_id=e.recipient_id,
                              event_key=e.event_key, context=e.context,
                              next_attempt_at=now)
        for e in entries
    }  # fmt: skip
    if not rows:
        return []
    # Keyed by event: PostgreSQL refuses an upsert touching one row twice.
    Delivery.objects.bulk_create(
        list(rows.values()),
        update_conflicts=True,
        unique_fields=["event_key"],
        update_fields=["event_key"],
    )
    ids = sorted(row.pk for row in rows.values() if row.pk is not None)
    if len(ids) < len(rows):  # a backend that returns no ids, e.g. SQLite < 3.35
        ids = recorded_ids(rows.keys())
    dispatch_on_commit(ids)
    return ids


def recorded_ids(event_keys: Iterable[str]) -> list[int]:
    keys = list(event_keys)
    recorded = Delivery.objects.filter(event_key__in=keys).order_by("pk")
    return list(recorded.values_list("pk", flat=True))


def record_task_assigned(assignments: Iterable[tuple[int, int, int]]) -> list[int]:
    """Record "New Task Assigned" for (through row id, task id, user id) triples.

    The key is the assignment row's id: removing a user and adding them again makes
    a new row, so a new email, while the same row can never be recorded twice.
    """
    return record(
        Kind.TASK_ASSIGNED,
        (Entry(user_id, f"task_assigned:{row_id}", {"task_id": task_id})
         for row_id, task_id, user_id in assignments),
    )  # fmt: skip


def record_task_deleted(
    task: Task, project_name: str, user_ids: list[int]
) -> list[int]:
    """Record "Task deleted" with a snapshot: the task is gone when the worker runs."""
    snapshot = task_snapshot(task, project_name)
    return record(
        Kind.TASK_DELETED,
        (Entry(uid, f"task_deleted:{task.pk}:{uid}", snapshot) for uid in user_ids),
    )


def task_snapshot(task: Task, project_name: str) -> dict[str, Any]:
    return {
        "task_id": task.pk,
        "title": task.title,
        "project": project_name,
        "due_date": task.due_date.isoformat() if task.due_date else "",
    }


def record_activation_email(user: User, *, resend: bool = False) -> bool:
    """Record an activation email for an inactive user.

    Returns False (and records nothing) when the user is already active or an
    activation email was recorded for them within the resend window.
    """
    if user.is_active:
        return False
    return record_account_email(Kind.ACTIVATION, user)


def record_password_reset_email(user: User) -> bool:
    """Record a password-reset email; False when one was recorded very recently."""
    return record_account_email(Kind.PASSWORD_RESET, user)


def record_account_email(kind: str, user: User) -> bool:
    """One email of this kind per user per resend window.

    The check reads the exact window; the time-bucketed unique key makes two
    racing requests record one row between them.
    """
    if recently_recorded(kind, user):
        return False
    window = settings.NOTIFICATIONS_RESEND_WINDOW
    bucket = int(timezone.now().timestamp() // window)
    key = f"{kind}:{user.pk}:{bucket}"
    return bool(record(kind, [Entry(user.pk, key)]))


def recently_recorded(kind: str, user: User) -> bool:
    since = timezone.now() - timedelta(seconds=settings.NOTIFICATIONS_RESEND_WINDOW)
    return Delivery.objects.filter(
        recipient=user, kind=kind, created_at__gte=since
    ).exists()


def resend(delivery_ids: Iterable[int]) -> list[int]:
    """Give failed deliveries a fresh set of attempts; the worker sends them again.

    Same row, same Message-ID: a recipient's mail client can tell it is a re-send.
    """
    failed = Delivery.objects.filter(
        pk__in=list(delivery_ids), status=Delivery.Status.FAILED
    )
    ids = list(failed.values_list("pk", flat=True))
    now = timezone.now()
    failed.filter(pk__in=ids).update(
        status=Delivery.Status.QUEUED, attempts=0, claim_token="",
        next_attempt_at=now, updated_at=now,
    )  # fmt: skip
    dispatch_on_commit(ids)
    return ids
