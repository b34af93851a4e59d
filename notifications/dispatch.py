"""Announcing deliveries that are due, for the worker app to publish.

notifications/ knows nothing of Celery: it sends `deliveries_due` (signals.py)
once the transaction that recorded the rows commits, and worker/ (which imports
notifications, never the other way round) publishes the jobs. A rolled-back
transaction announces nothing.

During a request the announcement waits for the request's end
(request_finished: the response has gone to the client), and everything the
request committed goes as one announcement per lane: the person at the screen
never waits for the broker. Changes to a task are announced for when their
coalescing window ends (as their recording knew it, or
timing.seconds_until_due), not for a worker to claim them now only to hand
them back. A process that dies in between leaves the rows queued, and the
sweep publishes them (SPEC section 4, step 5).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeAlias

from django.db import transaction
from django.utils import timezone

from notifications.kinds import ACCOUNT_KINDS
from notifications.models import Delivery
from notifications.signals import deliveries_due
from notifications.timing import countdown_to, seconds_until_due


def dispatch_on_commit(
    delivery_ids: Sequence[int], *, urgent: bool, first_due: datetime | None = None
) -> None:
    """Announce the ids once the caller's transaction commits; never on rollback.
    `first_due`: when the first of them may go, where their recording knew it
    (otherwise the announcement asks the database)."""
    ids = list(delivery_ids)

    def announce_recorded_deliveries() -> None:
        announce(ids, urgent=urgent, first_due=first_due)

    if ids:
        # robust: a failure here is logged, never raised into the committed request.
        transaction.on_commit(announce_recorded_deliveries, robust=True)


def dispatch_any_on_commit(delivery_ids: Iterable[int]) -> None:
    """The same for ids of any kind (a re-send): each goes in its own lane."""
    urgent, bulk = split_by_lane(delivery_ids)
    dispatch_on_commit(urgent, urgent=True)
    dispatch_on_commit(bulk, urgent=False)


logger = logging.getLogger(__name__)
# What a request's commits announced, by lane (urgent or not), until it ends:
# the ids, and when the first of them may go if their recording knew it.
# None outside a request.
Announced: TypeAlias = tuple[list[int], datetime | None]
held: ContextVar[dict[bool, list[Announced]] | None] = ContextVar("held", default=None)


def announce(
    delivery_ids: Sequence[int], *, urgent: bool, first_due: datetime | None = None
) -> None:
    waiting = held.get()
    if waiting is not None:
        waiting.setdefault(urgent, []).append((list(delivery_ids), first_due))
        return
    arguments = announcement(delivery_ids, urgent=urgent, first_due=first_due)
    deliveries_due.send(sender=None, **arguments)


def hold_announcements() -> None:
    """A request begins: what its commits announce waits for its end."""
    held.set({})


def release_announcements() -> None:
    """A request ended: announce what it held, one announcement per lane."""
    waiting = held.get()
    held.set(None)
    for urgent, parts in sorted((waiting or {}).items(), reverse=True):
        ids = [pk for part, _ in parts for pk in part]
        known = [due for _, due in parts if due is not None]
        first_due = min(known) if len(known) == len(parts) else None
        arguments = announcement(ids, urgent=urgent, first_due=first_due)
        answers = deliveries_due.send_robust(None, **arguments)
        for _receiver, answer in answers:
            if isinstance(answer, Exception):  # the rows stay for the sweep
                logger.error("Announcing deliveries failed: %r", answer)


def announcement(
    delivery_ids: Sequence[int], *, urgent: bool, first_due: datetime | None = None
) -> dict[str, Any]:
    """deliveries_due's arguments: the ids, their lane, and in how many
    seconds the first of them may go. Changes to a task wait for a coalescing
    window: their job is published for its end, so no worker claims them
    only to hand them back (account emails never wait). The time comes from
    their recording where it knew it, otherwise from one query."""
    now = timezone.now()
    if urgent:
        countdown = 0.0
    elif first_due is not None:
        countdown = countdown_to(first_due, now)
    else:
        countdown = seconds_until_due(delivery_ids, now)
    return {"delivery_ids": delivery_ids, "urgent": urgent, "countdown": countdown}


def split_by_lane(delivery_ids: Iterable[int]) -> tuple[list[int], list[int]]:
    """(account email ids, notification ids), in one query."""
    kinds = Delivery.objects.filter(pk__in=list(delivery_ids)).order_by("pk")
    urgent: list[int] = []
    bulk: list[int] = []
    for pk, kind in kinds.values_list("pk", "kind"):
        (urgent if kind in ACCOUNT_KINDS else bulk).append(pk)
    return urgent, bulk
