"""The worker's batch run: claim, build, send, record.

Plain functions, so tests reach them without a broker; worker/jobs.py wraps them.
The SMTP conversation and what a failed send means live in notifications/smtp.py;
every change of a delivery's status is a transition in notifications/models.py.

Levels, outermost first: send_batch (one job run) -> send_delivery (one email)
-> SMTPClient.send (one SMTP transaction).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from notifications.emails import Skip, Undeliverable, build_message, tasks_for
from notifications.models import Delivery
from notifications.smtp import Failure, SMTPClient, Verdict, classify
from tasks.models import Task

logger = logging.getLogger(__name__)


@dataclass
class Report:
    """What a job run did; small and address-free, it ends up in the results."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_ids: list[int] = field(default_factory=list)
    countdown: float = 0.0  # when the retry job should run: the longest wait

    def retry(self, delivery: Delivery, delay: float) -> None:
        self.retry_ids.append(delivery.pk)
        self.countdown = max(self.countdown, delay)

    def summary(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped,
                "retrying": len(self.retry_ids)}  # fmt: skip


def send_batch(delivery_ids: Sequence[int], job_id: str = "") -> Report:
    """Claim the queued deliveries among these ids, then send each over one
    connection and record its outcome as soon as it is known."""
    deliveries = Delivery.objects.claim(delivery_ids, job_id)
    tasks = tasks_for(deliveries)  # one query for the batch, not one per email
    report = Report()
    deadline = time.monotonic() + send_budget()
    client = SMTPClient()
    try:
        for delivery in deliveries:
            if time.monotonic() > deadline:
                delivery.release_untried()
                report.retry(delivery, 0)
            else:
                send_delivery(delivery, client, tasks, report)
    finally:
        client.close()
    return report


def send_budget() -> float:
    """Seconds a run may spend sending before it hands the rest to a new run.

    Stopping short of the soft time limit keeps a slow server from killing the
    job mid-batch and leaving rows in "sending" until the lease runs out.
    """
    return float(settings.CELERY_TASK_SOFT_TIME_LIMIT - 3 * settings.EMAIL_TIMEOUT)


def send_delivery(
    delivery: Delivery, client: SMTPClient, tasks: Mapping[int, Task], report: Report
) -> None:
    """Build one email and send it; its outcome is written right away, so a killed
    worker can duplicate at most the message in flight."""
    message = build(delivery, tasks, report)
    if message is None:
        return
    try:
        reply = client.send(message)
    except (OSError, ValueError, UnicodeError) as error:  # ValueError: bad address
        settle_failure(delivery, Failure.from_error(error), report)
    else:
        delivery.mark_sent(reply, message.extra_headers["Message-ID"])
        report.sent += 1


def build(
    delivery: Delivery, tasks: Mapping[int, Task], report: Report
) -> EmailMultiAlternatives | None:
    """The message, or None when the delivery was settled without one."""
    try:
        return build_message(delivery, tasks)
    except Skip as reason:
        delivery.skip(str(reason))
        report.skipped += 1
    except Undeliverable as reason:
        delivery.mark_failed(str(reason))
        report.failed += 1
    except Exception as error:  # a template or data bug: the rest still go out
        logger.exception("Could not build delivery %s", delivery.pk)
        why = Failure.from_error(error).reason
        delivery.mark_failed(f"Could not build the email: {why}")
        report.failed += 1
    return None


def settle_failure(delivery: Delivery, failure: Failure, report: Report) -> None:
    if classify(failure) is Verdict.RETRY:
        retry_or_give_up(delivery, failure.reason, report)
        return
    logger.warning("Delivery %s failed permanently: %s", delivery.pk, failure.reason)
    delivery.mark_failed(failure.reason)
    report.failed += 1


def retry_or_give_up(delivery: Delivery, reason: str, report: Report) -> None:
    """Later, with backoff, or failed (dead) once out of attempts."""
    if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        delivery.mark_failed(f"Gave up after {delivery.attempts} attempts: {reason}")
        report.failed += 1
        return
    delay = retry_countdown(delivery.attempts)
    delivery.retry_later(reason, delay)
    report.retry(delivery, delay)


def retry_countdown(attempt: int) -> float:
    """Exponential backoff with full jitter, capped below the visibility timeout."""
    ceiling = min(
        settings.NOTIFICATIONS_RETRY_MAX_DELAY,
        settings.NOTIFICATIONS_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0),
    )
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)
