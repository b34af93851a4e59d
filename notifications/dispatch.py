"""Announcing deliveries that are due, for the worker app to publish.

notifications/ knows nothing of Celery: it sends `deliveries_due` (signals.py)
once the transaction that recorded the rows commits, and worker/ (which imports
notifications, never the other way round) publishes the jobs. A rolled-back
transaction announces nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db import transaction

from notifications.kinds import ACCOUNT_KINDS
from notifications.models import Delivery
from notifications.signals import deliveries_due


def dispatch_on_commit(delivery_ids: Sequence[int], *, urgent: bool) -> None:
    """Announce the ids once the caller's transaction commits; never on rollback."""
    ids = list(delivery_ids)

    def announce_recorded_deliveries() -> None:
        announce(ids, urgent=urgent)

    if ids:
        # robust: a failure here is logged, never raised into the committed request.
        transaction.on_commit(announce_recorded_deliveries, robust=True)


def dispatch_any_on_commit(delivery_ids: Iterable[int]) -> None:
    """The same for ids of any kind (a re-send): each goes in its own lane."""
    urgent, bulk = split_by_lane(delivery_ids)
    dispatch_on_commit(urgent, urgent=True)
    dispatch_on_commit(bulk, urgent=False)


def announce(delivery_ids: Sequence[int], *, urgent: bool) -> None:
    deliveries_due.send(sender=None, delivery_ids=delivery_ids, urgent=urgent)


def split_by_lane(delivery_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(account email ids, notification ids), in one query."""
    kinds = Delivery.objects.filter(pk__in=list(delivery_ids)).order_by("pk")
    urgent: list[int] = []
    bulk: list[int] = []
    for pk, kind in kinds.values_list("pk", "kind"):
        (urgent if kind in ACCOUNT_KINDS else bulk).append(pk)
    return urgent, bulk
