"""sweep_outbox: re-dispatch what the broker lost or a dead worker left behind."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.utils import timezone

from notifications.models import Delivery
from tests.factories import DeliveryFactory
from worker.jobs import sweep_outbox

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def ago(seconds: float) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


def published_ids(queue: redis.Redis) -> list[int]:
    """Delivery ids in the deliver_emails jobs waiting in the real broker."""
    messages = [json.loads(raw) for raw in queue.lrange("celery", 0, -1)]
    bodies = [json.loads(base64.b64decode(m["body"])) for m in messages]
    return sorted(pk for args, _, _ in bodies for pk in args[0])


def overdue() -> Delivery:
    grace = settings.NOTIFICATIONS_SWEEP_GRACE
    return DeliveryFactory(next_attempt_at=ago(grace + 5))


def stuck(attempts: int = 1) -> Delivery:
    lease = settings.NOTIFICATIONS_LEASE
    return DeliveryFactory(
        status=Status.SENDING, claimed_at=ago(lease + 5), claim_token="dead",
        attempts=attempts,
    )  # fmt: skip


def test_it_redispatches_deliveries_queued_past_the_grace(
    broker_queue: redis.Redis,
) -> None:
    delivery = overdue()
    assert sweep_outbox.apply().get()["redispatched"] == 1
    delivery.refresh_from_db()
    assert published_ids(broker_queue) == [delivery.pk]
    # Pushed past a lease, so the next sweep does not publish it again.
    assert delivery.next_attempt_at > timezone.now()
    assert sweep_outbox.apply().get()["redispatched"] == 0


def test_it_leaves_fresh_deliveries_and_pending_retries_alone(
    broker_queue: redis.Redis,
) -> None:
    DeliveryFactory()  # just recorded: its own dispatch is on the way
    DeliveryFactory(next_attempt_at=timezone.now() + timedelta(minutes=5))  # retry
    DeliveryFactory(status=Status.SENT, next_attempt_at=ago(3600))
    DeliveryFactory(status=Status.FAILED, next_attempt_at=ago(3600))
    assert sweep_outbox.apply().get() == {"redispatched": 0, "reclaimed": 0, "dead": 0}
    assert published_ids(broker_queue) == []


def test_it_requeues_and_redispatches_rows_stuck_in_sending(
    broker_queue: redis.Redis,
) -> None:
    delivery = stuck()
    DeliveryFactory(status=Status.SENDING, claimed_at=ago(5))  # still in its lease
    summary = sweep_outbox.apply().get()
    delivery.refresh_from_db()
    assert (summary["reclaimed"], summary["redispatched"]) == (1, 1)
    assert (delivery.status, delivery.claim_token) == (Status.QUEUED, "")
    assert published_ids(broker_queue) == [delivery.pk]


def test_a_delivery_that_kept_killing_its_worker_is_failed(
    broker_queue: redis.Redis,
) -> None:
    delivery = stuck(attempts=settings.NOTIFICATIONS_MAX_ATTEMPTS)
    assert sweep_outbox.apply().get()["dead"] == 1
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert "worker stopped mid-send" in delivery.last_error
    assert published_ids(broker_queue) == []


def test_with_the_broker_down_rows_stay_due_for_the_next_sweep(
    broker_down: None,
) -> None:
    delivery = overdue()
    due = delivery.next_attempt_at
    assert sweep_outbox.apply().get()["redispatched"] == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == (Status.QUEUED, due)


def test_the_beat_schedule_runs_the_sweep_often() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-outbox"]
    assert entry["task"] == sweep_outbox.name
    assert 30 <= entry["schedule"] <= 60
