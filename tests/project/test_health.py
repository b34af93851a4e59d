from __future__ import annotations

from datetime import timedelta

from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from tests.factories import DeliveryFactory


def test_healthz_reports_database_broker_and_outbox(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok", "database": True, "broker": True, "rate_limits": "off",
        "outbox": {"oldest_due_age_seconds": 0.0, "lagging": False},
    }  # fmt: skip


def test_a_lagging_outbox_is_reported_but_the_web_stays_up(
    client: Client, db: None, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_LAG_THRESHOLD = 600
    DeliveryFactory(next_attempt_at=timezone.now() - timedelta(minutes=15))
    response = client.get("/healthz")
    assert response.status_code == 200
    outbox = response.json()["outbox"]
    assert outbox["lagging"] is True
    assert 899 <= outbox["oldest_due_age_seconds"] < 960


def test_healthz_answers_503_when_the_broker_is_down(
    client: Client, db: None, settings: DjangoSettings
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] is False
