"""Receivers: guard, record deliveries in the caller's transaction, dispatch on commit.

None of them renders, sends or makes a token: the worker does all of that.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_save, pre_delete

from notifications import outbox
from tasks.models import Project, Task
from users.models import User


def record_assignment_emails(
    sender: type, instance: Task | User, action: str, reverse: bool,
    pk_set: set[int] | None, **kwargs: Any,
) -> None:  # fmt: skip
    """Tell only the newly added users, whichever side the assignment was made from.

    Django puts only the ids that were not assigned yet in post_add's pk_set.
    """
    if action != "post_add" or not pk_set:
        return
    rows = Task.assigned_to.through.objects
    if reverse:  # user.tasks.add(*tasks): the instance is the user
        rows = rows.filter(user_id=instance.pk, task_id__in=pk_set)
    else:  # task.assigned_to.add(*users)
        rows = rows.filter(task_id=instance.pk, user_id__in=pk_set)
    outbox.record_task_assigned(rows.values_list("id", "task_id", "user_id"))


def record_deletion_emails(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    """Snapshot the task for its assignees now: after deletion the rows are gone.

    pre_delete also fires per instance for QuerySet.delete() and for cascades.
    """
    user_ids = list(instance.assigned_to.values_list("pk", flat=True))
    if user_ids:
        outbox.record_task_deleted(instance, project_name(instance), user_ids)


def project_name(task: Task) -> str:
    if Task.project.is_cached(task):
        return task.project.name
    names = Project.objects.filter(pk=task.project_id).values_list("name", flat=True)
    return names.first() or ""


def record_activation_email(
    sender: type[User], instance: User, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """New inactive accounts only: superusers and accounts made active get nothing."""
    if created and not raw and not instance.is_active:
        outbox.record_activation_email(instance)


def connect_receivers() -> None:
    """Connect every receiver with an explicit sender and dispatch_uid."""
    m2m_changed.connect(
        record_assignment_emails,
        sender=Task.assigned_to.through,
        dispatch_uid="notifications.record_assignment_emails",
    )
    pre_delete.connect(
        record_deletion_emails,
        sender=Task,
        dispatch_uid="notifications.record_deletion_emails",
    )
    post_save.connect(
        record_activation_email,
        sender=get_user_model(),
        dispatch_uid="notifications.record_activation_email",
    )
