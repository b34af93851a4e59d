"""The whole pipeline: this process is the web side (real commits), a real Celery
worker process sends over SMTP, and the emails are counted at the SMTP server."""

from __future__ import annotations

import datetime
import re
import time
from collections import Counter
from urllib.parse import urlsplit

import pytest
import redis
from django.conf import settings
from django.test import Client
from django_celery_results.models import TaskResult
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import Process, start_worker
from devtools.smtp import Received, SMTPServer
from notifications import mutes
from notifications.contexts import written
from notifications.models import Delivery, DigestSchedule, Preference
from tasks.activity import add_comment
from tasks.models import Task
from tests.factories import TaskFactory, UserFactory
from tests.support.broker import broker_idle, point_publisher_at
from tests.support.mail import arrived, outbox_settled
from tests.support.processes import LOG_DIR, SharedWorker
from tests.support.waiting import wait_until
from users.models import Role, User
from worker.jobs import send_digests, sweep_outbox

# Serialized rollback: the role groups from the data migration are there, and a
# later serialized_rollback test does not trip over content types re-created by a
# post_migrate after our flush.
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
Status = Delivery.Status


def employees(count: int) -> list[User]:
    return UserFactory.create_batch(count, role=Role.EMPLOYEE)


def subjects_by_address(messages: list[Received]) -> Counter[tuple[str, str]]:
    return Counter((m.rcpt_tos[0], m.subject) for m in messages)


def statuses() -> set[str]:
    return set(Delivery.objects.values_list("status", flat=True))


def test_sign_up_sends_an_activation_link_that_works(
    worker: Process, smtp_server: SMTPServer
) -> None:
    client = Client()
    password = "Str0ng#Pass"
    client.post("/users/sign-up/", {
        "username": "newcomer", "first_name": "Nina", "last_name": "Newcomer",
        "email": "nina@example.com", "password1": password, "password2": password,
    })  # fmt: skip
    [message] = arrived(smtp_server, 1)
    assert message.rcpt_tos == ["nina@example.com"]
    link = re.search(r"https?://\S+/users/activate/\S+/", message.body()).group(0)
    assert link.startswith(settings.FRONTEND_URL)
    response = client.post(urlsplit(link).path)
    assert response.status_code == 302
    assert User.objects.get(username="newcomer").is_active


def test_an_activation_email_overtakes_a_backlog_of_notifications(
    worker: Process, smtp_server: SMTPServer
) -> None:
    """The fast lane: a sign-up during a burst of 200 assignment emails, the
    server taking 50 ms a message, is mailed within seconds, not after the burst."""
    smtp_server.behaviour.delay = 0.05
    people = employees(40)
    for number in range(5):
        TaskFactory(title=f"Bulk {number}", assigned_to=people)
    smtp_server.wait_for(4)  # the backlog is being worked through
    started = time.monotonic()
    Client().post("/users/sign-up/", {
        "username": "hasty", "first_name": "Hal", "last_name": "Hasty",
        "email": "hal@example.com", "password1": "Str0ng#Pass",
        "password2": "Str0ng#Pass",
    })  # fmt: skip
    activation = wait_for_message_to(smtp_server, "hal@example.com", timeout=30)
    waited = activation.accepted_at - started
    everything = smtp_server.wait_for(201, timeout=60)
    after = [m for m in everything if m.accepted_at > activation.accepted_at]
    assert waited < 5.0, f"the activation email waited {waited:.1f} s"
    assert len(after) >= 50  # it did not wait for the backlog
    assert len(smtp_server.received) == 201


def wait_for_message_to(smtp: SMTPServer, address: str, timeout: float) -> Received:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in list(smtp.received) if address in m.rcpt_tos]
        if found:
            return found[0]
        time.sleep(0.02)
    raise AssertionError(f"no email to {address} within {timeout} s")


def test_assigning_and_deleting_tell_exactly_the_right_people(
    worker: Process, smtp_server: SMTPServer
) -> None:
    first_three, fourth = employees(3), employees(1)[0]
    task = TaskFactory(title="Ship it")
    task.assigned_to.add(*first_three)
    assigned = arrived(smtp_server, 3)
    assert {m.rcpt_tos[0] for m in assigned} == {u.email for u in first_three}
    subject = f"[{task.project.name}] Ship it (#{task.pk})"  # the task's thread
    assert all(m.subject == subject for m in assigned)

    task.assigned_to.add(*first_three, fourth)  # only the fourth is new
    assert arrived(smtp_server, 4)[-1].rcpt_tos == [fourth.email]

    smtp_server.sink.clear()
    Task.objects.get(pk=task.pk).delete()
    deleted = arrived(smtp_server, 4)
    everyone = {u.email for u in [*first_three, fourth]}
    assert subjects_by_address(deleted) == Counter(
        {(email, subject): 1 for email in everyone}
    )
    assert statuses() == {Status.SENT}
    # Three changes, three job runs: each row names the run that sent it.
    job_ids = set(Delivery.objects.values_list("job_id", flat=True))
    results = TaskResult.objects.filter(task_id__in=job_ids)
    names = set(results.values_list("task_name", flat=True))
    assert (len(job_ids), results.count(), names) == (
        3, 3, {"notifications.deliver_emails"}
    )  # fmt: skip


def test_with_smtp_failing_transiently_every_email_arrives_exactly_once(
    worker: Process, smtp_server: SMTPServer
) -> None:
    smtp_server.behaviour.tempfail_rate = 0.5
    smtp_server.behaviour.random.seed(11)
    people = employees(8)
    TaskFactory(title="Flaky", assigned_to=people)
    messages = arrived(smtp_server, 8, timeout=60)
    assert sorted(m.rcpt_tos[0] for m in messages) == sorted(u.email for u in people)
    assert smtp_server.sink.answers["450"] > 0  # the failures really happened
    assert statuses() == {Status.SENT}
    assert max(Delivery.objects.values_list("attempts", flat=True)) > 1


def test_a_550_fails_at_once_and_the_log_shows_why(
    worker: Process, smtp_server: SMTPServer
) -> None:
    good, bad = employees(2)
    smtp_server.behaviour.reject_recipient = lambda address: address == bad.email
    TaskFactory(assigned_to=[good, bad])
    arrived(smtp_server, 1)
    failed = wait_for_status(bad, Status.FAILED)
    assert failed.attempts == 1
    assert "550 5.1.1" in failed.last_error
    client = Client()
    client.force_login(UserFactory(role=Role.MANAGER))
    page = client.get("/notifications/", {"status": "failed"})
    assert "550 5.1.1" in page.text


def test_with_redis_unreachable_at_commit_the_sweep_delivers_later(
    worker: Process, smtp_server: SMTPServer, request: pytest.FixtureRequest,
    settings: DjangoSettings,
) -> None:  # fmt: skip
    request.getfixturevalue("broker_down")
    people = employees(3)
    started = time.monotonic()
    TaskFactory(title="While Redis was down", assigned_to=people)
    assert time.monotonic() - started < 5  # the "request" neither failed nor hung
    # No job reached the broker, so the worker has nothing to send.
    assert broker_idle(redis.Redis.from_url(request.getfixturevalue("broker_url")))
    assert smtp_server.received == []
    assert statuses() == {Status.QUEUED}

    bring_broker_back(request)
    settings.NOTIFICATIONS_SWEEP_GRACE = 0  # the beat sweep, without the wait
    assert sweep_outbox.apply().get()["redispatched"] == 3
    messages = arrived(smtp_server, 3)
    assert sorted(m.rcpt_tos[0] for m in messages) == sorted(u.email for u in people)


def bring_broker_back(request: pytest.FixtureRequest) -> None:
    point_publisher_at(request.getfixturevalue("broker_url"))


def wait_for_status(user: User, status: str, timeout: float = 20) -> Delivery:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        delivery = Delivery.objects.filter(recipient=user).first()
        if delivery and delivery.status == status:
            return delivery
        time.sleep(0.1)
    raise AssertionError(f"{user} never reached {status}: {delivery}")


def test_a_worker_killed_mid_batch_loses_nothing(
    worker: Process, shared_worker: SharedWorker, worker_env: dict[str, str],
    smtp_server: SMTPServer, settings: DjangoSettings,
) -> None:  # fmt: skip
    smtp_server.behaviour.delay = 0.5  # seconds per message: time to kill it
    people = employees(5)
    TaskFactory(title="Interrupted", assigned_to=people)
    smtp_server.wait_for(2, timeout=30)
    worker.kill()  # SIGKILL, mid-batch: the rest of the batch is left in "sending"
    assert Delivery.objects.filter(status=Status.SENDING).exists()

    smtp_server.behaviour.delay = 0
    shared_worker.running(worker_env)  # a new worker in the dead one's place
    settings.NOTIFICATIONS_LEASE = 0  # the lease of the dead run is over
    assert sweep_outbox.apply().get()["reclaimed"] > 0
    smtp_server.wait_for(5, timeout=30)
    wait_until(outbox_settled, 30, "every delivery sent")
    copies = Counter(address for m in smtp_server.received for address in m.rcpt_tos)
    assert set(copies) == {u.email for u in people}  # nothing lost
    # At most the one message in flight when the worker died is sent twice.
    assert sum(copies.values()) - len(people) <= 1
    assert statuses() == {Status.SENT}


def test_a_daily_digest_goes_once_with_every_event_across_a_worker_restart(
    worker: Process, worker_env: dict[str, str], smtp_server: SMTPServer
) -> None:
    """A reader on the daily digest: the worker holds each event, a restarted
    worker sends one digest with all of them, and nothing goes out alone."""
    reader = employees(1)[0]
    for kind in (Delivery.Kind.TASK_ASSIGNED, Delivery.Kind.TASK_DELETED):
        Preference.objects.create(user=reader, kind=kind, mode=Preference.Mode.DIGEST)
    DigestSchedule.objects.create(user=reader, send_at=datetime.time(0, 0))
    for title in ("Alpha", "Beta", "Gamma"):
        TaskFactory(title=title, assigned_to=[reader])
    wait_until(lambda: Delivery.objects.filter(status=Status.HELD).count() == 3)
    worker.stop()
    restarted = start_worker(worker_env, LOG_DIR, name="e2e-worker-restarted")
    try:
        assert send_digests.apply().get() == 1
        [digest] = arrived(smtp_server, 1)
        assert send_digests.apply().get() == 0  # one a day
    finally:
        restarted.stop()
    day = Delivery.objects.get(kind=Delivery.Kind.DIGEST).context["day"]
    assert digest.subject == f"Your daily digest for {written(day)}: 3 updates"
    assert all(title in digest.body() for title in ("Alpha", "Beta", "Gamma"))
    assert digest.rcpt_tos == [reader.email]
    assert statuses() == {Status.BUNDLED, Status.SENT}


def test_a_mention_reaches_a_non_assignee_once_and_a_muted_task_stays_quiet(
    worker: Process, smtp_server: SMTPServer
) -> None:
    """Through the real worker: the person mentioned is told once (then
    watches), and the assignee who muted the task hears nothing more."""
    ann = employees(1)[0]
    boss = UserFactory(username="boss", role=Role.MANAGER)
    carl = UserFactory(role=Role.MANAGER)
    task = TaskFactory(title="Harbour lights", assigned_to=[ann])
    arrived(smtp_server, 1)
    add_comment(task, carl, "@boss can you sign this off?")
    two = arrived(smtp_server, 3)[1:]
    assert sorted((m.rcpt_tos[0], m.message["X-Tasks-Reason"]) for m in two) == sorted(
        [(boss.email, "mentioned"), (ann.email, "assigned")]
    )
    mutes.mute(ann.pk, task.pk)
    add_comment(task, carl, "Signed off, thanks.")
    last = arrived(smtp_server, 4)[-1]
    assert (last.rcpt_tos, last.message["X-Tasks-Reason"]) == ([boss.email], "watching")
    muted = Delivery.objects.filter(recipient=ann, status=Status.SKIPPED)
    wait_until(lambda: muted.exists())
    assert muted.get().last_error == "the recipient muted this task"
    threads = {m.message["References"] for m in smtp_server.received}
    assert len(threads) == 1
