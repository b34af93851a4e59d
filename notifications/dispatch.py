"""Announcing deliveries that are due, for the worker app to publish.

notifications/ knows nothing of Celery: it sends `deliveries_due` once the
transaction that recorded the rows commits, and worker/ (which imports
notifications, never the other way round) publishes the jobs. A rolled-back
transaction announces nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.dispatch import Signal

# Sent with delivery_ids=[...]. The worker app connects the receiver that
# publishes them (worker/apps.py); were none connected, the sweep would.
deliveries_due = Signal()


def dispatch_on_commit(delivery_ids: Sequence[int]) -> None:
    """Announce the ids once the caller's transaction commits; never on rollback."""
    ids = list(delivery_ids)

    def announce_recorded_deliveries() -> None:
        deliveries_due.send(sender=None, delivery_ids=ids)

    if ids:
        # robust: a failure here is logged, never raised into the committed request.
        transaction.on_commit(announce_recorded_deliveries, robust=True)
