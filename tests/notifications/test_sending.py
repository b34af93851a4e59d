"""The batch run (notifications/sending.py) against a real SMTP server on
loopback, and the same tests again against a stand-in for Postmark's API through
django-anymail: claim, build, send over one connection, record. No mocks."""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from devtools.smtp import SMTPServer, free_port
from notifications import operations
from notifications.models import Delivery, Suppression
from notifications.relays import process_relays
from notifications.sending import retry_countdown, send_batch
from tests.factories import (
    DeliveryFactory,
    UserFactory,
    assignment_deliveries,
    fresh,
    pks,
    queued_deliveries,
)
from tests.support.broker import published_ids
from tests.support.esp import MailServer
from users.models import User

pytestmark = pytest.mark.django_db
Status = Delivery.Status


# What the reply kept, or last_error, says over each transport.
SAYS = {
    SMTPServer: {
        "accepted": "250 2.0.0 OK",
        "tempfail": "450 4.2.1 ",
        "hangup": "Disconnected",
        "timeout": "timed out",
        "refused": "ConnectionRefusedError",
        "unknown": "550 5.1.1 Recipient address rejected",
        "throttled": "454 Throttling failure",
        "quota": "550 5.4.5 Daily user sending quota exceeded",
    },
    PostmarkAPI: {
        "accepted": "Postmark: sent ",
        "tempfail": "Postmark 500: Internal Server Error",
        "hangup": "Connection aborted",
        "timeout": "timed out",
        "refused": "Connection refused",
        "unknown": "rejected (Postmark: You tried to send to recipient(s) that "
        "have been marked as inactive",
        "throttled": "Postmark 429: Rate limit exceeded",
        "quota": "Postmark 422: Not allowed to send: you have run out of credits",
    },
}


def says(server: MailServer, outcome: str) -> str:
    return SAYS[type(server)][outcome]


def nothing_listens(server: MailServer, settings: DjangoSettings) -> None:
    """Point the worker code at a closed port on the server's transport."""
    if isinstance(server, PostmarkAPI):
        settings.ANYMAIL = {
            **settings.ANYMAIL,
            "POSTMARK_API_URL": f"http://127.0.0.1:{free_port()}/",
        }
    else:
        settings.EMAIL_PORT = free_port()


def time_out_after(seconds: float, settings: DjangoSettings) -> None:
    settings.EMAIL_TIMEOUT = seconds
    settings.ANYMAIL = {**getattr(settings, "ANYMAIL", {}), "REQUESTS_TIMEOUT": seconds}


def queries_to_send(deliveries: list[Delivery]) -> list[dict[str, str]]:
    with CaptureQueriesContext(connection) as queries:
        assert send_batch(pks(deliveries)).sent == len(deliveries)
    return queries.captured_queries


class TestAccepted:
    def test_it_sends_and_records_reply_and_message_id(
        self, mail_server: MailServer
    ) -> None:
        [delivery] = queued_deliveries()
        report = send_batch([delivery.pk])
        [received] = mail_server.wait_for(1)
        delivery = fresh(delivery)
        assert report.summary() == {"sent": 1, "failed": 0, "skipped": 0,
                                    "held": 0, "waiting": 0, "retrying": 0}  # fmt: skip
        assert delivery.status == Status.SENT
        assert (delivery.attempts, delivery.last_error) == (1, "")
        assert delivery.smtp_reply.startswith(says(mail_server, "accepted"))
        assert delivery.sent_at is not None
        assert received.message_id == delivery.message_id
        assert received.rcpt_tos == [delivery.recipient.email]
        assert received.subject == "[P] Old task (#1)"  # from the snapshot
        assert received.body("plain") and received.body("html")
        assert delivery.relay == Delivery.Relay.PRIMARY

    def test_an_esp_s_message_id_is_kept_for_its_webhooks(
        self, mail_server: MailServer
    ) -> None:
        [delivery] = queued_deliveries()
        send_batch([delivery.pk])
        delivery = fresh(delivery)
        if isinstance(mail_server, PostmarkAPI):
            assert delivery.provider_message_id
            assert delivery.provider_message_id in delivery.smtp_reply
        else:
            assert delivery.provider_message_id == ""

    def test_a_batch_goes_over_one_connection(self, mail_server: MailServer) -> None:
        deliveries = queued_deliveries(5)
        assert send_batch(pks(deliveries)).sent == 5
        assert len(mail_server.received) == 5
        assert mail_server.sink.connections == 1

    def test_the_connection_is_kept_for_the_next_batches_of_the_process(
        self, mail_server: MailServer
    ) -> None:
        for _ in range(3):
            assert send_batch(pks(queued_deliveries(2))).sent == 2
        assert (len(mail_server.received), mail_server.sink.connections) == (6, 1)

    def test_a_kept_connection_the_server_dropped_is_dialled_again_unspent(
        self, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        send_batch(pks(queued_deliveries(1)))
        kept = process_relays().primary.backend.connection
        kept.sock.shutdown(socket.SHUT_RDWR)  # as if the server had hung up on it
        [later] = queued_deliveries(1)
        assert send_batch([later.pk]).sent == 1
        assert (fresh(later).attempts, smtp.sink.connections) == (1, 2)

    def test_each_email_costs_one_update_and_no_read(
        self, mail_server: MailServer
    ) -> None:
        one = queries_to_send(assignment_deliveries(1))
        ten = queries_to_send(assignment_deliveries(10))
        assert len(ten) - len(one) == 9
        writes = [q["sql"] for q in ten[-10:]]
        assert all(sql.startswith('UPDATE "notifications_delivery"') for sql in writes)
        assert len(mail_server.received) == 11


class TestCompanions:
    """A run with room takes the notifications other jobs will bring (each
    request publishes its own few), so one batch renders and connects once."""

    def test_a_run_with_room_sends_the_next_requests_emails_too(
        self, smtp: SMTPServer
    ) -> None:
        first, later = assignment_deliveries(2), assignment_deliveries(3)
        assert send_batch(pks(first), fill_to=50).sent == 5
        assert {fresh(row).status for row in later} == {Status.SENT}
        assert send_batch(pks(later), fill_to=50).sent == 0  # their job ends at once
        assert len(smtp.received) == 5

    def test_it_takes_no_more_than_its_room(self, smtp: SMTPServer) -> None:
        rows = assignment_deliveries(5)
        assert send_batch(pks(rows[:1]), fill_to=3).sent == 3
        assert [fresh(row).status for row in rows[3:]] == [Status.QUEUED] * 2

    def test_account_emails_and_rows_in_a_window_are_left_to_their_jobs(
        self, smtp: SMTPServer
    ) -> None:
        [own] = assignment_deliveries(1)
        activation = Delivery.objects.get(recipient=UserFactory(is_active=False))
        [windowed] = assignment_deliveries(1)
        windowed.waiting_for, windowed.not_before = Delivery.Wait.WINDOW, timezone.now()
        windowed.save()
        assert send_batch([own.pk], fill_to=50).sent == 1
        assert fresh(activation).status == fresh(windowed).status == Status.QUEUED

    def test_a_run_of_account_emails_takes_no_notification(
        self, smtp: SMTPServer
    ) -> None:
        activation = Delivery.objects.get(recipient=UserFactory(is_active=False))
        [notification] = assignment_deliveries(1)
        assert send_batch([activation.pk], fill_to=50).sent == 1
        assert fresh(notification).status == Status.QUEUED


class TestSkipped:
    def test_an_active_account_gets_no_activation_email(self, smtp: SMTPServer) -> None:
        user = UserFactory(is_active=False)
        delivery = Delivery.objects.get(recipient=user)
        user.is_active = True
        user.save()
        assert send_batch([delivery.pk]).skipped == 1
        assert fresh(delivery).status == Status.SKIPPED
        assert "already active" in delivery.last_error
        assert smtp.received == []


class TestTransient:
    def test_a_transient_refusal_is_retried_later_with_a_capped_countdown(
        self, mail_server: MailServer
    ) -> None:
        mail_server.behaviour.mode = "tempfail"
        [delivery] = queued_deliveries()
        before = timezone.now()
        report = send_batch([delivery.pk])
        delivery = fresh(delivery)
        assert report.retry_ids == [delivery.pk]
        assert 0 <= report.countdown <= settings.NOTIFICATIONS_RETRY_MAX_DELAY
        assert delivery.status == Status.QUEUED
        assert delivery.last_error.startswith(says(mail_server, "tempfail"))
        assert delivery.attempts == 1
        ceiling = timedelta(seconds=settings.NOTIFICATIONS_RETRY_BASE_DELAY + 1)
        assert before <= delivery.next_attempt_at <= before + ceiling

    def test_only_the_transient_ones_of_a_batch_are_retried(
        self, mail_server: MailServer
    ) -> None:
        mail_server.behaviour.tempfail_rate = 0.5
        mail_server.behaviour.random.seed(7)
        deliveries = queued_deliveries(10)
        report = send_batch(pks(deliveries))
        statuses = [fresh(d).status for d in deliveries]
        assert report.sent == len(mail_server.received) == statuses.count(Status.SENT)
        assert sorted(report.retry_ids) == [
            d.pk for d in deliveries if d.status == Status.QUEUED
        ]
        assert 0 < report.sent < 10
        # A refusal does not cost the connection.
        assert mail_server.sink.connections == 1

    def test_a_hang_up_is_transient(self, mail_server: MailServer) -> None:
        mail_server.behaviour.mode = "hangup"
        deliveries = queued_deliveries(2)
        report = send_batch(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert {fresh(d).status for d in deliveries} == {Status.QUEUED}
        assert says(mail_server, "hangup") in deliveries[0].last_error

    def test_a_silent_server_times_out_as_transient(
        self, mail_server: MailServer, settings: DjangoSettings
    ) -> None:
        time_out_after(0.3, settings)
        mail_server.behaviour.mode = "hang"
        [delivery] = queued_deliveries()
        assert send_batch([delivery.pk]).retry_ids == [delivery.pk]
        assert says(mail_server, "timeout") in fresh(delivery).last_error

    def test_a_refused_connection_is_transient(
        self, mail_server: MailServer, settings: DjangoSettings
    ) -> None:
        nothing_listens(mail_server, settings)
        deliveries = queued_deliveries(6)
        report = send_batch(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert says(mail_server, "refused") in fresh(deliveries[-1]).last_error


class TestPermanent:
    def test_a_refused_recipient_fails_at_once_and_the_others_still_go(
        self, mail_server: MailServer
    ) -> None:
        good, bad, other = queued_deliveries(3)
        mail_server.behaviour.reject_recipient = lambda a: a == bad.recipient.email
        report = send_batch(pks([good, bad, other]))
        bad = fresh(bad)
        assert (report.sent, report.failed, report.retry_ids) == (2, 1, [])
        assert (bad.status, bad.attempts) == (Status.FAILED, 1)
        assert says(mail_server, "unknown") in bad.last_error
        assert bad.recipient.email in bad.last_error
        assert mail_server.sink.connections == 1

    def test_a_permanent_refusal_of_the_message_fails_it_without_suppressing(
        self, mail_server: MailServer
    ) -> None:
        mail_server.behaviour.mode = "permfail"
        [delivery] = queued_deliveries()
        assert send_batch([delivery.pk]).failed == 1
        assert (fresh(delivery).status, delivery.attempts) == (Status.FAILED, 1)
        assert not Suppression.objects.exists()

    def test_a_recipient_without_an_address_fails(self, smtp: SMTPServer) -> None:
        [delivery] = queued_deliveries(recipient=UserFactory(email=""))
        assert send_batch([delivery.pk]).failed == 1
        assert fresh(delivery).status == Status.FAILED


class TestBackoff:
    def test_the_default_attempts_outlast_a_flaky_server(self) -> None:
        # With 30 % of attempts answered 450 at random, 7 attempts lost about one
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
        self, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        settings.CELERY_TASK_SOFT_TIME_LIMIT = 0  # no budget at all
        deliveries = queued_deliveries(2)
        report = send_batch(pks(deliveries))
        assert sorted(report.retry_ids) == pks(deliveries)
        assert [(fresh(d).status, d.attempts) for d in deliveries] == [
            (Status.QUEUED, 0), (Status.QUEUED, 0)
        ]  # fmt: skip
        assert smtp.received == []

    def test_a_run_of_notifications_yields_soon_and_account_emails_do_not(
        self, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_BULK_RUN_SECONDS = 0  # yield at once
        notifications = queued_deliveries(2)
        activation = DeliveryFactory(
            kind=Delivery.Kind.ACTIVATION, recipient=UserFactory(is_active=False)
        )
        assert send_batch(pks(notifications)).sent == 0
        assert send_batch([activation.pk]).sent == 1


class TestProviders:
    """A provider's pace, quota and bounces, played by the local server."""

    def test_at_our_rate_a_throttling_server_refuses_nothing(
        self, mail_server: MailServer, settings: DjangoSettings
    ) -> None:
        settings.EMAIL_RATE_LIMIT = 10
        mail_server.behaviour.max_rate = 12
        deliveries = queued_deliveries(15)
        started = time.monotonic()
        report = send_batch(pks(deliveries))
        refused = sum(mail_server.sink.answers[code] for code in ("454", "429"))
        assert (report.sent, refused) == (15, 0)
        assert time.monotonic() - started >= 14 / 10 * 0.95

    def test_a_throttling_reply_makes_everyone_wait_without_failing(
        self, mail_server: MailServer
    ) -> None:
        mail_server.behaviour.max_rate = 3  # and no pace of our own
        deliveries = queued_deliveries(6)
        report = send_batch(pks(deliveries))
        rows = [fresh(d) for d in deliveries]
        assert (report.sent, report.failed, report.waiting) == (3, 0, 3)
        waiting = [row for row in rows if row.status == Status.QUEUED]
        assert [(r.attempts, r.waiting_for) for r in waiting] == [
            (0, Delivery.Wait.PROVIDER)
        ] * 3
        assert says(mail_server, "throttled") in waiting[0].last_error

    def test_a_spent_quota_fails_nothing_and_every_email_goes_once_it_lifts(
        self, mail_server: MailServer, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 0.2
        mail_server.behaviour.quota_spent_until = time.monotonic() + 0.5
        deliveries = queued_deliveries(5)
        first = send_batch(pks(deliveries))
        assert (first.sent, first.failed, first.waiting) == (0, 0, 5)
        assert {fresh(d).attempts for d in deliveries} == {0}
        assert says(mail_server, "quota") in deliveries[0].last_error
        sent_eventually(deliveries)
        assert sorted(m.rcpt_tos[0] for m in mail_server.received) == sorted(
            d.recipient.email for d in deliveries
        )

    def test_an_unknown_address_is_suppressed_and_never_tried_again(
        self, mail_server: MailServer
    ) -> None:
        gone = UserFactory(email="gone@example.com")
        mail_server.behaviour.reject_recipient = lambda address: address == gone.email
        first = DeliveryFactory(recipient=gone)
        assert send_batch([first.pk]).failed == 1
        assert Suppression.objects.get().address == "gone@example.com"
        later = DeliveryFactory(recipient=gone)
        assert send_batch([later.pk]).skipped == 1
        later = fresh(later)
        assert (later.status, later.attempts) == (Status.SKIPPED, 0)
        assert later.last_error.startswith("suppressed: ")
        assert mail_server.sink.rejected[gone.email] == 1  # asked once, never again

    def test_two_emails_to_an_unknown_address_in_one_batch_try_it_once(
        self, mail_server: MailServer
    ) -> None:
        gone = UserFactory(email="gone@example.com")
        mail_server.behaviour.reject_recipient = lambda address: address == gone.email
        first, second = DeliveryFactory(recipient=gone), DeliveryFactory(recipient=gone)
        report = send_batch([first.pk, second.pk])
        assert (report.failed, report.skipped) == (1, 1)
        assert mail_server.sink.rejected[gone.email] == 1

    def test_a_lifted_suppression_lets_the_address_receive_again(
        self, mail_server: MailServer
    ) -> None:
        Suppression.objects.add("back@example.com", "550 5.1.1 gone", None)
        Suppression.objects.filter(address="back@example.com").delete()  # lifted
        [delivery] = queued_deliveries(recipient=UserFactory(email="Back@example.com"))
        assert send_batch([delivery.pk]).sent == 1


class TestDomains:
    """EMAIL_DOMAIN_RATE_LIMITS, and a destination answering busy for itself."""

    def test_a_domain_s_rate_spaces_its_emails_and_the_others_go_between(
        self, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        settings.EMAIL_DOMAIN_RATE_LIMITS = {"slow.example": 5}
        people = [
            UserFactory(email=f"{name}@{domain}")
            for name in ("a", "b", "c")
            for domain in ("slow.example", "fast.example")
        ]
        deliveries = [DeliveryFactory(recipient=person) for person in people]
        assert send_batch(pks(deliveries)).sent == 6
        slow = [m.accepted_at for m in smtp.received if "@slow" in m.rcpt_tos[0]]
        # Over the three, not between two: one message slowed on its way (a
        # loaded machine) shortens the gap after it, never the whole span.
        assert len(slow) == 3 and slow[-1] - slow[0] >= 2 * 0.2 * 0.8

    def test_a_busy_domain_waits_alone_and_its_emails_go_once_it_lifts(
        self, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 0.2
        greylisting = {"on": True}
        smtp.behaviour.defer_recipient = lambda address: (
            greylisting["on"] and address.endswith("@grey.example")
        )
        people = [
            UserFactory(email=f"{name}@{domain}")
            for name in ("a", "b")
            for domain in ("grey.example", "open.example")
        ]
        deliveries = [DeliveryFactory(recipient=person) for person in people]
        report = send_batch(pks(deliveries))
        assert (report.sent, report.waiting, report.failed) == (2, 2, 0)
        waiting = [fresh(d) for d in deliveries if "@grey" in d.address]
        assert {(d.status, d.attempts, d.waiting_for) for d in waiting} == {
            (Status.QUEUED, 0, Delivery.Wait.DOMAIN)
        }
        assert "451 4.7.1 Greylisted" in waiting[0].last_error
        assert smtp.sink.answers["451"] == 1  # the second was not even tried
        greylisting["on"] = False
        sent_eventually(waiting)
        assert len(smtp.received) == 4


class TestPauseAndCancel:
    def test_while_paused_nothing_is_sent_and_resuming_sends_it_all(
        self, smtp: SMTPServer, manager: User, broker_queue: redis.Redis,
        django_capture_on_commit_callbacks: Callable,
    ) -> None:  # fmt: skip
        assert operations.pause_sending(manager)
        deliveries = queued_deliveries(2)
        assert send_batch(pks(deliveries)).summary()["sent"] == 0
        assert [(fresh(d).status, d.attempts) for d in deliveries] == [
            (Status.QUEUED, 0), (Status.QUEUED, 0)
        ]  # fmt: skip
        with django_capture_on_commit_callbacks(execute=True):
            assert operations.resume_sending()
        assert published_ids(broker_queue) == pks(deliveries)
        assert send_batch(pks(deliveries)).sent == 2

    def test_cancelled_emails_are_never_sent(self, smtp: SMTPServer) -> None:
        kept, cancelled = queued_deliveries(2)
        assert operations.cancel([cancelled.pk]) == [cancelled.pk]
        assert send_batch([kept.pk, cancelled.pk]).sent == 1
        assert fresh(cancelled).status == Status.CANCELLED
        assert [m.rcpt_tos for m in smtp.received] == [[kept.recipient.email]]


def sent_eventually(deliveries: list[Delivery], timeout: float = 15.0) -> None:
    """Run batches, as the worker's retries would, until every row is sent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        send_batch(pks(deliveries))
        if {fresh(d).status for d in deliveries} == {Status.SENT}:
            return
        time.sleep(0.05)
    raise AssertionError([(d.status, d.last_error) for d in deliveries])


def test_a_non_smtp_backend_gets_the_message_handed_over() -> None:
    """Development's console backend and other apps' tests (locmem) still work."""
    from django.core import mail

    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).sent == 1
    assert [m.to for m in mail.outbox] == [[delivery.recipient.email]]
    assert fresh(delivery).smtp_reply.startswith("accepted by ")
