"""What the tasks app announces. notifications/ listens and tells the people
concerned."""

from __future__ import annotations

from django.dispatch import Signal

# Entries of a task's history were saved (tasks/activity.py): sent with
# sender=Activity and activities=[Activity, ...], in the transaction that saved them.
activity_recorded = Signal()

# A person opened a task's page (tasks.views.task_detail): sent with sender=Task,
# task=Task and user=User, once the page may be shown to them.
task_viewed = Signal()
