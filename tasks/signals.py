"""What the tasks app announces. notifications/ listens and tells the people
concerned."""

from __future__ import annotations

from django.dispatch import Signal

# Entries of a task's history were saved (tasks/activity.py): sent with
# sender=Activity and activities=[Activity, ...], in the transaction that saved them.
activity_recorded = Signal()
