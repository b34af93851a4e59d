"""The Celery jobs, run as a worker runs them, against a real SMTP server and
the real broker: ids in, counts out, transient failures retried as a new run."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import redis
from celery.exceptions import Retry
from django.conf import settings
from django.utils import timezone
from django_celery_results.models import TaskResult
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer, free_port
from notifications.models import Delivery, DigestSchedule
from tests.factories import (
    DeliveryFactory,
    EmployeeFactory,
    TaskFactory,
    fresh,
    pks,
    queued_deliveries,
)
from tests.support.broker import published_ids, queued_jobs
from worker import releases
from worker.jobs import (
    deliver_emails,
    publish_deliveries,
    purge_outbox,
    release_deliveries,
    release_moment,
    sweep_outbox,
)

pytestmark = pytest.mark.django_db
Status = Delivery.Status


def gathered(delivery_ids: list[int], queue: str = "bulk") -> tuple[str, int]:
    """A release job's arguments, its ids gathered as a request gathers them."""
    moment = releases.gather(delivery_ids, queue, 0.001)
    assert moment is not None
    return queue, moment


@pytest.fixture
def still_clock(monkeypatch: pytest.MonkeyPatch) -> float:
    """The releases' clock stopped, so calls one after another fall due in the
    same moment however long the test takes between them."""
    now = time.time()
    monkeypatch.setattr(releases, "time", SimpleNamespace(time=lambda: now))
    return now


def test_each_row_names_the_job_run_that_claimed_it(smtp: SMTPServer) -> None:
    deliveries = queued_deliveries(2)
    result = deliver_emails.apply(args=[pks(deliveries)])
    assert [fresh(d).job_id for d in deliveries] == [result.id, result.id]


def test_the_job_returns_counts_and_no_address(smtp: SMTPServer) -> None:
    [delivery] = queued_deliveries()
    result = deliver_emails.apply(args=[[delivery.pk]])
    assert result.get() == {
        "sent": 1,
        "failed": 0,
        "skipped": 0,
        "held": 0,
        "waiting": 0,
        "retrying": 0,
    }
    assert delivery.recipient.email not in str(result.get())


def test_running_the_job_twice_sends_once(smtp: SMTPServer) -> None:
    deliveries = queued_deliveries(3)
    deliver_emails.apply(args=[pks(deliveries)])
    second = deliver_emails.apply(args=[pks(deliveries)])
    assert second.get()["sent"] == 0
    assert len(smtp.received) == 3


def test_the_job_requeues_just_the_transient_ids_with_a_countdown(
    smtp: SMTPServer, broker_queue: redis.Redis
) -> None:
    smtp.behaviour.mode = "tempfail"
    [transient] = queued_deliveries()
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
    [message] = queued_jobs(broker_queue, "bulk")
    args = json.loads(base64.b64decode(message["body"]))[0]
    assert args == [[transient.pk]]
    assert (message["headers"]["retries"], bool(message["headers"]["eta"])) == (
        1, True
    )  # fmt: skip


def test_a_row_waiting_for_its_window_goes_in_a_job_due_when_the_window_ends(
    broker_queue: redis.Redis, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    [delivery] = queued_deliveries()  # about a task: it waits for more changes
    assert deliver_emails.apply(args=[[delivery.pk]]).get()["waiting"] == 1
    [message] = queued_jobs(broker_queue, "bulk")
    assert published_ids(broker_queue) == [delivery.pk]
    due = datetime.fromisoformat(message["headers"]["eta"])
    assert fresh(delivery).not_before <= due <= timezone.now() + timedelta(seconds=121)
    assert message["headers"]["task"] == "notifications.release_moment"


def test_a_change_to_a_task_is_published_for_when_its_window_ends(
    broker_queue: redis.Redis,
    settings: DjangoSettings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """No worker claims the email only to hand it back: its job is due when
    the window ends, and the sweep leaves it alone until then."""
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    task, person = TaskFactory(), EmployeeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        task.assigned_to.add(person)
    [delivery] = Delivery.objects.all()
    [message] = queued_jobs(broker_queue, "bulk")
    assert message["headers"]["task"] == "notifications.release_moment"
    assert published_ids(broker_queue) == [delivery.pk]
    due = datetime.fromisoformat(message["headers"]["eta"])
    window_end = delivery.created_at + timedelta(seconds=120)
    assert abs(due - window_end) < timedelta(seconds=1)
    assert sweep_outbox.apply().get()["redispatched"] == 0
    assert fresh(delivery).attempts == 0


def test_a_reader_who_wants_each_change_at_once_is_published_at_once(
    broker_queue: redis.Redis,
    settings: DjangoSettings,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    task, person = TaskFactory(), EmployeeFactory()
    DigestSchedule.objects.create(user=person, coalesce_seconds=0)
    with django_capture_on_commit_callbacks(execute=True):
        task.assigned_to.add(person)
    [message] = queued_jobs(broker_queue, "bulk")
    assert message["headers"]["task"] == "notifications.deliver_emails"
    assert message["headers"]["eta"] is None


def test_rows_whose_time_came_join_their_lane_behind_account_emails(
    broker_queue: redis.Redis,
) -> None:
    """Released when due, as a job of the lane (no time of its own): a worker
    takes account emails first, rather than running it the moment it is due."""
    [delivery] = queued_deliveries()
    assert release_moment.apply(args=gathered([delivery.pk])).get() == 1
    [message] = queued_jobs(broker_queue, "bulk")
    assert message["headers"]["task"] == "notifications.deliver_emails"
    assert message["headers"]["eta"] is None
    assert published_ids(broker_queue) == [delivery.pk]


def test_rows_taken_before_their_release_get_no_job_of_their_own(
    broker_queue: redis.Redis,
) -> None:
    """A run with room took them as companions once due: nothing is left for
    a job to do."""
    taken, waiting = queued_deliveries(2)
    Delivery.objects.claim([taken.pk])
    assert release_moment.apply(args=gathered([taken.pk, waiting.pk])).get() == 1
    assert published_ids(broker_queue) == [waiting.pk]


def test_a_release_that_runs_a_moment_early_is_released_again_then(
    broker_queue: redis.Redis,
) -> None:
    """The clocks of two machines differ: a row whose time is still two
    seconds away gets a release due then, not a job that would find it early
    and leave it to the sweep."""
    [delivery] = queued_deliveries()
    its_time = timezone.now() + timedelta(seconds=2)
    Delivery.objects.filter(pk=delivery.pk).update(not_before=its_time)
    assert release_moment.apply(args=gathered([delivery.pk])).get() == 0
    [message] = queued_jobs(broker_queue, "bulk")
    assert message["headers"]["task"] == "notifications.release_moment"
    assert published_ids(broker_queue) == [delivery.pk]
    due = datetime.fromisoformat(message["headers"]["eta"])
    assert its_time <= due <= its_time + timedelta(seconds=1)


def test_requests_in_the_same_moment_share_one_release(
    broker_queue: redis.Redis, still_clock: float
) -> None:
    """A burst publishes a release per moment its rows fall due in, not one per
    request; the release publishes them all, in one job."""
    first, second, third = queued_deliveries(3)
    for delivery in (first, second, third):
        publish_deliveries([delivery.pk], countdown=60)
    [message] = queued_jobs(broker_queue, "bulk")
    assert message["headers"]["task"] == "notifications.release_moment"
    assert published_ids(broker_queue) == pks([first, second, third])
    broker_queue.delete("bulk")
    args = json.loads(base64.b64decode(message["body"]))[0]
    assert release_moment.apply(args=args).get() == 3
    [job] = queued_jobs(broker_queue, "bulk")
    assert job["headers"]["task"] == "notifications.deliver_emails"
    assert published_ids(broker_queue) == pks([first, second, third])


def test_ids_gathered_after_their_moment_was_released_get_a_release_of_their_own(
    broker_queue: redis.Redis, still_clock: float
) -> None:
    """A request that reaches a moment its release already took publishes the
    release again: no id waits in a list nobody will read."""
    early, late = queued_deliveries(2)
    moment = releases.gather([early.pk], "bulk", 0.1)
    assert moment is not None
    assert releases.take("bulk", moment) == [early.pk]
    assert releases.gather([late.pk], "bulk", 0.1) == moment
    assert releases.take("bulk", moment) == [late.pk]


def test_released_account_emails_stay_in_their_lane(
    broker_queue: redis.Redis,
) -> None:
    [activation] = queued_deliveries(kind=Delivery.Kind.ACTIVATION, context={})
    assert release_moment.apply(args=gathered([activation.pk], "priority")).get() == 1
    [message] = queued_jobs(broker_queue, "priority")
    assert message["headers"]["task"] == "notifications.deliver_emails"
    assert queued_jobs(broker_queue, "bulk") == []


def test_a_release_published_before_releases_were_gathered_still_runs(
    broker_queue: redis.Redis,
) -> None:
    """A job that carries its ids, as they were published before, may still
    wait in the broker during a deploy: its rows still go."""
    [delivery] = queued_deliveries()
    assert release_deliveries.apply(args=[[delivery.pk]]).get() == 1
    assert published_ids(broker_queue) == [delivery.pk]


def test_with_redis_unreachable_rows_due_later_stay_queued_for_the_sweep(
    broker_queue: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is gathered and nothing raises: the request goes on, and the
    sweep publishes the rows once past due."""
    unreachable = redis.Redis(port=free_port(), socket_connect_timeout=1)
    monkeypatch.setattr(releases, "redis_client", lambda: unreachable)
    [delivery] = queued_deliveries()
    assert publish_deliveries([delivery.pk], countdown=60) == []
    assert fresh(delivery).status == Status.QUEUED
    assert queued_jobs(broker_queue) == []


def test_the_job_retries_until_every_email_arrived_exactly_once(
    smtp: SMTPServer, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 20
    smtp.behaviour.tempfail_rate = 0.5
    smtp.behaviour.random.seed(3)
    deliveries = queued_deliveries(8)
    deliver_emails.apply(args=[pks(deliveries)])  # eager: retries run at once
    addresses = sorted(address for m in smtp.received for address in m.rcpt_tos)
    assert addresses == sorted(d.recipient.email for d in deliveries)
    assert {fresh(d).status for d in deliveries} == {Status.SENT}
    assert max(d.attempts for d in deliveries) > 1


def test_after_the_last_attempt_the_delivery_is_failed(
    smtp: SMTPServer, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    smtp.behaviour.mode = "tempfail"
    [delivery] = queued_deliveries()
    deliver_emails.apply(args=[[delivery.pk]])
    delivery = fresh(delivery)
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 3)
    assert delivery.last_error.startswith("Gave up after 3 attempts: 450")
    assert smtp.sink.answers["450"] == 3


def test_554_at_data_fails_at_once_with_the_reason(smtp: SMTPServer) -> None:
    smtp.behaviour.mode = "permfail"
    [delivery] = queued_deliveries()
    result = deliver_emails.apply(args=[[delivery.pk]])
    delivery = fresh(delivery)
    assert result.get()["failed"] == 1
    assert (delivery.status, delivery.attempts) == (Status.FAILED, 1)
    assert delivery.last_error == "554 5.7.1 Message rejected"


# The sweep ---------------------------------------------------------------------


def ago(seconds: float) -> timezone.datetime:
    return timezone.now() - timedelta(seconds=seconds)


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


# Retention ----------------------------------------------------------------------


def test_the_nightly_purge_deletes_old_finished_rows_and_keeps_the_rest(
    settings: DjangoSettings,
) -> None:
    settings.NOTIFICATIONS_RETENTION_DAYS = 90
    long_ago = timezone.now() - timedelta(days=91)
    old = [DeliveryFactory(status=status) for status in
           (Status.SENT, Status.SKIPPED, Status.CANCELLED)]  # fmt: skip
    old_failed = DeliveryFactory(status=Status.FAILED)
    Delivery.objects.filter(pk__in=pks([*old, old_failed])).update(updated_at=long_ago)
    recent = DeliveryFactory(status=Status.SENT)
    expired = TaskResult.objects.create(task_id="old-job", status="SUCCESS")
    TaskResult.objects.filter(pk=expired.pk).update(date_done=long_ago)
    fresh_result = TaskResult.objects.create(task_id="new-job", status="SUCCESS")
    assert purge_outbox.apply().get() == {"deliveries": 3, "job_results": 1}
    assert set(Delivery.objects.values_list("pk", flat=True)) == {
        old_failed.pk, recent.pk
    }  # fmt: skip
    assert list(TaskResult.objects.values_list("pk", flat=True)) == [fresh_result.pk]


def test_the_purge_works_in_small_batches() -> None:
    rows = DeliveryFactory.create_batch(5, status=Status.SENT)
    before = timezone.now() + timedelta(seconds=1)
    assert Delivery.objects.purge_finished(before, batch=2) == 5
    assert not Delivery.objects.filter(pk__in=pks(rows)).exists()
