"""`make chaos` run 12: due-date reminders with two beats and two workers, one
worker SIGKILLed.

50 people are each assigned three tasks (due tomorrow, today and three days
ago: 150 reminders) whose hour has passed (00:00, in a time zone where it is
about noon). Two beat processes look for due reminders every second, two
workers send them, the SMTP server taking 50 ms a message; one worker is
SIGKILLed once 50 have arrived. Every reminder must arrive once: what the dead
worker had claimed comes back when its lease runs out (the sweep), and the
beats, still running the job every second meanwhile, record none twice. The
tasks are made without signals, so that only reminders are sent.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.chaos_results import REMINDER_ENV, Reminders
from bench.inbox import Key, marker, wait_until
from bench.rows import last_delivery_id, rows_in

if TYPE_CHECKING:
    from bench.rig import Rig
    from devtools.processes import Process
    from users.models import User

PEOPLE = 50
KILL_AT = 50  # reminders accepted
SMTP_DELAY = 0.05  # seconds per message
LEASE_WAIT = 480.0  # the lease (360 s) + two sweep periods + slack
AFTER = 5  # rounds each beat runs once every reminder is in: nothing more comes
SENT_BY_BEAT = "Sending due task send-reminders"


def reminders_with_two_beats(rig: Rig) -> Reminders:
    print(
        f"Run 12: {PEOPLE * 3} due-date reminders, two beats and two workers, "
        f"one worker SIGKILLed at {KILL_AT}",
        flush=True,
    )
    people = rig.people[:PEOPLE]
    first = last_delivery_id() + 1
    expected = remind(rig, people)
    with rig.answering(delay=SMTP_DELAY):
        rig.start_workers([1, 1], name="remind", **REMINDER_ENV)
        beats = [rig.stack.start_beat(f"beat-{n}", **REMINDER_ENV) for n in "ab"]
        reached = rig.wait_for_count(expected, KILL_AT, 120, 0.02)
        ids = range(first, last_delivery_id() + 1)
        in_flight = len(rows_in(ids, "sending"))
        killed = rig.workers.pop()
        killed.kill()
        print(f"  SIGKILL at {rig.inbox.arrived(expected)} (reached: {reached})")
        rig.wait_for(expected, LEASE_WAIT)
        runs = beats_ran(beats, AFTER)
    ids = range(first, last_delivery_id() + 1)
    return Reminders(
        arrivals=rig.inbox.tally(expected, "remind"),
        rows=len(rows_in(ids)),
        unsent=len(rows_in(ids).exclude(status="sent")),
        in_flight=in_flight,
        beat_runs=runs,
    )


def remind(rig: Rig, people: Sequence[User]) -> set[Key]:
    """Three tasks for each person, due tomorrow, today and three days ago,
    their reminders' hour passed; the keys of the reminders they owe."""
    from notifications.models import DigestSchedule
    from tasks.models import Task
    from users.models import User

    zone, today = zone_at_midday()
    User.objects.filter(pk__in=[p.pk for p in people]).update(time_zone=zone)
    DigestSchedule.objects.bulk_create(
        DigestSchedule(user=person, remind_at=datetime.time(0, 0)) for person in people
    )
    days = (1, 0, -3)
    tags = [marker("remind", n) for n in range(len(people) * len(days))]
    tasks = Task.objects.bulk_create(
        Task(
            project=rig.project,
            title=f"Reminder {tag}",
            due_date=today + datetime.timedelta(days=days[n % len(days)]),
        )
        for n, tag in enumerate(tags)
    )
    through = Task.assigned_to.through
    owners = [people[n // len(days)] for n in range(len(tags))]
    through.objects.bulk_create(
        through(task=task, user=owner)
        for task, owner in zip(tasks, owners, strict=True)
    )
    return {(o.email.lower(), tag) for o, tag in zip(owners, tags, strict=True)}


def zone_at_midday() -> tuple[str, datetime.date]:
    """A time zone where it is about noon (no day ends during the run), and
    its date."""
    from zoneinfo import ZoneInfo

    now = datetime.datetime.now(datetime.UTC)
    offset = 12 - now.hour
    name = f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}" if offset else "Etc/GMT"
    return name, now.astimezone(ZoneInfo(name)).date()


def beats_ran(beats: list[Process], times: int) -> int:
    """Wait until each beat has sent the reminders' job `times` more times;
    how many times they sent it in all."""
    before = [beat.log().count(SENT_BY_BEAT) for beat in beats]
    wait_until(
        lambda: all(
            beat.log().count(SENT_BY_BEAT) >= seen + times
            for beat, seen in zip(beats, before, strict=True)
        ),
        60,
        0.2,
    )
    return sum(beat.log().count(SENT_BY_BEAT) for beat in beats)
