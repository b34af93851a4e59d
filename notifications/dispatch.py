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
from django.db.models import Case, CharField, Value, When
from kombu.exceptions import OperationalError

from notifications.models import Delivery
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
    """Publish one deliver_emails job per chunk of ids; return the ids published."""
    job_ids: dict[str, list[int]] = {}
    for chunk in chunked(delivery_ids, settings.NOTIFICATIONS_BATCH_SIZE):
        job_id = publish(chunk, countdown)
        if job_id:
            job_ids[job_id] = chunk
    record_job_ids(job_ids)
    return [pk for chunk in job_ids.values() for pk in chunk]


def publish(chunk: list[int], countdown: float | None = None) -> str | None:
    try:
        result = app.send_task(
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
        return None
    return result.id


def record_job_ids(job_ids: dict[str, list[int]]) -> None:
    """One UPDATE for every chunk, so 100 recipients cost what one does."""
    if not job_ids:
        return
    whens = [When(pk__in=chunk, then=Value(job)) for job, chunk in job_ids.items()]
    every_id = [pk for chunk in job_ids.values() for pk in chunk]
    Delivery.objects.filter(pk__in=every_id).update(
        job_id=Case(*whens, output_field=CharField())
    )


def chunked(items: Iterable[int], size: int) -> Iterator[list[int]]:
    chunk: list[int] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
