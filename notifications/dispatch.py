"""Publishing delivery ids to the broker, from the web process and from jobs.

Publishing never raises: when Redis is down the deliveries stay queued and the
beat sweep publishes them later, so a request neither fails nor hangs on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence

import redis
from django.conf import settings
from django.db import transaction
from kombu.exceptions import OperationalError

from worker.celery_app import app

logger = logging.getLogger(__name__)

DELIVER_JOB = "notifications.deliver_emails"
SWEEP_JOB = "notifications.sweep_outbox"

# A short policy: a request waits at most about a second on a dead broker.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# kombu wraps connection failures in OperationalError; the rest can leak through.
BROKER_ERRORS = (OperationalError, redis.RedisError, ConnectionError, TimeoutError)


def dispatch_on_commit(delivery_ids: Sequence[int]) -> None:
    """Publish the ids once the caller's transaction commits; never on rollback."""
    ids = list(delivery_ids)

    def dispatch_recorded_deliveries() -> None:
        dispatch(ids)

    if ids:
        # robust: a failure here is logged, never raised into the committed request.
        transaction.on_commit(dispatch_recorded_deliveries, robust=True)


def dispatch(delivery_ids: Sequence[int], countdown: float | None = None) -> list[int]:
    """Publish one deliver_emails job per chunk of ids; return the ids published.

    Nothing is written back: the worker records its job id when it claims the rows,
    which keeps a second transaction out of the request.
    """
    published: list[int] = []
    for chunk in chunked(delivery_ids, settings.NOTIFICATIONS_BATCH_SIZE):
        if publish(chunk, countdown):
            published += chunk
    return published


def publish(chunk: list[int], countdown: float | None = None) -> bool:
    try:
        app.send_task(
            DELIVER_JOB,
            args=[chunk],
            countdown=countdown,
            retry=True,
            retry_policy=PUBLISH_RETRY_POLICY,
        )
    except BROKER_ERRORS as error:
        logger.warning(
            "Broker unreachable; %d deliveries stay queued for the sweep: %s",
            len(chunk),
            error,
        )
        return False
    return True


def chunked(items: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
