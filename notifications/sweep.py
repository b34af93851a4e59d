"""The periodic sweep: nothing recorded is ever left behind.

Deliveries stay queued when the broker was down at commit time, and stay in
"sending" when a worker died mid-batch. The sweep publishes both again. Rows
waiting for a retry countdown are not due yet and are left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from notifications.dispatch import dispatch
from notifications.models import Delivery

Status = Delivery.Status


@dataclass
class SweepReport:
    redispatched: int = 0
    reclaimed: int = 0
    dead: int = 0

    def summary(self) -> dict[str, int]:
        return {"redispatched": self.redispatched, "reclaimed": self.reclaimed,
                "dead": self.dead}  # fmt: skip


def sweep() -> SweepReport:
    now = timezone.now()
    report = SweepReport(dead=fail_worn_out(now))
    requeued = requeue_stuck(now)
    report.reclaimed = len(requeued)
    report.redispatched = redispatch(requeued + overdue_ids(now), now)
    return report


def stuck(now: datetime) -> QuerySet[Delivery]:
    """Claimed longer ago than the lease, which outlasts the hard time limit."""
    lease = timedelta(seconds=settings.NOTIFICATIONS_LEASE)
    return Delivery.objects.filter(status=Status.SENDING, claimed_at__lt=now - lease)


def fail_worn_out(now: datetime) -> int:
    """A delivery whose every attempt killed its worker must not loop forever."""
    worn_out = stuck(now).filter(attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS)
    reason = "Gave up: the worker stopped mid-send on every attempt"
    return worn_out.update(status=Status.FAILED, last_error=reason, updated_at=now)


def requeue_stuck(now: datetime) -> list[int]:
    """Back to queued; the conditional update leaves alone a row a late worker
    finished in the meantime."""
    ids = list(stuck(now).values_list("pk", flat=True))
    stuck(now).filter(pk__in=ids).update(
        status=Status.QUEUED, claim_token="", next_attempt_at=now, updated_at=now,
        last_error="Requeued by the sweep: the worker stopped mid-send",
    )  # fmt: skip
    return ids


def overdue_ids(now: datetime) -> list[int]:
    """Queued a grace past their due time: the commit-time publish never arrived."""
    grace = timedelta(seconds=settings.NOTIFICATIONS_SWEEP_GRACE)
    overdue = Delivery.objects.filter(
        status=Status.QUEUED, next_attempt_at__lte=now - grace
    )
    limit = settings.NOTIFICATIONS_BATCH_SIZE * 20  # the next sweep takes the rest
    return list(
        overdue.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]
    )


def redispatch(ids: list[int], now: datetime) -> int:
    """Publish, then push the due time of what was published past a lease.

    That keeps a long broker queue from collecting one duplicate job per sweep
    (harmless, as claiming is conditional, but wasteful).
    """
    published = dispatch(ids)
    later = now + timedelta(seconds=settings.NOTIFICATIONS_LEASE)
    Delivery.objects.filter(pk__in=published, status=Status.QUEUED).update(
        next_attempt_at=later
    )
    return len(published)
