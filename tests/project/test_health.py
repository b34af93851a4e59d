from __future__ import annotations

from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings


def test_healthz_reports_database_and_broker_up(client: Client, db: None) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


def test_healthz_answers_503_when_the_broker_is_down(
    client: Client, db: None, settings: DjangoSettings
) -> None:
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"] is False
