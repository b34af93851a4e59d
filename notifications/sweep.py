"""The periodic sweep: nothing recorded is ever left behind.

Deliveries stay queued when the broker was down at commit time, and stay in
"sending" when a worker died mid-batch. The sweep moves the stuck ones back to
queued and hands both to the caller (the sweep_outbox job) to publish again.
Rows waiting for a retry countdown are not due yet and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from notifications.models import Delivery


@dataclass
class Sweep:
    """What one sweep found: ids to publish again, and counts for the results."""

    due_ids: list[int] = field(default_factory=list)
    reclaimed: int = 0
    dead: int = 0


def sweep(now: datetime) -> Sweep:
    dead = Delivery.objects.give_up_stuck(now)
    requeued = Delivery.objects.requeue_stuck(now)
    return Sweep(
        due_ids=requeued + overdue_ids(now), reclaimed=len(requeued), dead=dead
    )


def overdue_ids(now: datetime) -> list[int]:
    """Queued a grace past their due time: the commit-time publish never arrived."""
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    overdue = Delivery.objects.overdue(now, grace).order_by("next_attempt_at")
    limit = settings.NOTIFICATIONS_BATCH_SIZE * 20  # the next sweep takes the rest
    return list(overdue.values_list("pk", flat=True)[:limit])


def postpone_published(published: list[int], now: datetime) -> None:
    """Push the due time of what was published past a lease.

    That keeps a long broker queue from collecting one duplicate job per sweep
    (harmless, as claiming is conditional, but wasteful).
    """
    later = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE)
    Delivery.objects.postpone(published, until=later)
