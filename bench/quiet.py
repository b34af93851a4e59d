"""The "notifications off" baseline: the product with its email receivers
disconnected, as a WSGI entry point for gunicorn (`bench.quiet:application`).

Bench-only: the product never imports this module and has no such switch.
"""

from __future__ import annotations

from django.db.models import Model
from django.db.models.signals import ModelSignal, m2m_changed, post_save, pre_delete

from project.wsgi import application
from tasks.models import Task
from users.models import User

__all__ = ["application"]

RECEIVERS: list[tuple[ModelSignal, type[Model], str]] = [
    (m2m_changed, Task.assigned_to.through, "notifications.on_assignees_m2m_changed"),
    (pre_delete, Task, "notifications.on_task_pre_delete"),
    (post_save, User, "notifications.on_user_post_save"),
]


def disconnect_notifications() -> None:
    for signal, sender, uid in RECEIVERS:
        if not signal.disconnect(sender=sender, dispatch_uid=uid):
            raise RuntimeError(f"{uid} was not connected: the baseline would be wrong")


disconnect_notifications()
