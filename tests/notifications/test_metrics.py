"""/metrics: Prometheus text behind a bearer token, gauges from the outbox,
counters and the SMTP histogram added up in Redis by every worker process."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications.models import Delivery
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, pks, queued_deliveries

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests"


@pytest.fixture
def token(settings: DjangoSettings) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client, token: str | None = TOKEN) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.text


def value(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}\{{{re.escape(wanted)}\}} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name}{{{wanted}}} not in the metrics"
    return float(found.group(1))


def test_without_a_configured_token_there_is_no_such_page(
    client: Client, settings: DjangoSettings
) -> None:
    settings.METRICS_TOKEN = ""
    assert (
        client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404
    )


def test_a_missing_or_wrong_token_gets_404(client: Client, token: str) -> None:
    assert client.get("/metrics").status_code == 404
    headers = {"Authorization": "Bearer not-the-token"}
    assert client.get("/metrics", headers=headers).status_code == 404


def test_the_gauges_count_the_outbox_and_age_the_oldest_due_row(
    client: Client, token: str
) -> None:
    queued_deliveries(3)
    DeliveryFactory(status=Delivery.Status.FAILED)
    DeliveryFactory(next_attempt_at=timezone.now() - timedelta(seconds=120))
    text = scrape(client)
    queued = value(
        text, "notifications_deliveries", status="queued", kind="task_deleted"
    )
    assert queued == 4
    assert (
        value(text, "notifications_deliveries", status="failed", kind="task_deleted")
        == 1
    )
    age = float(
        re.search(r"^notifications_oldest_due_age_seconds (\S+)$", text, re.M)[1]
    )
    assert 119 <= age < 180


def test_counters_and_the_send_time_histogram_add_up_across_batches(
    client: Client, token: str, smtp: SMTPServer
) -> None:
    send_batch(pks(queued_deliveries(2)))
    send_batch(pks(queued_deliveries(1)))  # another process would add the same way
    smtp.behaviour.reject_recipient = lambda address: True
    send_batch(pks(queued_deliveries(1)))
    text = scrape(client)
    sent = value(
        text, "notifications_emails_total", outcome="sent", kind="task_deleted"
    )
    failed = value(
        text, "notifications_emails_total", outcome="failed", kind="task_deleted"
    )
    assert (sent, failed) == (3, 1)
    assert value(text, "notifications_smtp_send_seconds_bucket", le="+Inf") == 3
    assert re.search(r"^notifications_smtp_send_seconds_count 3\.0$", text, re.M)
    assert "@example.com" not in text  # no address, ever


def test_the_kinds_of_who_is_told_are_counted_and_so_are_their_skips(
    client: Client, token: str, smtp: SMTPServer
) -> None:
    from notifications.mutes import mute
    from tasks.activity import add_comment
    from tests.factories import ManagerFactory, TaskFactory, UserFactory

    boss, ann, author = ManagerFactory(username="boss"), UserFactory(), ManagerFactory()
    task = TaskFactory(assigned_to=[ann])
    mute(ann.pk, task.pk)
    add_comment(task, author, "@boss have a look")
    send_batch(list(Delivery.objects.values_list("pk", flat=True)))
    text = scrape(client)
    assert (
        value(text, "notifications_emails_total", outcome="sent", kind="mentioned") == 1
    )
    assert (
        value(
            text, "notifications_emails_total", outcome="skipped", kind="task_commented"
        )
        == 1
    )
    for kind in ("status_changed", "task_created"):
        assert value(text, "notifications_deliveries", status="queued", kind=kind) == 0
    assert boss.pk
