"""Celery jobs, and the one place that publishes them.

Arguments are ids only (no addresses, tokens or bodies), and return values are
counts: both land in the broker, the results table and Flower. Each job is a thin
shell around plain functions of notifications/, which tests call without a broker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import redis
from celery import Task
from celery.signals import worker_process_init, worker_process_shutdown
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.utils import timezone
from django_celery_results.models import TaskResult
from kombu.exceptions import OperationalError

from notifications.digests import record_due_digests
from notifications.dispatch import split_by_lane
from notifications.models import Delivery, SendingPause
from notifications.relays import close_process_relays
from notifications.reminders import record_due_reminders
from notifications.sending import send_batch
from notifications.sweep import postpone_published, sweep
from notifications.timing import due_or_early
from users import accounts
from worker import queues, releases
from worker.celery_app import app

logger = logging.getLogger(__name__)

# A short policy: a request waits at most about a second on a dead broker.
PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
# kombu wraps connection failures in OperationalError; the rest can leak through.
BROKER_ERRORS = (OperationalError, redis.RedisError, ConnectionError, TimeoutError)


@app.task(bind=True, name="notifications.deliver_emails", max_retries=None)
def deliver_emails(self: Task[Any, Any], delivery_ids: list[int]) -> dict[str, int]:
    """Send the queued deliveries among these ids over one SMTP connection.

    The deliveries that failed transiently, must wait for the pace or were not
    reached in time are retried as a new run with just their ids (in the same
    queue); the delivery rows count the attempts, not Celery. Those waiting for
    their time (a coalescing window, quiet hours: notifications/timing.py) are
    released then (releases.py).
    """
    job_id, fill_to = self.request.id or "", settings.NOTIFICATIONS_BATCH_SIZE
    report = send_batch(delivery_ids, job_id, fill_to)
    logger.info("deliver_emails %s", report.summary())
    for countdown, ids in report.later.items():  # their time is still to come
        publish_deliveries(ids, countdown=countdown)
    if report.retry_ids:
        raise self.retry(args=(report.retry_ids,), countdown=report.countdown)
    return report.summary()


# A hop on the way to the jobs people look for (deliver_emails, with results
# and Flower events): a burst has several a second, so it sends neither.
@app.task(name="notifications.release_moment", ignore_result=True, send_events=False)
def release_moment(queue: str, moment: int) -> int:
    """Publish, now that their time has come, rows that waited for it (a
    coalescing window, quiet hours), gathered for this moment (releases.py).

    A worker holds a job due later until its time, then runs it at once,
    ahead of every job still in the broker: the window of a burst ending
    would put its thousands of emails before the next activation email. This
    small job is held instead, and the emails join their lane when due,
    behind the account emails (worker/queues.py).
    """
    return release(releases.take(queue, moment), urgent=queue == queues.URGENT)


# Release jobs published before releases were gathered (b7faab2) carry their
# ids; they may still wait in a broker during a deploy. Remove after a release.
@app.task(
    name="notifications.release_deliveries", ignore_result=True, send_events=False
)
def release_deliveries(delivery_ids: list[int]) -> int:
    return release(delivery_ids, urgent=False)


def release(delivery_ids: Sequence[int], *, urgent: bool) -> int:
    """Publish the rows among these still queued and due now. Rows another
    run took meanwhile (a companion claim) need no job of their own; rows
    whose time is a moment away (the clocks of two machines) get another
    release then."""
    queued = Delivery.objects.still_queued(delivery_ids)
    due, early = due_or_early(queued, timezone.now())
    for countdown, ids in early.items():
        publish_deliveries(ids, urgent=urgent, countdown=countdown)
    return len(publish_deliveries(due, urgent=urgent))


# Every 30 s: no stored result and no Flower events, which would crowd out the
# jobs people look for. What it did is logged.
@app.task(name="notifications.sweep_outbox", ignore_result=True, send_events=False)
def sweep_outbox() -> dict[str, int]:
    """Publish again what is queued past its due time or stuck in sending."""
    now = timezone.now()
    found = sweep(now)
    published: list[int] = []
    if not SendingPause.objects.is_paused():  # resuming publishes what waited
        urgent, bulk = split_by_lane(found.due_ids)
        published = publish_deliveries(urgent, urgent=True)
        published += publish_deliveries(bulk)
    postpone_published(published, now)
    summary = {
        "redispatched": len(published),
        "reclaimed": found.reclaimed,
        "dead": found.dead,
    }
    if any(summary.values()):
        logger.info("sweep_outbox %s", summary)
    return summary


@app.task(name="notifications.send_digests", ignore_result=True, send_events=False)
def send_digests() -> int:
    """Record the daily digests that are due and publish them (Celery beat)."""
    ids = record_due_digests(timezone.now())
    if ids:
        logger.info("send_digests: %d digest(s)", len(ids))
    return len(publish_deliveries(ids))


@app.task(name="notifications.send_reminders", ignore_result=True, send_events=False)
def send_reminders() -> int:
    """Record the due-date reminders that are due and publish them (Celery
    beat). Safe to run twice at once: each reminder has one row, sent once."""
    ids = record_due_reminders(timezone.now())
    if ids:
        logger.info("send_reminders: %d reminder(s)", len(ids))
    return len(publish_deliveries(ids))


@app.task(name="notifications.purge_outbox")
def purge_outbox() -> dict[str, int]:
    """Nightly retention: old finished deliveries and expired job results go."""
    now = timezone.now()
    retention = timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS)
    deliveries = Delivery.objects.purge_finished(now - retention)
    results = purge_job_results(now - settings.CELERY_RESULT_EXPIRES)
    logger.info("purge_outbox: %d deliveries, %d job results", deliveries, results)
    return {"deliveries": deliveries, "job_results": results}


@app.task(name="users.delete_unactivated_accounts")
def delete_unactivated_accounts() -> int:
    """Nightly: accounts never activated UNACTIVATED_ACCOUNT_DAYS after sign-up
    go, so the real owner of an address someone else used can sign up."""
    joined_before = timezone.now() - timedelta(days=settings.UNACTIVATED_ACCOUNT_DAYS)
    deleted = accounts.delete_unactivated_accounts(joined_before)
    logger.info("delete_unactivated_accounts: %d account(s)", deleted)
    return deleted


def purge_job_results(before: datetime, batch: int = 1000) -> int:
    expired = TaskResult.objects.filter(date_done__lt=before)
    deleted = 0
    while ids := list(expired.values_list("pk", flat=True)[:batch]):
        deleted += TaskResult.objects.filter(pk__in=ids).delete()[0]
    return deleted


def publish_deliveries(
    delivery_ids: Sequence[int],
    *,
    urgent: bool = False,
    countdown: float = 0,
) -> list[int]:
    """Publish one deliver_emails job per chunk of ids, or, when they are due
    in `countdown` seconds, gather them for their release then; return the
    ids published or gathered.

    Never raises: with Redis down the deliveries stay queued and the sweep
    publishes them later, so a request neither fails nor hangs on it.
    """
    published: list[int] = []
    size = settings.NOTIFICATIONS_BATCH_SIZE
    queue = queues.URGENT if urgent else queues.BULK
    for start in range(0, len(delivery_ids), size):
        chunk = list(delivery_ids[start : start + size])
        if publish(chunk, queue, countdown):
            published += chunk
    return published


def publish(chunk: list[int], queue: str, countdown: float = 0) -> bool:
    """A deliver_emails job now, or the ids gathered for when they are due
    (a release_moment job publishes them then)."""
    try:
        if countdown <= 0:
            publish_job(deliver_emails, (chunk,), queue)
        elif moment := releases.gather(chunk, queue, countdown):
            due_in = releases.seconds_until(moment)
            publish_job(release_moment, (queue, moment), queue, due_in)
    except BROKER_ERRORS as error:
        logger.warning(
            "Broker unreachable; %s stay queued for the sweep: %s",
            deliveries_count(len(chunk)),
            error,
        )
        return False
    return True


def publish_job(
    job: Task[Any, Any], args: tuple[Any, ...], queue: str, countdown: float = 0
) -> None:
    job.apply_async(
        args=args,
        queue=queue,
        countdown=countdown,
        retry=True,
        retry_policy=PUBLISH_RETRY_POLICY,
    )


@worker_process_init.connect
def tune_worker_process(**kwargs: object) -> None:
    """Each pool process writes its outcomes without waiting for the disk."""
    connection_created.connect(
        commit_without_flush, dispatch_uid="worker.commit_without_flush"
    )


def commit_without_flush(
    sender: object, connection: BaseDatabaseWrapper, **kwargs: object
) -> None:
    """PostgreSQL's synchronous_commit off, for this worker's connections only.

    A claim or an outcome is one short transaction per email; waiting for its
    flush to disk cost more than the email. What this risks: after a crash of
    the database server itself (not of a worker), the last fraction of a second
    of claims and outcomes may be lost, and those emails sent again, with the
    same Message-ID. The web process keeps synchronous commits: what a request
    records is never lost.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO OFF")


@worker_process_shutdown.connect
def close_relay_connections(**kwargs: object) -> None:
    close_process_relays()


def publish_due_deliveries(
    sender: object,
    delivery_ids: Sequence[int],
    urgent: bool,
    countdown: float = 0,
    **kwargs: object,
) -> None:
    """Receiver of notifications' deliveries_due: connected in worker/apps.py.
    Rows due later are gathered for their release then (publish)."""
    publish_deliveries(delivery_ids, urgent=urgent, countdown=countdown)


def deliveries_count(count: int) -> str:
    return f"{count} delivery" if count == 1 else f"{count} deliveries"
