"""Receivers: guard, record deliveries in the caller's transaction, dispatch on commit.

Every email trigger enters here: model signals of tasks and users, and the users
app's own signals (activation resend, password reset, email change). None of them
renders, sends or makes a token: the worker does all of that. What an ESP's
tracking webhook reports about a sent email enters here too (django-anymail's
tracking signal).
"""

from __future__ import annotations

from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save, pre_delete

from notifications import recording
from notifications.tracking import record_event
from tasks.models import Activity, Project, Task
from tasks.signals import activity_recorded
from users.models import User
from users.signals import (
    activation_requested,
    email_change_requested,
    password_reset_requested,
)


def on_assignees_m2m_changed(
    sender: type,
    instance: Task | User,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """Tell only the newly added users, whichever side the assignment was made from.

    Django puts only the ids that were not assigned yet in post_add's pk_set.
    """
    if action != "post_add" or not pk_set:
        return
    if reverse:  # user.tasks.add(*tasks): the instance is the user
        added = {"user_id": instance.pk, "task_id__in": pk_set}
    else:  # task.assigned_to.add(*users)
        added = {"task_id": instance.pk, "user_id__in": pk_set}
    recording.record_task_assigned(Task.assigned_to.through.objects.filter(**added))


def on_task_pre_delete(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    """Snapshot the task for its assignees now: after deletion the rows are gone.

    pre_delete also fires per instance for QuerySet.delete() and for cascades.
    """
    user_ids = list(instance.assigned_to.values_list("pk", flat=True))
    if user_ids:
        recording.record_task_deleted(instance, project_name(instance), user_ids)


def on_activity_recorded(
    sender: type[Activity], activities: list[Activity], **kwargs: Any
) -> None:
    """Unassigned, re-dated, completed, commented: tasks' history says who to tell."""
    for activity in activities:
        recording.record_activity(activity)


def project_name(task: Task) -> str:
    if Task.project.is_cached(task):
        return task.project.name
    names = Project.objects.filter(pk=task.project_id).values_list("name", flat=True)
    return names.first() or ""


def on_user_post_save(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """New inactive accounts only: superusers and accounts made active get nothing."""
    if created and not raw and not instance.is_active:
        recording.record_activation_email(instance)


def on_activation_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    """The resend form asked (once per account per resend window: recording.py)."""
    recording.record_activation_email(user)


def on_password_reset_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    recording.record_password_reset_email(user)


def on_email_change_requested(sender: type[User], user: User, **kwargs: Any) -> None:
    """The new address confirms the change; the current one is told of it."""
    recording.record_email_change_emails(user)


def on_tracking(
    sender: type, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    """An ESP's tracking webhook: delivered, bounced, complained."""
    record_event(event, esp_name)


def connect_receivers() -> None:
    """Connect every receiver with an explicit sender and dispatch_uid."""
    m2m_changed.connect(
        on_assignees_m2m_changed,
        sender=Task.assigned_to.through,
        dispatch_uid="notifications.on_assignees_m2m_changed",
    )
    pre_delete.connect(
        on_task_pre_delete,
        sender=Task,
        dispatch_uid="notifications.on_task_pre_delete",
    )
    activity_recorded.connect(
        on_activity_recorded,
        sender=Activity,
        dispatch_uid="notifications.on_activity_recorded",
    )
    user_model = get_user_model()
    post_save.connect(
        on_user_post_save,
        sender=user_model,
        dispatch_uid="notifications.on_user_post_save",
    )
    activation_requested.connect(
        on_activation_requested,
        sender=user_model,
        dispatch_uid="notifications.on_activation_requested",
    )
    password_reset_requested.connect(
        on_password_reset_requested,
        sender=user_model,
        dispatch_uid="notifications.on_password_reset_requested",
    )
    email_change_requested.connect(
        on_email_change_requested,
        sender=user_model,
        dispatch_uid="notifications.on_email_change_requested",
    )
    # Every ESP's tracking view sends it: no one sender to name.
    tracking.connect(on_tracking, dispatch_uid="notifications.on_tracking")
