"""Providers beyond one SMTP relay, under the real processes: a Celery worker
configured from the environment alone (ESP_*, EMAIL_FALLBACK_*, DKIM_*) sends to
a stand-in for Postmark's API, falls back to a second SMTP server, signs."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path

import dkim
import pytest
import redis
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from devtools.processes import Process, start_worker
from devtools.smtp import SMTPServer, free_port
from notifications.dkim import Signer
from notifications.models import Delivery
from tests.factories import TaskFactory, UserFactory
from tests.support.processes import LOG_DIR
from users.models import Role, User

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
Status = Delivery.Status


def employees(count: int) -> list[User]:
    return UserFactory.create_batch(count, role=Role.EMPLOYEE)


def settled(expected: int, timeout: float = 30) -> list[Delivery]:
    """Wait until `expected` deliveries are sent; return them."""
    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(status=Status.SENT).count() < expected:
        assert time.monotonic() < deadline, list(Delivery.objects.values("status"))
        time.sleep(0.05)
    return list(Delivery.objects.filter(status=Status.SENT))


@pytest.fixture
def worker_with(worker_env: dict[str, str], broker_url: str) -> Iterator[list[Process]]:
    """The workers a test starts with start(): the e2e settings and its own."""
    redis.Redis.from_url(broker_url).flushdb()  # no jobs left over from other tests
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


def start(started: list[Process], env: dict[str, str], **changes: str) -> None:
    started.append(
        start_worker({**env, **changes}, LOG_DIR, concurrency=2, name="e2e-providers")
    )


def test_an_esp_takes_the_mail_and_its_webhook_reports_the_delivery(
    worker_with: list[Process], worker_env: dict[str, str], settings: DjangoSettings
) -> None:
    with PostmarkAPI() as api:
        start(
            worker_with,
            worker_env,
            EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
            ESP_API_KEY=api.token,
            ESP_API_URL=api.url,
        )
        people = employees(3)
        TaskFactory(title="Through the API", assigned_to=people)
        sent = settled(3)
        assert sorted(m.rcpt_tos[0] for m in api.wait_for(3)) == sorted(
            person.email for person in people
        )
    first = sent[0]
    assert first.smtp_reply.startswith("Postmark: sent ")
    settings.ANYMAIL = {"WEBHOOK_SECRET": "esp:webhook-secret"}
    event = {
        "RecordType": "Delivery",
        "MessageID": first.provider_message_id,
        "Recipient": first.address,
        "DeliveredAt": "2026-12-04T10:00:00Z",
        "Details": "smtp;250 2.0.0 OK",
    }
    answer = Client().post(
        "/notifications/webhooks/postmark/",
        json.dumps(event),
        content_type="application/json",
        headers={
            "Authorization": "Basic " + base64.b64encode(b"esp:webhook-secret").decode()
        },
    )
    assert answer.status_code == 200
    first.refresh_from_db()
    assert first.delivered_at is not None


def test_with_the_primary_gone_the_fallback_relay_carries_the_mail(
    worker_with: list[Process], worker_env: dict[str, str], smtp_server: SMTPServer
) -> None:
    start(
        worker_with,
        worker_env,
        EMAIL_PORT=str(free_port()),  # nothing listens: the primary is down
        EMAIL_FALLBACK_HOST="127.0.0.1",
        EMAIL_FALLBACK_PORT=str(smtp_server.port),
        EMAIL_FALLBACK_USE_TLS="False",
    )
    people = employees(4)
    TaskFactory(title="By the other road", assigned_to=people)
    sent = settled(4)
    assert {delivery.relay for delivery in sent} == {Delivery.Relay.FALLBACK}
    assert {delivery.attempts for delivery in sent} == {1}
    assert len(smtp_server.wait_for(4)) == 4


def test_the_worker_signs_with_the_configured_key(
    worker_with: list[Process],
    worker_env: dict[str, str],
    smtp_server: SMTPServer,
    tmp_path: Path,
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,  # as openssl genrsa writes
        serialization.NoEncryption(),
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    start(
        worker_with,
        worker_env,
        DKIM_DOMAIN="example.com",
        DKIM_SELECTOR="e2e",
        DKIM_PRIVATE_KEY=str(tmp_path / "dkim.pem"),
    )
    TaskFactory(title="Signed", assigned_to=employees(1))
    [received] = smtp_server.wait_for(1)
    record = Signer("example.com", "e2e", pem).record.encode()
    assert dkim.verify(received.raw, dnsfunc=lambda name, timeout=5: record)
