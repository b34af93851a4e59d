"""deliver_emails against a real SMTP server on loopback: no smtplib mocks."""

from __future__ import annotations

import base64
import errno
import json
import ssl
import statistics
from datetime import timedelta

import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devtools.smtp import SMTPServer, free_port
from notifications import sending
from notifications.models import Delivery
from notifications.sending import deliver, retry_countdown
from tests.factories import DeliveryFactory, TaskFactory, UserFactory
from worker.jobs import deliver_emails

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def queued(count: int = 1, **kwargs: object) -> list[Delivery]:
    return DeliveryFactory.create_batch(count, **kwargs)


def pks(deliveries: list[Delivery]) -> list[int]:
    return [delivery.pk for delivery in deliveries]


def assigned(count: int) -> list[Delivery]:
    """Assignment emails for as many tasks: the builder needs each live task."""
    return [
        DeliveryFactory(kind=Delivery.Kind.TASK_ASSIGNED, context={"task_id": task.pk})
        for task in TaskFactory.create_batch(count)
    ]


def queries_to_deliver(deliveries: list[Delivery]) -> list[dict[str, str]]:
    with CaptureQueriesContext(connection) as queries:
        assert deliver(pks(deliveries)).sent == len(deliveries)
    return queries.captured_queries


def fresh(delivery: Delivery) -> Delivery:
    delivery.refresh_from_db()
    return delivery


class TestAccepted:
    def test_it_sends_and_records_reply_and_message_id(self, smtp: SMTPServer) -> None:
        [delivery] = queued()
        report = deliver([delivery.pk])
        [received] = smtp.wait_for(1)
        delivery = fresh(delivery)
        assert report.summary() == {"sent": 1, "failed": 0, "skipped": 0,
                                    "retrying": 0}  # fmt: skip
        assert delivery.status == Status.SENT
        assert (delivery.attempts, delivery.last_error) == (1, "")
        assert delivery.smtp_reply.startswith("250 ")
        assert delivery.sent_at is not None
        assert received.message_id == delivery.message_id
        assert received.rcpt_tos == [delivery.recipient.email]
        assert received.subject == "Task deleted: Old task"
        assert received.body("plain") and received.body("html")

    def test_a_batch_goes_over_one_connection(self, smtp: SMTPServer) -> None:
        deliveries = queued(5)
        assert deliver(pks(deliveries)).sent == 5
        assert len(smtp.received) == 5
        assert smtp.sink.connections == 1

    def test_each_row_names_the_job_run_that_claimed_it(self, smtp: SMTPServer) -> None:
        deliveries = queued(2)
        result = deliver_emails.apply(args=[pks(deliveries)])
        assert [fresh(d).job_id for d in deliveries] == [result.id, result.id]

    def test_each_email_costs_one_update_and_no_read(self, smtp: SMTPServer) -> None:
        one = queries_to_deliver(assigned(1))
        ten = queries_to_deliver(assigned(10))
        assert len(ten) - len(one) == 9
        writes = [q["sql"] for q in ten[-10:]]
        assert all(sql.startswith('UPDATE "notifications_delivery"') for sql in writes)
        assert len(smtp.received) == 11

    def test_the_job_returns_counts_and_no_address(self, smtp: SMTPServer) -> None:
        [delivery] = queued()
        result = deliver_emails.apply(args=[[delivery.pk]])
        assert result.get() == {"sent": 1, "failed": 0, "skipped": 0, "retrying": 0}
        assert delivery.recipient.email not in str(result.get())


class TestIdempotency:
    def test_running_the_job_twice_sends_once(self, smtp: SMTPServer) -> None:
        deliveries = queued(3)
        deliver_emails.apply(args=[pks(deliveries)])
        second = deliver_emails.apply(args=[pks(deliveries)])
        assert second.get()["sent"] == 0
        assert len(smtp.received) == 3

    def test_a_claimed_row_is_not_claimed_again(self) -> None:
        [delivery] = queued()
        _, first = sending.claim([delivery.pk])
        _, second = sending.claim([delivery.pk])
        assert (len(first), second) == (1, [])
        assert fresh(delivery).status == Status.SENDING

    def test_a_run_whose_claim_was_taken_over_writes_nothing(self) -> None:
        [delivery] = queued()
        token, [claimed] = sending.claim([delivery.pk])
        Delivery.objects.update(claim_token="someone-else")
        sending.record_sent(claimed, token, "250 ok", "<x@y>")
        assert fresh(delivery).status == Status.SENDING

    def test_an_active_account_gets_no_activation_email(self, smtp: SMTPServer) -> None:
        user = UserFactory(is_active=False)
        delivery = Delivery.objects.get(recipient=user)
        user.is_active = True
        user.save()
        assert deliver([delivery.pk]).skipped == 1
        assert fresh(delivery).status == Status.SKIPPED
        assert "activated already" in delivery.last_error
        assert smtp.received == []


class TestTransient:
    def test_451_is_retried_later_with_a_capped_countdown(
        self, smtp: SMTPServer
    ) -> None:
        smtp.behaviour.mode = "tempfail"
        [delivery] = queued()
        before = timezone.now()
        report = deliver([delivery.pk])
        delivery = fresh(delivery)
        assert report.retry_ids == [delivery.pk]
        assert 0 <= report.countdown <= settings.NOTIFICATIONS_RETRY_MAX_DELAY
        assert delivery.status == Status.QUEUED
        assert delivery.last_error.startswith("451 ")
        assert delivery.attempts == 1
        ceiling = timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_DELAY + 1)
        assert before <= delivery.next_attempt_at <= before + ceiling

    def test_only_the_transient_ones_of_a_batch_are_retried(
        self, smtp: SMTPServer
    ) -> None:
        smtp.behaviour.tempfail_rate, smtp.behaviour.random.seed = 0.5, 7
        deliveries = queued(10)
        report = deliver(pks(deliveries))
        statuses = [fresh(d).status for d in deliveries]
        assert report.sent == len(smtp.received) == statuses.count(Status.SENT)
        assert sorted(report.retry_ids) == [
            d.pk for d in deliveries if d.status == Status.QUEUED
        ]
        assert 0 < report.sent < 10
        assert smtp.sink.connections == 1  # a 4xx reply does not cost the connection

    def test_the_job_requeues_just_the_transient_ids_with_a_countdown(
        self, smtp: SMTPServer, broker_queue: redis.Redis
    ) -> None:
        smtp.behaviour.mode = "tempfail"
        [transient] = queued()
        skipped = DeliveryFactory(kind=Delivery.Kind.ACTIVATION, context={})
        ids = [transient.pk, skipped.pk]
        # As a worker runs it (not eager, not called directly): retry publishes.
        deliver_emails.push_request(id="job-1", args=[ids], called_directly=False)
        try:
            with pytest.raises(Retry) as retry:
                deliver_emails.run(ids)
        finally:
            deliver_emails.pop_request()
        assert 0 <= retry.value.when <= settings.NOTIFICATIONS_RETRY_MAX_DELAY
        [raw] = broker_queue.lrange("celery", 0, -1)
        message = json.loads(raw)
        args = json.loads(base64.b64decode(message["body"]))[0]
        assert args == [[transient.pk]]
        assert (message["headers"]["retries"], bool(message["headers"]["eta"])) == (
            1, True
        )  # fmt: skip

    def test_the_job_retries_until_every_email_arrived_exactly_once(
        self, smtp: SMTPServer, settings: object
    ) -> None:
        settings.NOTIFICATIONS_MAX_ATTEMPTS = 20
        smtp.behaviour.tempfail_rate, smtp.behaviour.random.seed = 0.5, 3
        deliveries = queued(8)
        deliver_emails.apply(args=[pks(deliveries)])  # eager: retries run at once
        addresses = sorted(address for m in smtp.received for address in m.rcpt_tos)
        assert addresses == sorted(d.recipient.email for d in deliveries)
        assert {fresh(d).status for d in deliveries} == {Status.SENT}
        assert max(d.attempts for d in deliveries) > 1

    def test_after_the_last_attempt_the_delivery_is_failed(
        self, smtp: SMTPServer, settings: object
    ) -> None:
        settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
        smtp.behaviour.mode = "tempfail"
        [delivery] = queued()
        deliver_emails.apply(args=[[delivery.pk]])
        delivery = fresh(delivery)
        assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
        assert delivery.last_error.startswith("Gave up after 3 attempts: 451")
        assert smtp.sink.answers["451"] == 3

    def test_a_hang_up_is_transient(self, smtp: SMTPServer) -> None:
        smtp.behaviour.mode = "hangup"
        deliveries = queued(2)
        report = deliver(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert {fresh(d).status for d in deliveries} == {Status.QUEUED}
        assert "Disconnected" in deliveries[0].last_error

    def test_a_silent_server_times_out_as_transient(
        self, smtp: SMTPServer, settings: object
    ) -> None:
        settings.EMAIL_TIMEOUT = 1
        smtp.behaviour.mode = "hang"
        [delivery] = queued()
        assert deliver([delivery.pk]).retry_ids == [delivery.pk]
        assert "timed out" in fresh(delivery).last_error

    def test_a_refused_connection_is_transient(
        self, smtp: SMTPServer, settings: object
    ) -> None:
        settings.EMAIL_PORT = free_port()  # nothing listens there
        deliveries = queued(6)
        report = deliver(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert "ConnectionRefusedError" in fresh(deliveries[-1]).last_error


class TestPermanent:
    def test_550_at_rcpt_fails_at_once_and_the_others_still_go(
        self, smtp: SMTPServer
    ) -> None:
        good, bad, other = queued(3)
        smtp.behaviour.reject_recipient = lambda a: a == bad.recipient.email
        report = deliver(pks([good, bad, other]))
        bad = fresh(bad)
        assert (report.sent, report.failed, report.retry_ids) == (2, 1, [])
        assert (bad.status, bad.attempts) == (Status.FAILED, 1)
        assert "550 5.1.1 Recipient address rejected" in bad.last_error
        assert bad.recipient.email in bad.last_error
        assert smtp.sink.connections == 1

    def test_554_at_data_fails_at_once_with_the_reason(self, smtp: SMTPServer) -> None:
        smtp.behaviour.mode = "permfail"
        [delivery] = queued()
        result = deliver_emails.apply(args=[[delivery.pk]])
        delivery = fresh(delivery)
        assert result.get()["failed"] == 1
        assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
        assert delivery.last_error == "554 5.7.1 Message rejected"

    def test_a_recipient_without_an_address_fails(self, smtp: SMTPServer) -> None:
        [delivery] = queued(recipient=UserFactory(email=""))
        assert deliver([delivery.pk]).failed == 1
        assert fresh(delivery).status == Status.FAILED


class TestClassification:
    @pytest.mark.parametrize(
        ("error", "transient"),
        [
            (sending.smtplib.SMTPDataError(451, b"later"), True),
            (sending.smtplib.SMTPDataError(554, b"no"), False),
            (sending.smtplib.SMTPConnectError(421, b"busy"), True),
            (sending.smtplib.SMTPConnectError(554, b"go away"), False),
            (sending.smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), False),
            (sending.smtplib.SMTPRecipientsRefused({"a@b": (452, b"full")}), True),
            (sending.smtplib.SMTPServerDisconnected("gone"), True),
            (sending.smtplib.SMTPException("no AUTH"), False),
            (TimeoutError("timed out"), True),
            (ConnectionResetError(), True),
            (ConnectionRefusedError(), True),
            (OSError(errno.ENETUNREACH, "Network is unreachable"), True),
            (OSError("other"), False),
            (ssl.SSLCertVerificationError("certificate verify failed"), False),
        ],
    )
    def test_transient_and_permanent_are_told_apart(
        self, error: BaseException, transient: bool
    ) -> None:
        assert sending.is_transient(error) is transient


class TestBackoff:
    def test_the_default_attempts_outlast_a_flaky_server(self) -> None:
        # With 30 % of attempts answered 451 at random, 7 attempts lost about one
        # email in 5,000 (0.3 ** 7); the default must make that about one in a million.
        assert 0.3**settings.NOTIFICATIONS_MAX_ATTEMPTS < 1e-6

    def test_it_grows_exponentially_with_full_jitter_and_a_cap(self) -> None:
        base = settings.NOTIFICATIONS_RETRY_BASE_DELAY
        cap = settings.NOTIFICATIONS_RETRY_MAX_DELAY
        for attempt in range(1, 12):
            ceiling = min(cap, base * 2 ** (attempt - 1))
            samples = [retry_countdown(attempt) for _ in range(300)]
            assert all(0 <= s <= ceiling for s in samples)
            # Full jitter: spread over the whole range, not clustered near the top.
            assert min(samples) < ceiling * 0.1 and max(samples) > ceiling * 0.9
            assert statistics.mean(samples) == pytest.approx(ceiling / 2, rel=0.2)

    def test_every_countdown_stays_below_the_visibility_timeout(self) -> None:
        worst = max(retry_countdown(attempt) for attempt in range(1, 60))
        assert worst <= settings.NOTIFICATIONS_RETRY_MAX_DELAY
        assert (
            settings.NOTIFICATIONS_RETRY_MAX_DELAY < settings.CELERY_VISIBILITY_TIMEOUT
        )


class TestTimeBudget:
    def test_rows_it_has_no_time_for_go_back_to_the_queue_unspent(
        self, smtp: SMTPServer, settings: object
    ) -> None:
        settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # no budget at all
        deliveries = queued(2)
        report = deliver(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert [(fresh(d).status, d.attempts) for d in deliveries] == [
            (Status.QUEUED, 0), (Status.QUEUED, 0)
        ]  # fmt: skip
        assert smtp.received == []


def test_a_non_smtp_backend_gets_the_message_handed_over() -> None:
    """Development's console backend and other apps' tests (locmem) still work."""
    from django.core import mail

    [delivery] = queued()
    assert deliver([delivery.pk]).sent == 1
    assert [m.to for m in mail.outbox] == [[delivery.recipient.email]]
    assert fresh(delivery).smtp_reply.startswith("accepted by ")
