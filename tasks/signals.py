"""Domain receivers: keep completed_at in step, remove a deleted task's detail."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, pre_save
from django.dispatch import receiver
from django.utils import timezone

from tasks.models import Task, TaskDetail


@receiver(pre_save, sender=Task, dispatch_uid="tasks.sync_completed_at")
def sync_completed_at(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    if instance.status == Task.Status.COMPLETED:
        instance.completed_at = instance.completed_at or timezone.now()
    else:
        instance.completed_at = None


@receiver(post_delete, sender=Task, dispatch_uid="tasks.delete_task_detail")
def delete_task_detail(sender: type[Task], instance: Task, **kwargs: Any) -> None:
    TaskDetail.objects.filter(task_id=instance.pk).delete()
