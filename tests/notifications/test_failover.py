"""Failover: with EMAIL_FALLBACK_* set, the fallback relay carries the mail while
the primary cannot be reached or keeps answering busy, and the primary takes it
back once a probe finds it well. Two real SMTP servers on loopback (and the
Postmark stand-in as a primary); the shared state is in the real Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.esp import PostmarkAPI
from devtools.smtp import SMTPServer, free_port
from notifications.metrics import exposition
from notifications.models import Delivery
from notifications.pace import DOWN_KEY
from notifications.sending import send_batch
from tests.factories import fresh, pks, queued_deliveries
from tests.support.esp import esp_settings

pytestmark = pytest.mark.django_db
Status, Relay = Delivery.Status, Delivery.Relay


@pytest.fixture
def fallback(settings: DjangoSettings) -> Iterator[SMTPServer]:
    """The fallback relay, and a primary on a port nothing listens on (yet)."""
    settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    settings.NOTIFICATIONS_FAILOVER_PROBE = 0.3
    with SMTPServer() as server:
        settings.EMAIL_FALLBACK_HOST, settings.EMAIL_FALLBACK_PORT = (
            "127.0.0.1",
            server.port,
        )
        settings.EMAIL_FALLBACK_USE_TLS = settings.EMAIL_FALLBACK_USE_SSL = False
        settings.EMAIL_FALLBACK_USER = settings.EMAIL_FALLBACK_PASSWORD = ""
        yield server


@pytest.fixture
def primary(settings: DjangoSettings, fallback: SMTPServer) -> Iterator[SMTPServer]:
    """A primary answering on EMAIL_PORT."""
    with SMTPServer(port=settings.EMAIL_PORT) as server:
        yield server


def relays(deliveries: list[Delivery]) -> list[str]:
    return [fresh(d).relay for d in deliveries]


def wait_until(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_without_a_fallback_an_unreachable_primary_means_retrying(
    smtp: SMTPServer, settings: DjangoSettings
) -> None:
    settings.EMAIL_PORT = free_port()
    deliveries = queued_deliveries(2)
    assert sorted(send_batch(pks(deliveries)).retry_ids) == pks(deliveries)


def test_an_unreachable_primary_hands_every_email_to_the_fallback_at_once(
    fallback: SMTPServer,
) -> None:
    deliveries = queued_deliveries(3)
    report = send_batch(pks(deliveries))
    assert (report.sent, report.retry_ids) == (3, [])
    assert relays(deliveries) == [Relay.FALLBACK] * 3
    assert {fresh(d).attempts for d in deliveries} == {1}  # nothing spent on it
    assert len(fallback.received) == 3
    text = exposition().decode()
    assert (
        'notifications_emails_sent_by_relay_total{kind="task_deleted",'
        'relay="fallback"} 3.0' in text
    )


def test_every_worker_keeps_to_the_fallback_until_the_probe(
    fallback: SMTPServer, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_FAILOVER_PROBE = 30
    send_batch(pks(queued_deliveries(1)))  # finds the primary down
    with SMTPServer(port=settings.EMAIL_PORT) as primary:  # back, but not yet seen
        later = queued_deliveries(2)
        assert send_batch(pks(later)).sent == 2
        assert relays(later) == [Relay.FALLBACK] * 2
        assert primary.received == []


def test_a_probe_finds_the_primary_back_and_every_worker_returns_to_it(
    fallback: SMTPServer, settings: DjangoSettings, broker_url: str
) -> None:
    send_batch(pks(queued_deliveries(1)))  # finds the primary down
    shared = redis.Redis.from_url(broker_url)
    with SMTPServer(port=settings.EMAIL_PORT) as primary:
        wait_until(lambda: not shared.exists(DOWN_KEY))  # the probe is due
        later = queued_deliveries(3)
        assert send_batch(pks(later)).sent == 3
        assert relays(later) == [Relay.PRIMARY] * 3
        assert len(primary.received) == 3
    assert len(fallback.received) == 1


def test_a_probe_that_finds_the_primary_still_down_waits_twice_as_long(
    fallback: SMTPServer, broker_url: str
) -> None:
    shared = redis.Redis.from_url(broker_url)
    send_batch(pks(queued_deliveries(1)))
    assert 0 < shared.pttl(DOWN_KEY) <= 300
    wait_until(lambda: not shared.exists(DOWN_KEY))
    later = queued_deliveries(2)
    assert send_batch(pks(later)).sent == 2  # the probe's email too
    assert relays(later) == [Relay.FALLBACK] * 2
    assert 300 < shared.pttl(DOWN_KEY) <= 600


def test_a_primary_that_keeps_answering_busy_hands_over_after_its_cool_down(
    primary: SMTPServer, fallback: SMTPServer, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 0.1
    primary.behaviour.mode = "busy"
    deliveries = queued_deliveries(3)
    first = send_batch(pks(deliveries))  # one busy reply: a cool-down, as ever
    assert (first.sent, first.waiting) == (0, 3)
    deadline = time.monotonic() + 10
    while {fresh(d).status for d in deliveries} != {Status.SENT}:
        assert time.monotonic() < deadline
        send_batch(pks(deliveries))  # as the retry job would, after the pause
        time.sleep(0.02)
    assert relays(deliveries) == [Relay.FALLBACK] * 3
    assert primary.sink.answers["451"] == 2  # busy again: then never asked
    assert {fresh(d).attempts for d in deliveries} == {1}


def test_an_esp_that_cannot_be_reached_hands_over_to_the_smtp_fallback(
    fallback: SMTPServer, settings: DjangoSettings
) -> None:
    with PostmarkAPI() as api:
        settings.EMAIL_BACKEND = "anymail.backends.postmark.EmailBackend"
        settings.ANYMAIL = esp_settings(api)
    deliveries = queued_deliveries(2)  # the API is gone now
    assert send_batch(pks(deliveries)).sent == 2
    assert relays(deliveries) == [Relay.FALLBACK] * 2
    assert len(fallback.received) == 2
