"""When emails go, through real worker processes: a coalescing window of a
few seconds (NOTIFICATIONS_COALESCE_SECONDS in the worker's environment),
quiet hours, and a worker SIGKILLed while rows wait. Emails are counted at the
SMTP server; the tests wait on conditions, never for a fixed time."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import Process
from devtools.smtp import SMTPServer
from notifications.contexts import written
from notifications.models import Delivery, DigestSchedule
from tasks.models import Task
from tests.factories import TaskFactory, UserFactory
from tests.support.mail import arrived, outbox_settled
from tests.support.processes import SharedWorker
from tests.support.waiting import wait_until
from users.models import Role, User
from worker.jobs import sweep_outbox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
Status, Kind, Wait = Delivery.Status, Delivery.Kind, Delivery.Wait
# Seconds: long enough for three changes on a loaded machine, short to wait for.
WINDOW = 5


@pytest.fixture
def windowed_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "NOTIFICATIONS_COALESCE_SECONDS": str(WINDOW)}


@pytest.fixture
def windowed_worker(
    shared_worker: SharedWorker, windowed_env: dict[str, str]
) -> Iterator[Process]:
    """A real worker whose window is WINDOW seconds."""
    yield shared_worker.running(windowed_env)
    shared_worker.settle()


def employees(count: int) -> list[User]:
    return UserFactory.create_batch(count, role=Role.EMPLOYEE)


def assigned_and_told(smtp: SMTPServer, people: list[User]) -> Task:
    """A task assigned to these people, whose assignment emails have arrived."""
    task = TaskFactory(title="Lighthouse", assigned_to=people)
    arrived(smtp, len(people))
    smtp.sink.clear()
    return task


def redate(task: Task, *days: int) -> None:
    for day in days:
        task.due_date = datetime.date(2031, 5, day)
        task.save()


def waiting_in_window(kind: str, count: int) -> bool:
    waiting = Delivery.objects.filter(kind=kind, waiting_for=Wait.WINDOW)
    return waiting.filter(status=Status.QUEUED).count() == count


def test_three_new_due_dates_in_the_window_give_each_assignee_one_email(
    windowed_worker: Process, smtp_server: SMTPServer
) -> None:
    people = employees(2)
    task = assigned_and_told(smtp_server, people)
    redate(task, 3, 7, 11)
    messages = arrived(smtp_server, 2)
    assert sorted(m.rcpt_tos[0] for m in messages) == sorted(p.email for p in people)
    for message in messages:
        body = message.body()
        assert body.startswith("3 changes to this task")
        assert f"Due: {written(datetime.date(2031, 5, 11))}" in body
        assert message.subject == f"[{task.project.name}] Lighthouse (#{task.pk})"


def test_an_assignment_undone_within_the_window_sends_nothing(
    windowed_worker: Process, smtp_server: SMTPServer
) -> None:
    ann, bob = employees(2)
    task = assigned_and_told(smtp_server, [bob])
    task.assigned_to.add(ann)
    task.assigned_to.remove(ann)
    wait_until(outbox_settled, 30, "every delivery settled")
    assert smtp_server.received == []
    skipped = Delivery.objects.filter(recipient=ann, status=Status.SKIPPED)
    assert sorted(skipped.values_list("kind", "last_error")) == [
        (Kind.TASK_ASSIGNED, "assigned and removed again within the window"),
        (Kind.TASK_UNASSIGNED, "assigned and removed again within the window"),
    ]


def test_a_worker_killed_inside_the_window_sends_one_email_not_zero_or_two(
    windowed_worker: Process,
    shared_worker: SharedWorker,
    windowed_env: dict[str, str],
    smtp_server: SMTPServer,
    settings: DjangoSettings,
) -> None:
    """The rows wait in the outbox, not in the dead worker: the sweep
    publishes them once their time has come, and the claim takes each once."""
    people = employees(3)
    task = assigned_and_told(smtp_server, people)
    redate(task, 4, 9)
    wait_until(lambda: waiting_in_window(Kind.DUE_DATE_CHANGED, 6), 10, "waiting")
    windowed_worker.kill()  # SIGKILL: the job due at the window's end dies with it
    shared_worker.running(windowed_env)
    due = max(Delivery.objects.values_list("not_before", flat=True))
    wait_until(lambda: timezone.now() > due, 10, "the window's end")
    settings.NOTIFICATIONS_SWEEP_GRACE = 0  # beat's sweep, without the wait
    assert sweep_outbox.apply().get()["redispatched"] > 0
    messages = arrived(smtp_server, 3)
    copies = Counter(m.rcpt_tos[0] for m in messages)
    assert copies == Counter({p.email: 1 for p in people})
    assert all(
        f"Due: {written(datetime.date(2031, 5, 9))}" in m.body() for m in messages
    )


def test_quiet_hours_hold_an_email_and_release_it_when_they_end(
    worker: Process, smtp_server: SMTPServer
) -> None:
    """Quiet from an hour ago until three seconds from now, in the reader's
    time zone (across midnight or not: a quiet time wraps)."""
    ann = UserFactory(role=Role.EMPLOYEE, time_zone="Pacific/Auckland")
    local = timezone.now().astimezone(ann.zone).replace(microsecond=0)
    ends = local + datetime.timedelta(seconds=3)
    DigestSchedule.objects.create(
        user=ann,
        quiet_from=(local - datetime.timedelta(hours=1)).time(),
        quiet_until=ends.time(),
    )
    TaskFactory(title="Night shift", assigned_to=[ann])
    row = Delivery.objects.get(recipient=ann)
    quiet = Delivery.objects.filter(pk=row.pk, waiting_for=Wait.QUIET)
    wait_until(quiet.exists, 3, "the email waits for the quiet hours")
    assert smtp_server.received == []
    [message] = arrived(smtp_server, 1)
    row.refresh_from_db()
    assert message.rcpt_tos == [ann.email]
    assert row.not_before == ends
    assert row.sent_at is not None and row.sent_at >= ends
