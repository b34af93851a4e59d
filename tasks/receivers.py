"""Domain receivers: keep completed_at in step, remove a deleted task's detail,
and keep each task's history (tasks/activity.py). Each is named after the signal
it answers; TasksConfig.ready() imports this module, which connects them."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone

from tasks import activity
from tasks.models import Activity, Task, TaskDetail
from users.actor import current_actor
from users.models import User

# What a task was before a save, for the history: set by remember_previous.
PREVIOUS = "_tasks_previous_values"


@receiver(pre_save, sender=Task, dispatch_uid="tasks.on_task_pre_save")
def on_task_pre_save(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    sync_completed_at(instance)
    remember_previous(instance)


def sync_completed_at(task: Task) -> None:
    if task.status == Task.Status.COMPLETED:
        task.completed_at = task.completed_at or timezone.now()
    else:
        task.completed_at = None


def remember_previous(task: Task) -> None:
    """The creator of a new task; the status and due date an update replaces."""
    if task._state.adding:
        task.created_by = task.created_by or current_actor()
        return
    before = Task.objects.filter(pk=task.pk).values("status", "due_date")
    setattr(task, PREVIOUS, before.first())


@receiver(post_delete, sender=Task, dispatch_uid="tasks.on_task_post_delete")
def on_task_post_delete(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    """A task's detail goes with it (TaskDetail's key is on_delete=DO_NOTHING)."""
    TaskDetail.objects.filter(task_id=instance.pk).delete()


@receiver(post_save, sender=Task, dispatch_uid="tasks.on_task_post_save")
def on_task_post_save(
    sender: type[Task], instance: Task, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """The task's history: its creation, or what the save changed."""
    if raw:
        return
    if created:
        activity.record(instance, Activity.Verb.CREATED)
        return
    before = getattr(instance, PREVIOUS, None)
    if before is not None:
        activity.record_changes(instance, before)


@receiver(
    m2m_changed,
    sender=Task.assigned_to.through,
    dispatch_uid="tasks.on_assignees_m2m_changed",
)
def on_assignees_m2m_changed(
    sender: type,
    instance: Task | User,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """Assigned and unassigned people, from either side of the relation.

    clear() names nobody in post_clear: its people are read in pre_clear.
    """
    if action == "pre_clear":
        pk_set = set(linked_ids(instance))
    elif action not in ("post_add", "post_remove"):
        return
    if not pk_set:
        return
    verb = Activity.Verb.ASSIGNED if action == "post_add" else Activity.Verb.UNASSIGNED
    if isinstance(instance, User):  # user.tasks.add(*tasks)
        pairs = [(task_id, instance.pk) for task_id in sorted(pk_set)]
    else:
        pairs = [(instance.pk, user_id) for user_id in sorted(pk_set)]
    activity.record_people(verb, pairs)


def linked_ids(instance: Task | User) -> list[int]:
    """The other side's ids: a user's tasks, or a task's assignees."""
    related = instance.tasks if isinstance(instance, User) else instance.assigned_to
    return list(related.values_list("pk", flat=True))
