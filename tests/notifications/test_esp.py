"""An ESP's API under the outbox through django-anymail: its test backend (the
statuses and errors anymail reports), and what each of its errors means."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from anymail.message import AnymailRecipientStatus
from anymail.signals import pre_send
from django.core import mail
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery, Suppression
from notifications.sending import send_batch
from notifications.smtp import Failure, Verdict, classify
from tests.factories import fresh, pks, queued_deliveries

pytestmark = pytest.mark.django_db
Status = Delivery.Status


@pytest.fixture
def esp(settings: DjangoSettings) -> None:
    """anymail's test backend: it keeps each message in mail.outbox, with what
    it would have posted, and answers what a test gives it."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.fixture
def answer() -> Iterator[Callable[[Any], None]]:
    """Make the test backend answer every message so: a recipient status, or an
    AnymailAPIError to raise (anymail's own way: message.anymail_test_response,
    set from its pre_send signal)."""
    answers: list[Any] = []

    def set_answer(sender: object, message: Any, **kwargs: object) -> None:
        response = answers[-1]
        if isinstance(response, str):
            status = AnymailRecipientStatus(None, response)
            response = {"recipient_status": {message.to[0]: status}}
        message.anymail_test_response = response

    pre_send.connect(set_answer, dispatch_uid="test-answer")
    yield answers.append
    pre_send.disconnect(dispatch_uid="test-answer")


def test_the_esp_gets_the_whole_email_and_its_id_is_kept(esp: None) -> None:
    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).sent == 1
    [message] = mail.outbox
    posted = message.anymail_test_params
    delivery = fresh(delivery)
    assert posted["to"][0].addr_spec == delivery.recipient.email
    assert posted["extra_headers"]["Message-ID"] == delivery.message_id
    assert (delivery.status, delivery.relay) == (Status.SENT, Delivery.Relay.PRIMARY)
    assert delivery.provider_message_id == "0"  # the test backend's id
    assert delivery.smtp_reply == "Test: sent 0"


def test_a_queued_answer_is_sent(esp: None, answer: Callable[[Any], None]) -> None:
    answer("queued")
    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).sent == 1
    assert fresh(delivery).smtp_reply.startswith("Test: queued")


@pytest.mark.parametrize("status", ["rejected", "invalid"])
def test_an_address_the_esp_refuses_is_suppressed(
    esp: None, answer: Callable[[Any], None], status: str
) -> None:
    answer(status)
    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).failed == 1
    delivery = fresh(delivery)
    assert delivery.last_error == f"{delivery.recipient.email}: {status} (Test)"
    assert Suppression.objects.get().address == delivery.recipient.email.lower()


def test_refused_even_when_anymail_is_told_to_ignore_recipient_status(
    esp: None, answer: Callable[[Any], None], settings: DjangoSettings
) -> None:
    settings.ANYMAIL = {"IGNORE_RECIPIENT_STATUS": True}
    answer("rejected")
    [delivery] = queued_deliveries()
    assert send_batch([delivery.pk]).failed == 1
    assert Suppression.objects.count() == 1


def test_a_rate_limit_makes_everyone_wait_without_an_attempt(
    esp: None, answer: Callable[[Any], None]
) -> None:
    answer(AnymailAPIError("Too many requests", status_code=429))
    deliveries = queued_deliveries(3)
    report = send_batch(pks(deliveries))
    assert (report.sent, report.failed, report.waiting) == (0, 0, 3)
    rows = [fresh(d) for d in deliveries]
    assert {(r.status, r.attempts, r.waiting_for) for r in rows} == {
        (Status.QUEUED, 0, Delivery.Wait.PROVIDER)
    }


def test_a_server_error_is_retried_and_a_client_error_fails(
    esp: None, answer: Callable[[Any], None]
) -> None:
    answer(AnymailAPIError("Service unavailable", status_code=503))
    [retried] = queued_deliveries()
    assert send_batch([retried.pk]).retry_ids == [retried.pk]
    answer(AnymailAPIError("Bad token", status_code=401))
    [failed] = queued_deliveries()
    assert send_batch([failed.pk]).failed == 1
    assert (fresh(retried).status, fresh(failed).status) == (
        Status.QUEUED,
        Status.FAILED,
    )
    assert not Suppression.objects.exists()


class TestWhatAnESPsErrorMeans:
    @pytest.mark.parametrize(
        ("error", "verdict"),
        [
            (AnymailAPIError("x", status_code=429), Verdict.PROVIDER_BUSY),
            (AnymailAPIError("x", status_code=500), Verdict.RETRY),
            (AnymailAPIError("x", status_code=502), Verdict.RETRY),
            (AnymailAPIError("x", status_code=503), Verdict.RETRY),
            (AnymailAPIError("x", status_code=400), Verdict.REJECTED),
            (AnymailAPIError("x", status_code=401), Verdict.REJECTED),
            (AnymailAPIError("x", status_code=403), Verdict.REJECTED),
            (AnymailRecipientsRefused(), Verdict.UNKNOWN_RECIPIENT),
        ],
    )
    def test_by_status(self, error: Exception, verdict: Verdict) -> None:
        assert classify(Failure.from_error(error)) is verdict
