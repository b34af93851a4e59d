"""The worker's side of the outbox: claim, build, send over one connection, record.

Plain functions, so tests reach them without a broker; worker/jobs.py wraps them.
"""

from __future__ import annotations

import errno
import logging
import random
import smtplib
import socket
import time
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.db.models import F
from django.utils import timezone

from notifications.emails import Skip, Undeliverable, build_message, tasks_for
from notifications.models import Delivery
from tasks.models import Task

logger = logging.getLogger(__name__)

Status = Delivery.Status

# Worth another try later. SMTPResponseException (4xx or 5xx) is classified by its
# code instead, and OSError is not listed: smtplib.SMTPException is an OSError, so
# listing it would retry permanent 5xx refusals forever.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    TimeoutError,  # socket.timeout is an alias
    ConnectionError,  # refused, reset, aborted, broken pipe
    socket.gaierror,  # DNS hiccup resolving EMAIL_HOST
)
# Socket errors that mean "the network, for now", not "never".
TRANSIENT_ERRNOS = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN}
)
# After this many dropped connections a batch stops dialling and defers the rest.
MAX_CONNECTION_FAILURES = 3


@dataclass
class Report:
    """What a job run did; small and address-free, it ends up in the results."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry_ids: list[int] = field(default_factory=list)
    countdown: float = 0.0

    def summary(self) -> dict[str, int]:
        return {"sent": self.sent, "failed": self.failed, "skipped": self.skipped,
                "retrying": len(self.retry_ids)}  # fmt: skip


# Classification ------------------------------------------------------------------


def is_transient(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    if isinstance(error, TRANSIENT_ERRORS):
        return True
    network = isinstance(error, OSError) and not isinstance(
        error, smtplib.SMTPException
    )
    return network and error.errno in TRANSIENT_ERRNOS


def describe(error: BaseException) -> str:
    """The reason kept in last_error: the server's own words when it gave any."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{address}: {code} {_text(reply)}"
            for address, (code, reply) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{error.smtp_code} {_text(error.smtp_error)}"
    return f"{type(error).__name__}: {error}"[:500]


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


def retry_countdown(attempt: int) -> float:
    """Exponential backoff with full jitter, capped below the visibility timeout."""
    ceiling = min(
        settings.NOTIFICATIONS_RETRY_MAX_DELAY,
        settings.NOTIFICATIONS_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0),
    )
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)


# Claiming and recording ------------------------------------------------------------


def claim(delivery_ids: Sequence[int], job_id: str = "") -> tuple[str, list[Delivery]]:
    """Take the queued ones among these ids for this run only.

    A conditional UPDATE: of two jobs holding the same ids, one gets each row.
    Rows already sent, failed or taken by another run are left out. The same
    UPDATE notes the Celery job id, so the web process never writes it back.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    Delivery.objects.filter(pk__in=delivery_ids, status=Status.QUEUED).update(
        status=Status.SENDING, claim_token=token, claimed_at=now, job_id=job_id,
        attempts=F("attempts") + 1, updated_at=now,
    )  # fmt: skip
    claimed = Delivery.objects.filter(claim_token=token).select_related("recipient")
    return token, list(claimed.order_by("pk"))


def record(delivery: Delivery, token: str, **fields: Any) -> None:
    """Write an outcome, unless the sweep has since handed the row to another run.

    One UPDATE by primary key, in its own transaction, right after each message:
    a killed worker can duplicate at most the message in flight.
    """
    fields.setdefault("updated_at", timezone.now())
    Delivery.objects.filter(pk=delivery.pk, claim_token=token).update(**fields)


def record_sent(delivery: Delivery, token: str, reply: str, message_id: str) -> None:
    record(delivery, token, status=Status.SENT, sent_at=timezone.now(),
           smtp_reply=reply[:500], message_id=message_id, last_error="")  # fmt: skip


def record_failed(delivery: Delivery, token: str, reason: str) -> None:
    record(delivery, token, status=Status.FAILED, last_error=reason)


def record_skipped(delivery: Delivery, token: str, reason: str) -> None:
    record(delivery, token, status=Status.SKIPPED, last_error=reason)


def record_transient(
    delivery: Delivery, token: str, reason: str, report: Report
) -> None:
    """Back to queued with a due time, or failed (dead) once out of attempts."""
    if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
        reason = f"Gave up after {delivery.attempts} attempts: {reason}"
        record_failed(delivery, token, reason)
        report.failed += 1
        return
    countdown = retry_countdown(delivery.attempts)
    report.countdown = max(report.countdown, countdown)
    report.retry_ids.append(delivery.pk)
    due = timezone.now() + timedelta(seconds=countdown)
    record(delivery, token, status=Status.QUEUED, next_attempt_at=due,
           last_error=reason, claim_token="")  # fmt: skip


# Sending ---------------------------------------------------------------------------


class Mailer:
    """One SMTP connection for a whole batch, reopened (a few times) if it drops."""

    def __init__(self) -> None:
        self.backend = get_connection(fail_silently=False)
        self.failures = 0
        self.last_error: BaseException | None = None

    def send(self, message: EmailMessage) -> str:
        """Send one message; return the server's reply to its DATA."""
        if self.failures >= MAX_CONNECTION_FAILURES and self.last_error:
            raise self.last_error
        if not isinstance(self.backend, SMTPBackend):
            return self._hand_over(message)
        try:
            self._open()
            return transmit(self.backend.connection, message)
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as error:
            if getattr(error, "smtp_code", None) == 421:  # "closing connection"
                self._drop(error)
            raise  # a refusal of this message: the connection is still good
        except OSError as error:  # the socket or the session broke: redial next time
            self._drop(error)
            raise

    def _hand_over(self, message: EmailMessage) -> str:
        """A console or locmem backend (development, other apps' tests)."""
        self.backend.send_messages([message])
        return f"accepted by {type(self.backend).__module__}"

    def _open(self) -> None:
        if self.backend.connection is None:
            self.backend.open()

    def _drop(self, error: BaseException) -> None:
        self.failures += 1
        self.last_error = error
        self.close()

    def close(self) -> None:
        # The connection may already be dead: any socket error on QUIT is moot.
        with suppress(OSError):
            self.backend.close()
        if isinstance(self.backend, SMTPBackend):
            self.backend.connection = None


def transmit(smtp: smtplib.SMTP, message: EmailMessage) -> str:
    """smtplib's sendmail, keeping the final reply (the server's queue id)."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    sender = sanitize_address(message.from_email, encoding)
    recipients = [sanitize_address(a, encoding) for a in message.recipients()]
    data = message.message().as_bytes(linesep="\r\n")
    smtp.ehlo_or_helo_if_needed()
    try:
        return mail_transaction(smtp, sender, recipients, data)
    except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused):
        _reset(smtp)  # leave the connection ready for the batch's next message
        raise


def mail_transaction(
    smtp: smtplib.SMTP, sender: str, recipients: list[str], data: bytes
) -> str:
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = _refused_recipients(smtp, recipients)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = smtp.data(data)  # raises SMTPDataError itself unless 354
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)
    return f"{code} {_text(reply)}"


def _refused_recipients(
    smtp: smtplib.SMTP, recipients: list[str]
) -> dict[str, tuple[int, bytes]]:
    refused = {}
    for address in recipients:
        code, reply = smtp.rcpt(address)
        if code not in (250, 251):
            refused[address] = (code, reply)
    return refused


def _reset(smtp: smtplib.SMTP) -> None:
    with suppress(smtplib.SMTPServerDisconnected):
        smtp.rset()


# The whole run ---------------------------------------------------------------------


def deliver(delivery_ids: Sequence[int], job_id: str = "") -> Report:
    """Claim, build, send and record every delivery among these ids."""
    token, deliveries = claim(delivery_ids, job_id)
    tasks = tasks_for(deliveries)  # one query for the batch, not one per email
    report = Report()
    deadline = time.monotonic() + send_budget()
    mailer = Mailer()
    try:
        for delivery in deliveries:
            if time.monotonic() > deadline:
                release(delivery, token, report)
                continue
            deliver_one(delivery, token, mailer, report, tasks)
    finally:
        mailer.close()
    return report


def send_budget() -> float:
    """Seconds a run may spend sending before it hands the rest to a new run.

    Stopping short of the soft time limit keeps a slow server from killing the
    job mid-batch and leaving rows in "sending" until the lease runs out.
    """
    return settings.CELERY_TASK_SOFT_TIME_LIMIT - 3 * settings.EMAIL_TIMEOUT


def release(delivery: Delivery, token: str, report: Report) -> None:
    """Untried for lack of time: queue it again without spending an attempt."""
    report.retry_ids.append(delivery.pk)
    record(delivery, token, status=Status.QUEUED, attempts=F("attempts") - 1,
           next_attempt_at=timezone.now(), claim_token="")  # fmt: skip


def deliver_one(
    delivery: Delivery, token: str, mailer: Mailer, report: Report,
    tasks: Mapping[int, Task],
) -> None:  # fmt: skip
    try:
        message = build_message(delivery, tasks)
    except Skip as reason:
        record_skipped(delivery, token, str(reason))
        report.skipped += 1
        return
    except Undeliverable as reason:
        record_failed(delivery, token, str(reason))
        report.failed += 1
        return
    except Exception as error:  # a template or data bug: the rest still go out
        logger.exception("Could not build delivery %s", delivery.pk)
        record_failed(delivery, token, f"Could not build the email: {describe(error)}")
        report.failed += 1
        return
    send_one(delivery, token, message, mailer, report)


def send_one(
    delivery: Delivery, token: str, message: EmailMessage, mailer: Mailer,
    report: Report,
) -> None:  # fmt: skip
    try:
        reply = mailer.send(message)
    except (OSError, ValueError, UnicodeError) as error:  # ValueError: bad address
        record_failure(delivery, token, error, report)
    else:
        record_sent(delivery, token, reply, message.extra_headers["Message-ID"])
        report.sent += 1


def record_failure(
    delivery: Delivery, token: str, error: BaseException, report: Report
) -> None:
    if is_transient(error):
        record_transient(delivery, token, describe(error), report)
        return
    logger.warning("Delivery %s failed permanently: %s", delivery.pk, describe(error))
    record_failed(delivery, token, describe(error))
    report.failed += 1
