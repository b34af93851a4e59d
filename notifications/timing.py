"""When a notification email may leave: coalescing windows and quiet hours.

Both are a time on the outbox row (Delivery.not_before) that no claim takes it
before: the rows themselves wait, so a worker killed meanwhile loses and
doubles nothing (the sweep publishes them once due, the claim is a guarded
UPDATE). A worker decides a row's time the first time it claims it
(plan_batch), and hands the row back to wait (Delivery.wait_until). The job
for a change to a task is published for when its reader's window ends
(seconds_until_due), so that first claim usually finds it due:

- Coalescing. An email about a task waits its reader's window (their choice,
  else NOTIFICATIONS_COALESCE_SECONDS) after the first change to that task
  still waiting for them; every change of the window then goes out as one
  email (Delivery.objects.claim_changes gathers them, sending.py merges them
  into the first), and changes that cancel out send nothing (cancelled_out).
- Quiet hours. A notification whose time falls in its reader's quiet hours or
  on a quiet day (in their time zone) waits until they end. A due-date
  reminder is no change: it never waits for a window, only for quiet time,
  and is sent when that ends (reminders.py: saying what is true that day).

Account emails never wait: someone is at the screen for them.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Min

from notifications.kinds import ACCOUNT_KINDS, CHANGE_KINDS, Kind
from notifications.models import Delivery, DigestSchedule, coalescing_window

Wait = Delivery.Wait
Pair = tuple[int, int]  # (recipient id, task id): one thread of one person

ASSIGNED_THEN_REMOVED = "assigned and removed again within the window"
REMOVED_THEN_ASSIGNED = "removed and assigned again within the window"
DATE_MOVED_BACK = "the due date moved back to where it was within the window"
STATUS_BACK = "the status went back to where it was within the window"
# A release that runs this many seconds or less before its rows' time publishes
# them again for it (timing.due_or_early).
EARLY = 5


@dataclass(frozen=True)
class Timing:
    """One person's choices: their window (seconds) and their quiet time."""

    zone: ZoneInfo
    window: int = 0
    quiet_from: time | None = None
    quiet_until: time | None = None
    quiet_days: frozenset[int] = frozenset()

    def quiet_end(self, moment: datetime) -> datetime | None:
        """When the quiet time around `moment` ends; None when it is not quiet.

        Local times are made with the zone and read back through UTC, so an
        hour a daylight-saving change skips is taken as the hour after it.
        """
        end = None
        for _ in range(9):  # a week of quiet days, then the night after them
            later = self.quiet_step(moment)
            if later is None:
                return end
            moment = end = later
        return end

    def quiet_step(self, moment: datetime) -> datetime | None:
        local = moment.astimezone(self.zone)
        if local.weekday() in self.quiet_days:
            return local_moment(local.date() + timedelta(days=1), time(0), self.zone)
        start, until = self.quiet_from, self.quiet_until
        if start is None or until is None or start == until:
            return None
        now = local.time().replace(tzinfo=None)
        if start < until and start <= now < until:
            return local_moment(local.date(), until, self.zone)
        if start > until and now >= start:
            return local_moment(local.date() + timedelta(days=1), until, self.zone)
        if start > until and now < until:
            return local_moment(local.date(), until, self.zone)
        return None


def local_moment(day: object, at: time, zone: ZoneInfo) -> datetime:
    """That wall-clock time in the zone, as an aware moment (a time skipped by
    a daylight-saving change comes out as the same time after the change)."""
    moment = datetime.combine(day, at, tzinfo=zone)  # type: ignore[arg-type]
    return moment.astimezone(ZoneInfo("UTC")).astimezone(zone)


def timings_for(deliveries: Iterable[Delivery]) -> dict[int, Timing]:
    """Each recipient's Timing, in one query; no row: the site's window."""
    people = {d.recipient_id: d.recipient for d in deliveries}
    schedules = DigestSchedule.objects.filter(user_id__in=people)
    chosen = {schedule.user_id: schedule for schedule in schedules}
    return {uid: timing_of(user.zone, chosen.get(uid)) for uid, user in people.items()}


def timing_of(zone: ZoneInfo, schedule: DigestSchedule | None) -> Timing:
    if schedule is None:
        return Timing(zone, coalescing_window(None))
    return Timing(
        zone,
        coalescing_window(schedule.coalesce_seconds),
        schedule.quiet_from,
        schedule.quiet_until,
        frozenset(int(day) for day in schedule.quiet_days),
    )


def pair_of(delivery: Delivery) -> Pair | None:
    """The person and task of an email telling of a change to a task (which
    a window gathers); None for any other, a reminder included."""
    task_id = delivery.context.get("task_id")
    if delivery.kind not in CHANGE_KINDS or not isinstance(task_id, int):
        return None
    return delivery.recipient_id, task_id


@dataclass
class Plan:
    """What a batch sends now, what waits (and until when), and which of the
    rows it sends gather the other changes to their task."""

    deliveries: list[Delivery]
    waiting: list[tuple[Delivery, datetime]] = field(default_factory=list)
    windowed: set[int] = field(default_factory=set)
    # Waiting rows that joined a window another row opened: no job of their
    # own (the first row's run gathers them; the sweep, should its job be
    # lost), so that one run, not two at once, ends each window.
    joined: set[int] = field(default_factory=set)
    # What each waiting row waits for (Delivery.Wait), until written.
    waits_for: dict[int, str] = field(default_factory=dict)


def plan_batch(claimed: list[Delivery], now: datetime) -> Plan:
    """Hand back the rows whose time has not come (wait_if_early), then take
    into this run every change still waiting about the tasks of the windowed
    rows that go now."""
    if not claimed:
        return Plan([])
    timings = timings_for(claimed)
    starts = window_starts([p for d in claimed if (p := pair_of(d))], now)
    plan = Plan([])
    leads: list[Delivery] = []
    for delivery in claimed:
        timing = timings[delivery.recipient_id]
        if delivery.kind in ACCOUNT_KINDS:
            plan.deliveries.append(delivery)
            continue
        first = first_timing(delivery)
        wait = wait_if_early(delivery, timing, starts, now)
        if wait is not None:
            hand_back(plan, delivery, wait, starts if first else None, timing)
            continue
        plan.deliveries.append(delivery)
        if pair_of(delivery) is not None and timing.window > 0:
            leads.append(delivery)
    write_waits(plan)
    if leads:
        pairs = {pair for lead in leads if (pair := pair_of(lead))}
        plan.deliveries = Delivery.objects.claim_changes(
            leads[0], pairs, plan.deliveries
        )
        plan.windowed = {d.pk for d in plan.deliveries if pair_of(d) in pairs}
    return plan


def first_timing(delivery: Delivery) -> bool:
    """No worker has timed the row yet, nor tried it."""
    return delivery.not_before is None and delivery.attempts <= 1


def wait_if_early(
    delivery: Delivery, timing: Timing, starts: dict[Pair, datetime], now: datetime
) -> tuple[datetime, str] | None:
    """Until when, and for what, the row must wait; None when it may go now.

    A row no worker has timed yet waits for its window and quiet time; one
    timed before, or tried before (a retry, a row the sweep requeued), for
    quiet time alone: quiet hours hold every notification, whenever it is
    sent."""
    if first_timing(delivery):
        when, wait = time_of(delivery, timing, starts)
    else:
        when, wait = timing.quiet_end(now) or now, str(Wait.QUIET)
    return (when, wait) if when > now else None


def hand_back(
    plan: Plan,
    delivery: Delivery,
    wait: tuple[datetime, str],
    starts: dict[Pair, datetime] | None,
    timing: Timing,
) -> None:
    """The row waits (write_waits); at its first timing (`starts` given) it
    opens its task's window for the next change, or joins the one open."""
    when, why = wait
    plan.waiting.append((delivery, when))
    plan.waits_for[delivery.pk] = why
    pair = pair_of(delivery)
    if starts is None or pair is None:
        return
    if timing.window > 0 and pair in starts:
        plan.joined.add(delivery.pk)
    starts.setdefault(pair, when)


def write_waits(plan: Plan) -> None:
    """Hand the waiting rows back (Delivery.objects.wait_until), one UPDATE per
    time and cause: the rows one transaction recorded wait alike. A row no
    longer this run's (the sweep gave it to another) is left out of the plan."""
    groups: dict[tuple[datetime, str], list[Delivery]] = defaultdict(list)
    for delivery, when in plan.waiting:
        groups[(when, plan.waits_for[delivery.pk])].append(delivery)
    moved: set[int] = set()
    for (when, why), rows in groups.items():
        moved |= Delivery.objects.wait_until(rows, when, why)
    plan.waiting = [(row, when) for row, when in plan.waiting if row.pk in moved]


def whole_seconds_until(when: datetime, now: datetime) -> int:
    """The seconds a job published now waits to run at `when`, rounded up:
    a job due then never runs before it."""
    return math.ceil((when - now).total_seconds())


def due_or_early(
    queued: dict[int, datetime | None], now: datetime
) -> tuple[list[int], dict[int, list[int]]]:
    """Of these queued rows and their times: the ids due now (or not timed
    yet: the claim times them), and, by the whole seconds until it, those
    whose time is only moments away: their release ran a little early (the
    clocks of two machines), so they need another. Rows a worker gave a later
    time have a job of their own, or the sweep takes them."""
    soon = now + timedelta(seconds=EARLY)
    due: list[int] = []
    early: dict[int, list[int]] = defaultdict(list)
    for pk, when in queued.items():
        if when is None or when <= now:
            due.append(pk)
        elif when <= soon:
            early[whole_seconds_until(when, now)].append(pk)
    return due, dict(early)


def seconds_until_due(delivery_ids: Sequence[int], now: datetime) -> float:
    """How long until the first of these rows may go, as far as their records
    tell (one query): a change to a task that no worker has timed waits for
    its reader's window; any other row may go now. Quiet hours only ever make
    it later, which the worker's claim then finds.

    0 (publish now) when a row may go now, or when the wait is longer than the
    broker may safely hold a job (half its visibility timeout): a worker
    times such rows at once, as it does every row it claims.
    """
    first = None
    for kind, created_at, not_before, attempts, own in Delivery.objects.waits_of(
        delivery_ids
    ):
        if kind not in CHANGE_KINDS or not_before is not None or attempts:
            return 0.0
        due = created_at + timedelta(seconds=coalescing_window(own))
        first = due if first is None else min(first, due)
    return countdown_to(first, now)


def countdown_to(first_due: datetime | None, now: datetime) -> float:
    """Seconds from now until `first_due`; 0 (publish now) when it has come,
    is unknown, or is further than the broker may safely hold a job."""
    wait = (first_due - now).total_seconds() if first_due is not None else 0.0
    return wait if 0 < wait <= settings.CELERY_VISIBILITY_TIMEOUT / 2 else 0.0


def time_of(
    delivery: Delivery, timing: Timing, starts: dict[Pair, datetime]
) -> tuple[datetime, str]:
    """When the row may go, and what it waits for: the end of the window its
    task's first waiting change opened (or that it opens), then past the
    quiet time that end falls in."""
    when, wait = delivery.created_at, Wait.NOTHING
    pair = pair_of(delivery)
    if pair is not None and timing.window > 0:
        opened = delivery.created_at + timedelta(seconds=timing.window)
        when, wait = starts.get(pair, opened), Wait.WINDOW
    quiet_end = timing.quiet_end(when)
    if quiet_end is not None:
        when, wait = quiet_end, Wait.QUIET
    return when, wait


def window_starts(pairs: Sequence[Pair], now: datetime) -> dict[Pair, datetime]:
    """The time the changes already waiting for each pair go out at, in one
    query: a new change joins them."""
    if not pairs:
        return {}
    people = {recipient for recipient, _ in pairs}
    tasks = {task for _, task in pairs}
    waiting = Delivery.objects.waiting_after(now).filter(
        recipient_id__in=people, context__task_id__in=tasks, kind__in=CHANGE_KINDS
    )
    found = waiting.values("recipient_id", "context__task_id").annotate(
        at=Min("not_before")
    )
    wanted = set(pairs)
    starts: dict[Pair, datetime] = {}
    for row in found.order_by():
        pair = (row["recipient_id"], int(row["context__task_id"]))
        if pair in wanted:
            starts[pair] = row["at"]
    return starts


def cancelled_out(changes: Sequence[Delivery]) -> dict[int, str]:
    """{row id: why} for the changes to one task, for one person, that undo
    each other within the window, so together they send nothing: an
    assignment and a removal, a due date (or a status) moved and moved back."""
    why: dict[int, str] = {}
    assigned = [d for d in changes if d.kind == Kind.TASK_ASSIGNED]
    removed = [d for d in changes if d.kind == Kind.TASK_UNASSIGNED]
    for added, gone in zip(assigned, removed, strict=False):
        reason = ASSIGNED_THEN_REMOVED if added.pk < gone.pk else REMOVED_THEN_ASSIGNED
        why[added.pk] = why[gone.pk] = reason
    for kind, reason in (
        (Kind.DUE_DATE_CHANGED, DATE_MOVED_BACK),
        (Kind.STATUS_CHANGED, STATUS_BACK),
    ):
        moves = [d for d in changes if d.kind == kind]
        if moves and moves[0].context.get("before") == moves[-1].context.get("after"):
            why.update(dict.fromkeys((d.pk for d in moves), reason))
    return why
