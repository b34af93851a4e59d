"""Celery jobs. Arguments are ids only: no addresses, tokens or bodies.

Each job is a thin shell around notifications.sending / notifications.sweep, whose
plain functions the tests call without a broker. Return values are counts: they
land in the results table and in Flower, so they never carry an address.
"""

from __future__ import annotations

import logging

from celery import Task

from notifications.dispatch import DELIVER_JOB, SWEEP_JOB
from notifications.sending import deliver
from notifications.sweep import sweep
from worker.celery_app import app

logger = logging.getLogger(__name__)


@app.task(bind=True, name=DELIVER_JOB, max_retries=None)
def deliver_emails(self: Task, delivery_ids: list[int]) -> dict[str, int]:
    """Send the queued deliveries among these ids over one SMTP connection.

    Only the deliveries that failed transiently are retried, as a new run with
    just their ids; the delivery rows count the attempts, not Celery. Each row
    claimed notes this job's id (a retry keeps it).
    """
    report = deliver(delivery_ids, job_id=self.request.id or "")
    logger.info("deliver_emails %s", report.summary())
    if report.retry_ids:
        raise self.retry(args=[report.retry_ids], countdown=report.countdown)
    return report.summary()


@app.task(name=SWEEP_JOB)
def sweep_outbox() -> dict[str, int]:
    """Re-dispatch deliveries left queued or stuck in sending (Celery beat)."""
    return sweep().summary()
