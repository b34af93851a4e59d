"""ESPs' tracking webhooks at /notifications/webhooks/<esp>/: anymail's views, with
the credentials and signatures anymail requires, land delivered, bounced and
complained events on the delivery the ESP's message id names.

The Postmark events are the shapes of Postmark's webhook documentation, naming a
message the worker really sent through the Postmark stand-in; the Mailgun one
is signed as Mailgun signs (HMAC-SHA256 of timestamp and token)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from notifications.models import Complaint, Delivery, Suppression
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, fresh, queued_deliveries
from tests.support.esp import esp_settings

pytestmark = pytest.mark.django_db
Status = Delivery.Status
SECRET = "postmark:webhook-password-for-tests"
POSTMARK = "/notifications/webhooks/postmark/"


@pytest.fixture
def sent(settings: DjangoSettings) -> Iterator[Delivery]:
    """One email the worker sent through Postmark's API (the stand-in)."""
    with PostmarkAPI() as api:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = {**esp_settings(api), "WEBHOOK_SECRET": SECRET}
        [delivery] = queued_deliveries()
        assert send_batch([delivery.pk]).sent == 1
        yield fresh(delivery)


def post(
    client: Client, payload: dict[str, Any], secret: str = SECRET, url: str = POSTMARK
) -> int:
    credentials = base64.b64encode(secret.encode()).decode()
    response = client.post(
        url,
        json.dumps(payload),
        content_type="application/json",
        headers={"Authorization": f"Basic {credentials}"},
    )
    return response.status_code


def bounce(delivery: Delivery, kind: str, details: str) -> dict[str, Any]:
    return {
        "RecordType": "Bounce",
        "MessageStream": "outbound",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "MessageID": delivery.provider_message_id,
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message.",
        "Details": details,
        "Email": delivery.address,
        "From": "noreply@example.com",
        "BouncedAt": "2026-12-01T16:33:54.9070259Z",
        "DumpAvailable": True,
        "Inactive": kind == "HardBounce",
        "CanActivate": True,
        "Subject": "Task Deleted: Old task",
    }


def test_a_delivered_event_is_noted_on_its_delivery(
    client: Client, sent: Delivery
) -> None:
    event = {
        "RecordType": "Delivery",
        "ServerID": 23,
        "MessageStream": "outbound",
        "MessageID": sent.provider_message_id,
        "Recipient": sent.address,
        "DeliveredAt": "2026-12-01T16:33:54.9070259Z",
        "Details": "smtp;250 2.0.0 OK  1701449634 x12-20020a05",
        "Metadata": {},
    }
    assert post(client, event) == 200
    delivered = fresh(sent)
    assert (delivered.status, delivered.delivered_at.isoformat()) == (
        Status.SENT,
        "2026-12-01T16:33:54.907025+00:00",
    )


def test_a_hard_bounce_marks_it_bounced_and_suppresses_the_address(
    client: Client, sent: Delivery
) -> None:
    details = "smtp;550 5.1.1 The email account that you tried to reach does not exist"
    assert post(client, bounce(sent, "HardBounce", details)) == 200
    bounced = fresh(sent)
    assert bounced.status == Status.BOUNCED
    assert bounced.last_error == f"hard bounce: Postmark: {details}"
    assert Suppression.objects.get().address == sent.address.lower()
    # The same report again (ESPs retry webhooks): nothing more happens.
    assert post(client, bounce(sent, "HardBounce", details)) == 200
    assert Suppression.objects.count() == 1


def test_a_soft_bounce_marks_it_bounced_without_suppressing(
    client: Client, sent: Delivery
) -> None:
    details = "smtp;452 4.2.2 The email account that you tried to reach is over quota"
    assert post(client, bounce(sent, "SoftBounce", details)) == 200
    assert fresh(sent).status == Status.BOUNCED
    assert fresh(sent).last_error.startswith("soft bounce: ")
    assert not Suppression.objects.exists()


def test_a_complaint_turns_off_the_person_s_notification_emails(
    client: Client, sent: Delivery
) -> None:
    complaint = {
        **bounce(sent, "SpamComplaint", ""),
        "RecordType": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
    }
    assert post(client, complaint) == 200
    assert Complaint.objects.standing().filter(user=sent.recipient).exists()
    later = DeliveryFactory(recipient=sent.recipient)
    assert send_batch([later.pk]).skipped == 1


def test_an_event_for_a_message_not_ours_changes_nothing(
    client: Client, sent: Delivery
) -> None:
    stranger = bounce(sent, "HardBounce", "smtp;550 5.1.1 unknown")
    stranger["MessageID"] = "b7bc2f4a-e38e-4336-af7d-e6c392c2f817"
    assert post(client, stranger) == 200
    assert fresh(sent).status == Status.SENT
    assert not Suppression.objects.exists()


def test_wrong_credentials_are_refused_and_change_nothing(
    client: Client, sent: Delivery
) -> None:
    event = bounce(sent, "HardBounce", "smtp;550 5.1.1 unknown")
    assert post(client, event, secret="postmark:guessed") == 400
    assert (
        client.post(POSTMARK, json.dumps(event), "application/json").status_code == 400
    )
    assert fresh(sent).status == Status.SENT


def test_without_a_secret_configured_there_are_no_webhooks(
    client: Client, settings: DjangoSettings
) -> None:
    settings.ANYMAIL = {}
    assert post(client, {"RecordType": "Delivery"}) == 404


def test_an_esp_anymail_does_not_know_is_not_found(
    client: Client, settings: DjangoSettings
) -> None:
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    url = "/notifications/webhooks/carrier-pigeon/"
    assert post(client, {}, url=url) == 404


class TestMailgunSigns:
    KEY = "mailgun-webhook-signing-key-for-tests"
    URL = "/notifications/webhooks/mailgun/"

    @pytest.fixture
    def delivery(self, settings: DjangoSettings) -> Delivery:
        settings.ANYMAIL = {
            "WEBHOOK_SECRET": SECRET,
            "MAILGUN_WEBHOOK_SIGNING_KEY": self.KEY,
        }
        return DeliveryFactory(
            status=Status.SENT,
            provider_message_id="<20261201163354.1.ABCDEF@mg.example.com>",
        )

    def failed(self, delivery: Delivery, key: str) -> dict[str, Any]:
        timestamp, token = (
            "1764606834",
            "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0",
        )
        signature = hmac.new(
            key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
        ).hexdigest()
        return {
            "signature": {
                "timestamp": timestamp,
                "token": token,
                "signature": signature,
            },
            "event-data": {
                "event": "failed",
                "severity": "permanent",
                "reason": "bounce",
                "timestamp": 1764606834.329574,
                "id": "CPgfbmQMTCKtHW6uIWtuVe",
                "recipient": delivery.address,
                "message": {
                    "headers": {"message-id": "20261201163354.1.ABCDEF@mg.example.com"}
                },
                "delivery-status": {
                    "code": 550,
                    "message": "5.1.1 The email account that you tried to reach "
                    "does not exist",
                    "description": "",
                },
            },
        }

    def test_a_signed_event_is_taken(self, client: Client, delivery: Delivery) -> None:
        assert post(client, self.failed(delivery, self.KEY), url=self.URL) == 200
        assert fresh(delivery).status == Status.BOUNCED
        assert Suppression.objects.count() == 1

    def test_a_forged_signature_is_refused(
        self, client: Client, delivery: Delivery
    ) -> None:
        forged = self.failed(delivery, "not-the-key")
        assert post(client, forged, url=self.URL) == 400
        assert fresh(delivery).status == Status.SENT
