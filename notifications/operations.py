"""What Admins and Managers do to the outbox as a whole or to chosen emails:
re-send failed ones, cancel queued ones, pause and resume all sending.

Called by the delivery log (notifications/views.py) and the admin. Every change of
a row's status is a transition of notifications/models.py; this module adds the
dispatch on commit of what is queued again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from notifications.dispatch import dispatch_any_on_commit
from notifications.models import Delivery, SendingPause
from users.models import User


def resend(delivery_ids: Iterable[int]) -> list[int]:
    """Queue failed deliveries again (delivery log, admin); the worker sends them."""
    ids = Delivery.objects.resend(delivery_ids)
    dispatch_any_on_commit(ids)
    return ids


def cancel(delivery_ids: Iterable[int]) -> list[int]:
    """Admins stop queued emails before they go out."""
    return Delivery.objects.cancel(delivery_ids)


def pause_sending(by: User) -> bool:
    """Stop all sending; queued emails wait, however long, for resume_sending."""
    return SendingPause.objects.pause(by)


def resume_sending() -> bool:
    """Sending goes on, starting with every email that waited and is due."""
    resumed = SendingPause.objects.resume()
    if resumed:
        due = Delivery.objects.due(timezone.now()).order_by("next_attempt_at")
        limit = settings.NOTIFICATIONS_BATCH_SIZE * 200  # the sweep takes the rest
        dispatch_any_on_commit(due.values_list("pk", flat=True)[:limit])
    return resumed
