"""Due-date reminders through the real processes: TWO beat and TWO worker
processes, each beat recording reminders every second, and every reminder
counted at the SMTP server: once each; then, everything stopped, one whose
hour passed meanwhile sent when a beat and a worker are back."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from devtools.processes import Process, beat_command, start_worker
from devtools.smtp import SMTPServer
from notifications.contexts import written
from notifications.models import Delivery, DigestSchedule, Preference
from tasks.models import Task
from tests.factories import TaskFactory, UserFactory
from tests.support.mail import outbox_settled
from tests.support.processes import LOG_DIR
from tests.support.waiting import wait_until
from users.models import Role, User

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
Kind = Delivery.Kind
# Each beat looks for due reminders every second, as two replicas would every minute.
BEAT_ENV = {"NOTIFICATIONS_REMINDER_INTERVAL": "1"}
SENT_BY_BEAT = "Sending due task send-reminders"


def zone_at_midday() -> str:
    """A time zone where it is about noon now: no day ends during the test."""
    offset = 12 - timezone.now().hour  # -11 .. +12 hours from UTC
    if offset == 0:
        return "Etc/GMT"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX signs


def assignee(zone: str, remind_at: datetime.time) -> User:
    """Someone whose assignment emails are off: only reminders reach them."""
    user = UserFactory(role=Role.EMPLOYEE, time_zone=zone)
    Preference.objects.create(
        user=user, kind=Kind.TASK_ASSIGNED, mode=Preference.Mode.OFF
    )
    DigestSchedule.objects.create(user=user, remind_at=remind_at)
    return user


@contextmanager
def running(env: dict[str, str], folder: Path, names: str) -> Iterator[list[Process]]:
    """A worker and a beat process on `env` for each letter of `names`
    (workers first), stopped on the way out."""
    env = {**env, **BEAT_ENV}
    workers: list[Process] = []
    beats: list[Process] = []
    try:
        for name in names:
            worker = f"reminders-worker-{name}"
            workers.append(start_worker(env, LOG_DIR, concurrency=1, name=worker))
        for name in names:
            schedule = beat_command(folder / f"beat-{name}-schedule")
            beat = Process(f"reminders-beat-{name}", schedule, env, LOG_DIR)
            beats.append(beat.start(ready_text="beat: Starting", timeout=60))
        yield beats
    finally:
        for process in workers + beats:
            process.stop()


def beats_ran(beats: list[Process], times: int) -> None:
    """Wait until each beat has sent the reminders' job `times` more times."""
    before = [beat.log().count(SENT_BY_BEAT) for beat in beats]
    wait_until(
        lambda: all(
            beat.log().count(SENT_BY_BEAT) >= seen + times
            for beat, seen in zip(beats, before, strict=True)
        ),
        60,
        f"each beat sent the reminders' job {times} more times",
    )


def reminders_at(smtp_server: SMTPServer) -> Counter[tuple[str, str]]:
    """(address, first line) of each reminder that arrived, counted."""
    return Counter(
        (message.rcpt_tos[0], message.body().splitlines()[0])
        for message in smtp_server.received
        if message.body().startswith("Reminder:")
    )


def test_two_beats_and_two_workers_send_each_reminder_once_and_after_a_downtime(
    worker_env: dict[str, str], smtp_server: SMTPServer, tmp_path: Path
) -> None:
    zone = zone_at_midday()
    today = timezone.localdate(timezone=ZoneInfo(zone))
    ann = assignee(zone, remind_at=datetime.time(0, 0))  # her hour has passed
    bob = assignee(zone, remind_at=datetime.time(23, 59))  # his has not
    day = datetime.timedelta(days=1)
    due_dates = {
        "Due tomorrow": today + day,
        "Due today": today,
        "Overdue": today - 3 * day,
        "Next week": today + 7 * day,
    }
    for title, due in due_dates.items():
        TaskFactory(title=title, due_date=due, assigned_to=[ann])
    done = Task.Status.COMPLETED
    TaskFactory(title="Done", due_date=today - day, assigned_to=[ann], status=done)
    TaskFactory(title="Bob's", due_date=today, assigned_to=[bob])

    with running(worker_env, tmp_path, "ab") as beats:
        smtp_server.wait_for(3, timeout=60)
        beats_ran(beats, times=3)
        wait_until(outbox_settled, 30, "every reminder sent")
    overdue = written(today - 3 * day)
    assert reminders_at(smtp_server) == {
        (ann.email, f"Reminder: this task is due tomorrow, {written(today + day)}."): 1,
        (ann.email, "Reminder: this task is due today."): 1,
        (
            ann.email,
            f"Reminder: this task was due on {overdue} and is not completed.",
        ): 1,
    }
    assert Delivery.objects.filter(kind=Kind.DUE_REMINDER).count() == 3

    # Everything down; meanwhile Bob's hour passes (he moves it to 00:00).
    DigestSchedule.objects.filter(user=bob).update(remind_at=datetime.time(0, 0))
    # One of each is back (fewer processes beside the other tests' workers).
    with running(worker_env, tmp_path, "a") as beats:
        smtp_server.wait_for(4, timeout=60)
        beats_ran(beats, times=3)
        wait_until(outbox_settled, 30, "every reminder sent")
    sent = reminders_at(smtp_server)
    assert sent[(bob.email, "Reminder: this task is due today.")] == 1
    assert sum(sent.values()) == 4  # and not one of Ann's again
    assert set(
        Delivery.objects.filter(kind=Kind.DUE_REMINDER).values_list("status", flat=True)
    ) == {Delivery.Status.SENT}
