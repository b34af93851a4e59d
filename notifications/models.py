"""The outbox: one Delivery row per email, and every move of its status.

A delivery moves only through the transitions below. Each is one method, named
after what happens, and one conditional UPDATE guarded by the state the row
leaves, so two processes racing for a row cannot both move it. Nothing else in
the code base writes `status`.

    (event) -record-> queued -claim-> sending -mark_sent------> sent -bounce-> bounced
                      ^ ^ ^ |           |  |  |-mark_failed-------> failed
                      | | | |           |  |  |-skip, suppress----> skipped
                      | | | |           |  |  '-hold_for_digest---> held
                      | | | '-cancel-> cancelled                     |-bundle-> bundled
                      | | '-retry_later-'  |  '-merge_into-------------------> bundled
                      | '-release_untried, wait_for_pace, wait_until
                      '-resend- failed

| transition      | from                       | to        | who                       |
|-----------------|----------------------------|-----------|---------------------------|
| record          | (nothing)                  | queued    | receivers (recording.py)  |
| record_scheduled| (nothing)                  | queued    | the reminders' beat job   |
|                 |                            |           | (reminders.py), once per  |
|                 |                            |           | key however many run it   |
| claim           | queued (sending not paused,| sending   | a worker's batch run      |
|                 | not before its time)       |           |                           |
| claim_changes   | queued, about the task of  | sending   | the run that sends one    |
|                 | a claimed row, untried     |           | email for them all        |
| mark_sent       | sending (this run's claim) | sent      | the batch run, on a 250   |
| bounce          | sent                       | bounced   | a bounce report for it    |
|                 |                            |           | (DSN or ESP webhook),     |
|                 |                            |           | also hours later          |
| mark_failed     | sending (this run's claim) | failed    | permanent refusal, or the |
|                 |                            |           | last attempt failed       |
| retry_later     | sending (this run's claim) | queued    | transient failure: later, |
|                 |                            |           | one attempt spent         |
| release_untried | sending (this run's claim) | queued    | the run's time is up: now,|
|                 |                            |           | the attempt given back    |
| wait_for_pace   | sending (this run's claim) | queued    | our send rate, the daily  |
|                 |                            |           | limit or a busy provider: |
|                 |                            |           | later, attempt given back |
| wait_until      | sending (this run's claim) | queued    | its task's coalescing     |
|                 |                            | (not      | window or its recipient's |
|                 |                            | before)   | quiet hours: attempt back |
| merge_into      | sending (this run's claim) | bundled   | told in the email of      |
|                 |                            |           | another change to the task|
| pass_on         | bundled (merged into a     | bundled   | the lead does not go:     |
|                 | lead)                      | (another) | another change tells them |
| hold_merged     | bundled (merged into a     | held      | the lead is held for the  |
|                 | lead)                      |           | digest: they join it      |
| untold          | bundled (merged into a     | skipped   | the lead does not go, and |
|                 | lead)                      |           | no other change remains   |
| skip            | sending (this run's claim) | skipped   | the email is not wanted   |
|                 |                            |           | any more                  |
| suppress        | sending (this run's claim) | skipped   | its address bounced as    |
|                 |                            |           | unknown before            |
| hold_for_digest | sending (this run's claim) | held      | its recipient reads this  |
|                 |                            |           | kind in a daily digest    |
| record_digest   | (nothing); held            | queued;   | the digest job: a digest  |
|                 |                            | bundled   | and what it gathers, at   |
|                 |                            |           | once (bundle)             |
| requeue_stuck   | sending, lease run out     | queued    | the sweep (dead worker)   |
| give_up_stuck   | sending, lease run out,    | failed    | the sweep                 |
|                 | no attempt left            |           |                           |
| resend          | failed                     | queued    | Admins and Managers       |
| cancel          | queued                     | cancelled | Admins                    |
| postpone        | queued                     | queued    | the sweep, after          |
|                 |                            | (later)   | publishing it again       |
| purge_finished  | sent, skipped, cancelled,  | (deleted) | the nightly retention job |
|                 | bundled, bounced, for long |           |                           |

The per-row transitions act on a row this run claimed: the guard is the claim
token as well as the status, so a run the sweep has given up on writes nothing.
A row with `not_before` set is not claimed before that time (timing.py: the
coalescing window of its task, its recipient's quiet hours). Sending as a whole
can be paused (SendingPause): claims then take nothing, and
queued rows wait, however long, until an Admin resumes.

The same row is its recipient's item in the app's inbox (notifications/inbox.py)
for the kinds about a task: `read_at` (and how: `read_via`) and `archived_at`
belong to the person, not to the email, and never move `status`. Reading an
item before its email leaves is what the worker checks (wishes.py: skipped,
"read in the app"), and a digest leaves out what was read (contexts.py).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NamedTuple, cast

from django.conf import settings
from django.db import connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, F, Q
from django.utils import timezone

from notifications import kinds
from notifications.prepared import fetch_all

# A new row's columns as record_assignments' SELECT writes them, from the
# assignment row (a) and its task (t). Each %s is a parameter, in this order.
ASSIGNMENT_ROW = {
    "kind": "%s",
    "recipient_id": "a.user_id",
    "event_key": "%s || CAST(a.id AS TEXT)",
    # (The CAST names the parameter's type for notifications.prepared.)
    "context": (
        "{json_object}('task_id', a.task_id, 'title', t.title, 'by', CAST(%s AS TEXT))"
    ),
    "reason": "%s",
    "status": "%s",
    "attempts": "0",
    "last_error": "''",
    "job_id": "''",
    "claim_token": "''",
    "smtp_reply": "''",
    "message_id": "''",
    "relay": "''",
    "provider_message_id": "''",
    "created_at": "%s",
    "updated_at": "%s",
    "next_attempt_at": "%s",
    "waiting_for": "''",
    "read_via": "''",
}


class Assignments(NamedTuple):
    """The assignment (through) rows of these tasks and these people: one
    task and its new assignees, or one person and their new tasks, as an
    m2m_changed signal names them (with more of both, every pair counts)."""

    through: type[models.Model]
    task_ids: frozenset[int]
    user_ids: frozenset[int]


class Recorded(NamedTuple):
    """What record_assignments recorded: the new rows' ids, and when the first
    of them may go as far as the INSERT knows (its readers' own windows), so
    announcing them asks the database nothing more (None: nothing recorded)."""

    ids: list[int]
    first_due: datetime | None


class RowWait(NamedTuple):
    """DeliveryQuerySet.waits_of's answer for one row."""

    kind: str
    created_at: datetime
    not_before: datetime | None
    attempts: int
    own_window: int | None


@dataclass(frozen=True)
class Entry:
    """One delivery to record: who, the event's unique key, what the email needs,
    why they are told, and its kind when not the one the call records."""

    recipient_id: int
    event_key: str
    context: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    kind: str = ""


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    # Reads -----------------------------------------------------------------------

    def overdue(self, now: datetime, grace: timedelta) -> DeliveryQuerySet:
        """Queued and due longer ago than the grace: its publish never arrived."""
        return self.filter(
            status=Delivery.Status.QUEUED, next_attempt_at__lte=now - grace
        )

    def stuck(self, now: datetime) -> DeliveryQuerySet:
        """Claimed longer ago than the lease, which outlasts the hard time limit."""
        lease = timedelta(seconds=settings.NOTIFICATIONS_LEASE)
        return self.filter(status=Delivery.Status.SENDING, claimed_at__lt=now - lease)

    def held(self) -> DeliveryQuerySet:
        """Held for a digest that has not been recorded yet."""
        return self.filter(status=Delivery.Status.HELD, digest__isnull=True)

    def still_queued(self, delivery_ids: Iterable[int]) -> dict[int, datetime | None]:
        """{id: its time (not_before)} of the rows among these still queued,
        in order."""
        queued = self.filter(pk__in=list(delivery_ids), status=Delivery.Status.QUEUED)
        return dict(queued.order_by("pk").values_list("pk", "not_before"))

    def waits_of(self, delivery_ids: Sequence[int]) -> list[RowWait]:
        """What tells when each of these rows may first go: its kind, when it
        was recorded, the time a worker gave it, its attempts and its reader's
        own coalescing window (timing.seconds_until_due).

        Written out rather than built by the ORM: every request that records
        a notification pays for it (after its response), and compiling the
        subquery cost three times what running it did. Only quoted names are
        interpolated; the ids are parameters.
        """
        ids = list(delivery_ids)
        if not ids:
            return []
        quote = connections[self.db].ops.quote_name
        schedules = quote(DigestSchedule._meta.db_table)
        deliveries = quote(Delivery._meta.db_table)
        statement = (
            "SELECT d.id, d.kind, d.created_at, d.not_before, d.attempts, "  # noqa: S608
            f"(SELECT s.coalesce_seconds FROM {schedules} s "
            "WHERE s.user_id = d.recipient_id) AS own_window "
            f"FROM {deliveries} d WHERE d.id IN ({', '.join(['%s'] * len(ids))})"
        )
        return [
            RowWait(*(getattr(row, name) for name in RowWait._fields))
            for row in self.raw(statement, ids)
        ]

    def due(self, now: datetime) -> DeliveryQuerySet:
        return self.filter(status=Delivery.Status.QUEUED, next_attempt_at__lte=now)

    # Transitions -----------------------------------------------------------------

    def record(self, kind: str, entries: Iterable[Entry]) -> list[int]:
        """(nothing) -> queued: one row per entry, once per event key.

        One query however many entries, and no second one for the ids: an upsert
        on the unique event_key returns the id of every row, recorded now or
        before. Its update writes back the same key, so a row recorded before is
        left as it was.
        """
        now = timezone.now()
        rows = {
            e.event_key: Delivery(
                kind=e.kind or kind,
                recipient_id=e.recipient_id,
                event_key=e.event_key,
                context=e.context,
                reason=e.reason,
                next_attempt_at=first_due(e.kind or kind, now),
            )
            for e in entries
        }
        if not rows:
            return []
        # Keyed by event: PostgreSQL refuses an upsert touching one row twice.
        self.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["event_key"],
            update_fields=["event_key"],
        )
        ids = sorted(row.pk for row in rows.values() if row.pk is not None)
        if len(ids) < len(rows):  # a backend that returns no ids (SQLite < 3.35)
            recorded = self.filter(event_key__in=list(rows)).order_by("pk")
            ids = list(recorded.values_list("pk", flat=True))
        return ids

    def record_scheduled(self, entries: Iterable[Entry], now: datetime) -> list[int]:
        """(nothing) -> queued: emails the clock calls for (due-date reminders),
        each once by its event key; return the ids of the queued ones among them.

        The keys already recorded are left out first (one SELECT), then the rest
        inserted with ON CONFLICT DO NOTHING: two runs at once that both found
        a key missing record it once, and both return its id, which the
        worker's claim sends once.
        """
        wanted = {e.event_key: e for e in entries}
        size = settings.NOTIFICATIONS_BATCH_SIZE
        known = set(self._among(sorted(wanted), "event_key"))
        missing = [key for key in sorted(wanted) if key not in known]
        if not missing:
            return []
        rows = [
            Delivery(
                kind=wanted[key].kind,
                recipient_id=wanted[key].recipient_id,
                event_key=key,
                context=wanted[key].context,
                reason=wanted[key].reason,
                next_attempt_at=now,
            )
            for key in missing
        ]
        self.bulk_create(rows, ignore_conflicts=True, batch_size=size)
        queued = self.filter(status=Delivery.Status.QUEUED)
        return sorted(queued._among(missing, "pk"))

    def _among(self, keys: list[str], column: str) -> list[Any]:
        """`column` of the rows among these event keys, a batch of keys per
        query (SQLite bounds the values of one)."""
        size = settings.NOTIFICATIONS_BATCH_SIZE
        found: list[Any] = []
        for start in range(0, len(keys), size):
            rows = self.filter(event_key__in=keys[start : start + size])
            found += rows.values_list(column, flat=True)
        return found

    def record_assignments(self, assignments: Assignments, by: str) -> Recorded:
        """(nothing) -> queued, one "task assigned" delivery per assignment row,
        in one INSERT ... SELECT: the request that assigns ten people pays one
        statement for their emails, whichever side they were assigned from.

        The key is the assignment row's id (removing someone and adding them
        again makes a new row, so a new email); a row recorded before is left
        as it was and its id is not returned (it was dispatched then). Each
        new row comes back with its reader's own coalescing window, which
        gives the time the first of them may go.
        """
        if not assignments.task_ids or not assignments.user_ids:
            return Recorded([], None)  # an empty IN () is an error on PostgreSQL
        database = connections[self.db]
        statement, params = assignment_insert(database, assignments)
        kind, moment = Delivery.Kind.TASK_ASSIGNED, timezone.now()
        now = database.ops.adapt_datetimefield_value(moment)
        due = database.ops.adapt_datetimefield_value(first_due(kind, moment))
        # The parameters of ASSIGNMENT_ROW, in its order, then the WHERE's.
        reason, queued = Delivery.Reason.ASSIGNED, Delivery.Status.QUEUED
        values = [kind, f"{kind}:", by, reason, queued, now, now, due, *params]
        rows = fetch_all(database, statement, values)
        if not rows:
            return Recorded([], None)
        shortest = min(coalescing_window(own) for _, own in rows)
        return Recorded(
            sorted(pk for pk, _ in rows), moment + timedelta(seconds=shortest)
        )

    def wait_until(
        self, rows: Sequence[Delivery], when: datetime, wait: str
    ) -> set[int]:
        """sending -> queued, not claimed before `when`, the attempt given back:
        the coalescing window of their task, or their recipient's quiet hours.
        Rows of one run waiting for one time, in one UPDATE; returns the ids
        moved (a row the sweep gave to another run since is not)."""
        ids = [row.pk for row in rows]
        mine = self.filter(
            pk__in=ids, status=Delivery.Status.SENDING, claim_token=rows[0].claim_token
        )
        moved = mine.update(
            status=Delivery.Status.QUEUED,
            attempts=F("attempts") - 1,
            not_before=when,
            next_attempt_at=when,
            claim_token="",
            waiting_for=wait,
            updated_at=timezone.now(),
        )
        if moved == len(ids):
            return set(ids)
        waiting = self.filter(
            pk__in=ids, status=Delivery.Status.QUEUED, not_before=when
        )
        return set(waiting.values_list("pk", flat=True))

    def claim(
        self, delivery_ids: Sequence[int], job_id: str = "", fill_to: int = 0
    ) -> list[Delivery]:
        """queued -> sending: take the queued ones among these ids for one run,
        and, with `fill_to`, other notifications due now up to that many
        (claim_companions).

        Of two runs holding the same ids, one gets each row; rows sent, failed or
        taken by another run are left out. The claim spends an attempt and notes
        the Celery job id, so the web process never writes it back.
        """
        token = uuid.uuid4().hex
        now = timezone.now()
        queued = self.filter(pk__in=delivery_ids, status=Delivery.Status.QUEUED)
        # One statement: nothing is taken while sending is paused.
        unpaused = ~Exists(SendingPause.objects.all())
        taken = queued.filter(ready(now), unpaused).update(
            **claimed_now(token, now, job_id)
        )
        if not taken:  # paused, or another run took them (a companion claim)
            return []
        if taken < fill_to:
            self.claim_companions(token, now, job_id, fill_to - taken)
        claimed = self.filter(claim_token=token, status=Delivery.Status.SENDING)
        return list(claimed.select_related("recipient").order_by("pk"))

    def claim_companions(
        self, token: str, now: datetime, job_id: str, room: int
    ) -> None:
        """queued -> sending, into a run of notifications with room to spare:
        up to `room` other notifications due now that no run has tried yet,
        oldest first. Each request publishes its own few emails; a run that
        takes the next requests' as well renders and connects once for them
        all, and their own jobs, finding them taken, end at once.

        Not account emails (their lane is faster), nor rows waiting for a
        coalescing window: a window's first row gathers the others
        (claim_changes), so that one run, not two, ends it.
        """
        mine = self.filter(claim_token=token, status=Delivery.Status.SENDING)
        if mine.filter(kind__in=kinds.ACCOUNT_KINDS).exists():
            return
        fresh = self.filter(
            ready(now),
            status=Delivery.Status.QUEUED,
            attempts=0,
            next_attempt_at__lte=now,
        ).exclude(kind__in=kinds.ACCOUNT_KINDS)
        fresh = fresh.exclude(waiting_for=Delivery.Wait.WINDOW).order_by("pk")
        # Rows another run is claiming are skipped, not waited for: two runs
        # taking companions at once would otherwise lock each other's rows in
        # turn (a deadlock, which PostgreSQL ends by failing one of them).
        with transaction.atomic():
            locked = fresh.select_for_update(skip_locked=True, of=("self",))
            ids = list(locked.values_list("pk", flat=True)[:room])
            self.filter(pk__in=ids).update(**claimed_now(token, now, job_id))

    def claim_changes(
        self,
        lead: Delivery,
        pairs: Iterable[tuple[int, int]],
        claimed: list[Delivery],
    ) -> list[Delivery]:
        """queued -> sending, into the lead's run: every change to these
        (recipient, task) pairs still waiting, untimed, due, or waiting for a
        window (two workers timing a task's first changes at once may give
        them times a moment apart), so that one email tells them all once the
        window of the first has ended. Returns the run's rows: `claimed` (its
        rows so far) as it is when there was nothing to gather.

        Rows a run has tried before (attempts) are emails of their own and stay,
        and so do rows given a later time for another reason (a reminder, quiet
        hours).
        """
        people: dict[int, set[int]] = defaultdict(set)  # by task: a term per task
        for recipient_id, task_id in pairs:
            people[task_id].add(recipient_id)
        about = Q()
        for task_id, readers in sorted(people.items()):
            about |= Q(context__task_id=task_id, recipient_id__in=sorted(readers))
        if not about:
            return claimed
        now = timezone.now()
        gathered = ready(now) | Q(waiting_for=Delivery.Wait.WINDOW)
        waiting = self.filter(about, gathered, status=Delivery.Status.QUEUED)
        taken = waiting.filter(attempts=0, kind__in=kinds.CHANGE_KINDS).update(
            **claimed_now(lead.claim_token, now, lead.job_id)
        )
        if not taken:
            return claimed
        mine = self.filter(claim_token=lead.claim_token, status=Delivery.Status.SENDING)
        return list(mine.select_related("recipient").order_by("pk"))

    def merged_with(self, leads: Iterable[int]) -> DeliveryQuerySet:
        """The changes merged into these rows' emails (Delivery.merge_into),
        oldest first."""
        return self.filter(
            digest_id__in=list(leads),
            status=Delivery.Status.BUNDLED,
            kind__in=kinds.TASK_KINDS,
        ).order_by("pk")

    def pass_on(self, lead_id: int, to: Delivery) -> int:
        """bundled -> bundled: the changes merged into an email that does not
        go (its own change cancelled out, or no longer wanted) are told in
        the email of another change to the task."""
        return self.merged_with([lead_id]).update(
            digest=to,
            last_error=f"told in one email with the other changes (#{to.pk})",
            updated_at=timezone.now(),
        )

    def hold_merged(self, lead_id: int) -> int:
        """bundled -> held: the changes merged into an email its reader now
        reads in the daily digest wait for the digest with it."""
        return self.merged_with([lead_id]).update(
            status=Delivery.Status.HELD,
            digest=None,
            last_error="",
            updated_at=timezone.now(),
        )

    def untold(self, lead_id: int, reason: str) -> int:
        """bundled -> skipped: the changes merged into an email that does not
        go, with no other email to tell them; the reason says which and why."""
        return self.merged_with([lead_id]).update(
            status=Delivery.Status.SKIPPED,
            last_error=reason[:500],
            updated_at=timezone.now(),
        )

    def waiting_after(self, now: datetime) -> DeliveryQuerySet:
        """Queued, and not to be claimed before a time still to come."""
        return self.filter(status=Delivery.Status.QUEUED, not_before__gt=now)

    def requeue_stuck(self, now: datetime) -> list[int]:
        """sending -> queued, for rows a dead worker left past their lease.

        The attempt stays spent: a message that kills its worker every time must
        end, which give_up_stuck sees to.
        """
        ids = list(self.stuck(now).values_list("pk", flat=True))
        self.stuck(now).filter(pk__in=ids).update(
            status=Delivery.Status.QUEUED,
            claim_token="",
            next_attempt_at=now,
            last_error="Requeued by the sweep: the worker stopped mid-send",
            updated_at=now,
        )
        return ids

    def give_up_stuck(self, now: datetime) -> int:
        """sending -> failed, for stuck rows that have no attempt left."""
        worn_out = self.stuck(now).filter(
            attempts__gte=settings.NOTIFICATIONS_MAX_ATTEMPTS
        )
        return worn_out.update(
            status=Delivery.Status.FAILED,
            updated_at=now,
            last_error="Gave up: the worker stopped mid-send on every attempt",
        )

    def resend(self, delivery_ids: Iterable[int]) -> list[int]:
        """failed -> queued, with a fresh set of attempts.

        Same row, same Message-ID: a mail client can tell it is a re-send.
        """
        failed = self.filter(pk__in=list(delivery_ids), status=Delivery.Status.FAILED)
        ids = list(failed.values_list("pk", flat=True))
        now = timezone.now()
        failed.filter(pk__in=ids).update(
            status=Delivery.Status.QUEUED,
            attempts=0,
            claim_token="",
            next_attempt_at=now,
            updated_at=now,
        )
        return ids

    def cancel(self, delivery_ids: Iterable[int]) -> list[int]:
        """queued -> cancelled: an Admin stopped these before they went out."""
        queued = self.filter(pk__in=list(delivery_ids), status=Delivery.Status.QUEUED)
        ids = list(queued.values_list("pk", flat=True))
        queued.filter(pk__in=ids).update(
            status=Delivery.Status.CANCELLED, waiting_for="", updated_at=timezone.now()
        )
        return ids

    def record_digest(self, recipient_id: int, day: date) -> Delivery | None:
        """(nothing) -> a queued digest for this person and day, with every
        notification held for them bundled into it, in one transaction.

        None when nothing is held, or the day's digest exists already: what is
        held now waits for the next one.
        """
        held = self.held().filter(recipient_id=recipient_id)
        with transaction.atomic():
            if not held.exists():
                return None
            digest, created = self.get_or_create(
                event_key=f"digest:{recipient_id}:{day.isoformat()}",
                defaults={
                    "kind": Delivery.Kind.DIGEST,
                    "recipient_id": recipient_id,
                    "context": {"day": day.isoformat()},
                },
            )
            if created:
                self.bundle(digest)
        return digest if created else None

    def bundle(self, digest: Delivery) -> int:
        """held -> bundled, into this digest: every held row of its recipient
        that no digest has taken. One UPDATE, so a row held a moment later waits
        for the next digest and none lands in two, or in none."""
        held = self.filter(
            recipient_id=digest.recipient_id,
            status=Delivery.Status.HELD,
            digest__isnull=True,
        )
        return held.update(
            status=Delivery.Status.BUNDLED, digest=digest, updated_at=timezone.now()
        )

    def purge_finished(self, before: datetime, batch: int = 1000) -> int:
        """sent, skipped, cancelled, bundled -> (deleted), when last changed
        before `before`: in batches, each its own short transaction, so the
        table is never locked for long. Failed rows stay until dealt with."""
        finished = self.filter(status__in=FINISHED, updated_at__lt=before)
        deleted = 0
        while ids := list(finished.values_list("pk", flat=True)[:batch]):
            with transaction.atomic():
                deleted += (
                    self.filter(pk__in=ids).delete()[1].get(Delivery._meta.label, 0)
                )
        return deleted

    # In the app: the inbox (notifications/inbox.py) -------------------------------

    def inbox_of(self, user_id: int) -> DeliveryQuerySet:
        """This person's notifications about tasks, whatever became of the
        email: the items of their inbox, archived ones included."""
        return self.filter(recipient_id=user_id, kind__in=kinds.INBOX_KINDS)

    def about(self, task_id: int) -> DeliveryQuerySet:
        """The rows about one task (its id is in every snapshot)."""
        return self.filter(context__task_id=task_id)

    def unread(self) -> DeliveryQuerySet:
        """Not read, and not archived (archiving reads too)."""
        return self.filter(read_at__isnull=True, archived_at__isnull=True)

    def mark_read(self, via: str) -> int:
        """Read now, in the app or from the email; a row read before keeps when
        and how it was read first. An email that has not left yet will not."""
        return self.filter(read_at__isnull=True).update(
            read_at=timezone.now(), read_via=via
        )

    def archive(self) -> int:
        """Out of the inbox, and read (in the app) if it was not yet."""
        self.mark_read(Delivery.ReadVia.APP)
        return self.filter(archived_at__isnull=True).update(archived_at=timezone.now())

    def unarchive(self) -> int:
        """Back in the inbox; it stays read."""
        return self.filter(archived_at__isnull=False).update(archived_at=None)

    def postpone(self, delivery_ids: Iterable[int], until: datetime) -> int:
        """queued -> queued, due later: the sweep has just published these again."""
        return self.filter(
            pk__in=list(delivery_ids), status=Delivery.Status.QUEUED
        ).update(next_attempt_at=until)


def assignment_insert(
    database: BaseDatabaseWrapper, assignments: Assignments
) -> tuple[str, tuple[Any, ...]]:
    """record_assignments' INSERT ... SELECT, and the parameters of its WHERE.

    Written out rather than built by the ORM: a request pays for this SQL, and
    compiling a queryset for its WHERE cost it more than running it. Only
    quoted names are interpolated; every value is a parameter.
    """
    quote = database.ops.quote_name
    through = quote(assignments.through._meta.db_table)
    task_field = assignments.through._meta.get_field("task")
    tasks = quote(cast("type[models.Model]", task_field.related_model)._meta.db_table)
    schedules = quote(DigestSchedule._meta.db_table)
    deliveries = quote(Delivery._meta.db_table)
    json_object = (
        "jsonb_build_object" if database.vendor == "postgresql" else "json_object"
    )
    columns = ", ".join(quote(column) for column in ASSIGNMENT_ROW)
    values = ", ".join(ASSIGNMENT_ROW.values()).format(json_object=json_object)
    task_ids, user_ids = sorted(assignments.task_ids), sorted(assignments.user_ids)
    statement = (
        f"INSERT INTO {deliveries} ({columns}) "  # noqa: S608
        f"SELECT {values} FROM {through} a JOIN {tasks} t ON t.id = a.task_id "
        f"WHERE a.task_id IN ({placeholders(task_ids)}) "
        f"AND a.user_id IN ({placeholders(user_ids)}) "
        f"ON CONFLICT ({quote('event_key')}) DO NOTHING RETURNING {quote('id')}, "
        f"(SELECT s.coalesce_seconds FROM {schedules} s "
        f"WHERE s.user_id = {deliveries}.{quote('recipient_id')})"
    )
    return statement, (*task_ids, *user_ids)


def placeholders(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def leave_sending_sql(database: BaseDatabaseWrapper, changes: dict[str, Any]) -> str:
    """UPDATE these columns of a row this run claimed (its id, still sending,
    by this run's token), as Delivery._leave_sending does with the ORM. Only
    quoted names are interpolated; every value is a parameter."""
    quote = database.ops.quote_name
    columns = ", ".join(f"{quote(column)} = %s" for column in changes)
    return (
        f"UPDATE {quote(Delivery._meta.db_table)} SET {columns} "  # noqa: S608
        f"WHERE {quote('id')} = %s AND {quote('status')} = %s "
        f"AND {quote('claim_token')} = %s"
    )


def first_due(kind: str, now: datetime) -> datetime:
    """When a row recorded now is first due: a change to a task once the site's
    coalescing window has passed (a worker applies its reader's own window
    when it claims the row: timing.py), anything else now. The sweep and
    companion claims take queued rows once due, so a change waiting for its
    window is left to the job published for that time (dispatch.py)."""
    if kind in kinds.CHANGE_KINDS:
        return now + timedelta(seconds=settings.NOTIFICATIONS_COALESCE_SECONDS)
    return now


def coalescing_window(own: int | None) -> int:
    """A reader's coalescing window in seconds: their own choice
    (DigestSchedule.coalesce_seconds), or the site's when they made none."""
    return settings.NOTIFICATIONS_COALESCE_SECONDS if own is None else own


def ready(now: datetime) -> Q:
    """A queued row a claim may take now: no time set, or its time has come."""
    return Q(not_before__isnull=True) | Q(not_before__lte=now)


def claimed_now(token: str, now: datetime, job_id: str) -> dict[str, Any]:
    """What a claim writes: the run's token, an attempt spent, no wait left."""
    return {
        "status": Delivery.Status.SENDING,
        "claim_token": token,
        "claimed_at": now,
        "job_id": job_id,
        "attempts": F("attempts") + 1,
        "waiting_for": "",
        "updated_at": now,
    }


class Delivery(models.Model):
    """One email to one recipient: the outbox row the worker claims and sends."""

    # Declared with everything else about each kind in notifications/kinds.py.
    Kind = kinds.Kind

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"
        CANCELLED = "cancelled", "Cancelled"
        HELD = "held", "Held for the digest"
        BUNDLED = "bundled", "In a digest or with other changes"
        BOUNCED = "bounced", "Bounced"

    Reason = kinds.Reason

    class Wait(models.TextChoices):
        """Why a queued delivery waits without having failed."""

        NOTHING = "", "Nothing"
        PACE = "pace", "The send rate or daily limit"
        PROVIDER = "provider", "The provider to accept mail again"
        DOMAIN = "domain", "The recipient's domain to accept mail again"
        WINDOW = "window", "More changes to the same task"
        QUIET = "quiet", "The end of the recipient's quiet hours"

    class Relay(models.TextChoices):
        """Which relay took the email (notifications/relays.py)."""

        PRIMARY = "primary", "Primary"
        FALLBACK = "fallback", "Fallback"

    class ReadVia(models.TextChoices):
        """How its recipient read a notification (the delivery log says it)."""

        NOTHING = "", "Not read"
        APP = "app", "Read in the app"
        EMAIL = "email", "Opened from the email"

    kind = models.CharField(max_length=20, choices=kinds.kind_choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,  # led by the (recipient, created_at) index below
    )
    # One row per event and recipient: recording the same event twice is a no-op.
    event_key = models.CharField(max_length=200, unique=True)
    # Ids and the snapshot the email needs (never a token, never a body).
    context = models.JSONField(default=dict, blank=True)
    # The strongest reason the recipient is told (notifications about a task).
    reason = models.CharField(
        max_length=10, choices=Reason.choices, blank=True, default=""
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    # Set while a queued row waits for the pace or a busy provider (no attempt
    # spent); the reason, such as the provider's reply, is in last_error.
    waiting_for = models.CharField(
        max_length=10, choices=Wait.choices, blank=True, default=Wait.NOTHING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The Celery job run that last claimed the row: written by the worker's claim,
    # so empty until a worker takes it. Matches django-celery-results' task_id.
    job_id = models.CharField(max_length=255, blank=True)
    # Set by the conditional update that claims the row for one job run.
    claim_token = models.CharField(max_length=36, blank=True)
    smtp_reply = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    relay = models.CharField(max_length=10, choices=Relay.choices, blank=True)
    # The ESP's own id for the message (django-anymail's message_id), which its
    # tracking webhooks name; empty for SMTP.
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the delivery is due: the sweep re-dispatches queued rows a grace after it,
    # and so leaves alone those waiting for a retry countdown.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # No claim takes the row before this (notifications/timing.py): its task's
    # coalescing window, or its recipient's quiet hours. Empty: the worker has
    # not looked at its timing yet, or it goes at once.
    not_before = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # What an ESP's tracking webhook reported after the send; when the recipient's
    # server reported it undelivered (the reason: last_error).
    delivered_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # The daily digest a held delivery went out in (set when it is bundled), or
    # the email that told it with the other changes to its task (Delivery.merge_into).
    digest = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bundled",
        db_index=False,  # the partial delivery_bundled below
    )
    # Its recipient's, in the app's inbox (the kinds about a task): when they
    # read it and how (in the app, or by following the email's link), and when
    # they archived it. Never the email's status.
    read_at = models.DateTimeField(null=True, blank=True)
    read_via = models.CharField(
        max_length=5, choices=ReadVia.choices, blank=True, default=ReadVia.NOTHING
    )
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        # Every index is written by each INSERT and by each change of status
        # (no status change is a HOT update), so the ones only a status reads
        # are partial: they hold the few rows queued or sending, not the
        # millions sent.
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="queued"),
                name="delivery_queued",
            ),  # the sweep, the companion claims, the metrics' oldest wait
            models.Index(
                fields=["claim_token"],
                condition=Q(status="sending"),
                name="delivery_claimed",
            ),  # a run's rows
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="delivery_sending",
            ),  # the sweep's stuck rows
            models.Index(
                fields=["digest"],
                condition=Q(digest__isnull=False),
                name="delivery_bundled",
            ),  # what a digest or a merged email told
            models.Index(fields=["recipient", "-created_at"]),
            models.Index(fields=["status", "kind"]),  # the metrics' counts
            # Partial, so recording a delivery (a request) does not write them.
            models.Index(
                fields=["recipient"], condition=Q(status="held"), name="delivery_held"
            ),  # the digests
            models.Index(
                fields=["updated_at"],
                condition=Q(
                    status__in=["sent", "skipped", "cancelled", "bundled", "bounced"]
                ),
                name="delivery_finished",
            ),  # retention
            # Partial, so a row sent over SMTP writes no entry.
            models.Index(
                fields=["provider_message_id"],
                condition=~Q(provider_message_id=""),
                name="delivery_provider_message",
            ),  # the ESPs' tracking webhooks
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True, archived_at__isnull=True),
                name="delivery_unread",
            ),  # the bell's count, asked by every open page (new rows write it)
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"

    @property
    def address(self) -> str:
        """Where the email goes: the recipient's address, unless the row names
        one. An email change's confirmation goes to the new address, and its
        notice to the address the account had when the change was asked for."""
        return str(self.context.get("to") or self.recipient.email)

    @property
    def task_title(self) -> str:
        """The task's title when the email was recorded (tasks may be gone since)."""
        return str(self.context.get("title", ""))

    # Transitions of a row this run claimed ----------------------------------------

    def mark_sent(
        self,
        reply: str,
        message_id: str,
        relay: str = Relay.PRIMARY,
        provider_message_id: str = "",
    ) -> bool:
        """sending -> sent: the server (of this relay) accepted the message.

        As _leave_sending, but written out: a run writes this once per email,
        and compiling the ORM's UPDATE cost more than running it.
        """
        database = connections[Delivery.objects.db]
        now = database.ops.adapt_datetimefield_value(timezone.now())
        changes: dict[str, Any] = {
            "status": Delivery.Status.SENT.value,
            "sent_at": now,
            "updated_at": now,
            "smtp_reply": reply[:500],
            "message_id": message_id,
            "relay": str(relay),
            "provider_message_id": provider_message_id[:255],
            "last_error": "",
        }
        guard: list[Any] = [self.pk, Delivery.Status.SENDING.value, self.claim_token]
        with database.cursor() as cursor:
            cursor.execute(
                leave_sending_sql(database, changes), [*changes.values(), *guard]
            )
            return bool(cursor.rowcount == 1)

    def mark_failed(self, reason: str) -> bool:
        """sending -> failed: refused for good, or out of attempts."""
        return self._leave_sending(status=Delivery.Status.FAILED, last_error=reason)

    def retry_later(self, reason: str, delay: float) -> bool:
        """sending -> queued, due after `delay` seconds; the attempt stays spent."""
        due = timezone.now() + timedelta(seconds=delay)
        return self._leave_sending(
            status=Delivery.Status.QUEUED,
            next_attempt_at=due,
            last_error=reason,
            claim_token="",
        )

    def release_untried(self) -> bool:
        """sending -> queued, due now, the attempt given back: never tried."""
        return self._leave_sending(
            status=Delivery.Status.QUEUED,
            attempts=F("attempts") - 1,
            next_attempt_at=timezone.now(),
            claim_token="",
        )

    def wait_for_pace(self, until: datetime, wait: str, reason: str = "") -> bool:
        """sending -> queued, due `until`, the attempt given back: not this
        message's fault (our send rate, the daily limit, a busy provider)."""
        return self._leave_sending(
            status=Delivery.Status.QUEUED,
            attempts=F("attempts") - 1,
            next_attempt_at=until,
            claim_token="",
            waiting_for=wait,
            last_error=reason,
        )

    def merge_into(self, lead: Delivery) -> bool:
        """sending -> bundled, untried, into the lead's email: one email tells
        every change to a task its reader's window gathered (built from the
        lead and what it bundles, on every try of the lead)."""
        return self._leave_sending(
            status=Delivery.Status.BUNDLED,
            attempts=F("attempts") - 1,
            digest=lead,
            last_error=f"told in one email with the other changes (#{lead.pk})",
        )

    def skip(self, reason: str) -> bool:
        """sending -> skipped: the email is no longer wanted."""
        return self._leave_sending(status=Delivery.Status.SKIPPED, last_error=reason)

    def hold_for_digest(self) -> bool:
        """sending -> held, untried: its recipient reads this kind in a digest."""
        return self._leave_sending(
            status=Delivery.Status.HELD, attempts=F("attempts") - 1, last_error=""
        )

    def suppress(self, reason: str) -> bool:
        """sending -> skipped, untried: the address bounced as unknown before."""
        return self._leave_sending(
            status=Delivery.Status.SKIPPED,
            attempts=F("attempts") - 1,
            last_error=f"suppressed: {reason}",
        )

    # After the send: what the recipient's side reported ------------------------

    def bounce(self, reason: str, at: datetime) -> bool:
        """sent -> bounced: the recipient's server reported it undelivered. Once:
        a second report of the same bounce finds the row moved and changes nothing."""
        moved = Delivery.objects.filter(pk=self.pk, status=Delivery.Status.SENT).update(
            status=Delivery.Status.BOUNCED,
            bounced_at=at,
            last_error=reason[:500],
            updated_at=timezone.now(),
        )
        return moved == 1

    def note_delivered(self, at: datetime) -> bool:
        """The ESP reports the recipient's server took it (no change of status)."""
        return (
            Delivery.objects.filter(
                pk=self.pk, status=Delivery.Status.SENT, delivered_at__isnull=True
            ).update(delivered_at=at)
            == 1
        )

    def _leave_sending(self, **changes: Any) -> bool:
        """One UPDATE by primary key, guarded by this run's claim.

        A run the sweep has since given up on (and another run re-claimed) finds
        no row to move and writes nothing.
        """
        changes["updated_at"] = timezone.now()
        moved = Delivery.objects.filter(
            pk=self.pk, status=Delivery.Status.SENDING, claim_token=self.claim_token
        ).update(**changes)
        return moved == 1


# Rows nothing will move again; the retention job deletes them after a while.
FINISHED = (
    Delivery.Status.SENT,
    Delivery.Status.SKIPPED,
    Delivery.Status.CANCELLED,
    Delivery.Status.BUNDLED,
    Delivery.Status.BOUNCED,
)


class Preference(models.Model):
    """How one person wants one kind of notification. No row: right away."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "Right away"
        DIGEST = "digest", "In a daily digest"
        OFF = "off", "Off"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=kinds.kind_choices)
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IMMEDIATE)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind"], name="one_preference_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}: {self.mode}"


class DigestSchedule(models.Model):
    """When one person's emails go out, in their time zone: their daily
    digest, how long changes to a task are gathered into one email, their
    quiet hours and days (notifications/timing.py) and their due-date
    reminders (notifications/reminders.py). No row: the defaults."""

    class Window(models.IntegerChoices):
        """How long changes to one task are gathered (seconds); no choice
        (None) is the site's NOTIFICATIONS_COALESCE_SECONDS."""

        AT_ONCE = 0, "At once, one email per change"
        QUARTER = 900, "15 minutes"
        HOUR = 3600, "An hour"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    send_at = models.TimeField(default=time(8, 0))
    coalesce_seconds = models.PositiveIntegerField(
        null=True, blank=True, choices=Window.choices
    )
    # No notification email from quiet_from to quiet_until (across midnight
    # when quiet_from is later), nor on the quiet days (0 Monday ... 6 Sunday).
    quiet_from = models.TimeField(null=True, blank=True)
    quiet_until = models.TimeField(null=True, blank=True)
    quiet_days = models.CharField(max_length=7, blank=True, default="")
    # A reminder this many days before a task's due date; None: none.
    remind_days_before = models.PositiveSmallIntegerField(
        null=True, blank=True, default=1
    )
    remind_on_due_day = models.BooleanField(default=True)
    # Every day after the due date until the task is completed.
    remind_overdue = models.BooleanField(default=True)
    remind_at = models.TimeField(default=time(9, 0))

    def __str__(self) -> str:
        return f"Digest of {self.user_id} at {self.send_at:%H:%M}"


class CalendarFeed(models.Model):
    """A person's private calendar feed of their tasks' due dates
    (notifications/calendar.py). Its link is signed with the generation, so
    revoking (a new generation) kills every link given before. No row, or
    not enabled: no feed."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    generation = models.PositiveIntegerField(default=1)
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Calendar feed of {self.user_id} ({self.generation})"


class NotificationLevel(models.Model):
    """How much one person hears of one project's tasks (project set), or of
    every project they have not chosen for (project empty: their default). No
    row at all: Participating.

    Recording tells everyone concerned by an event (notifications/audience.py:
    Watching adds a project's every task); the worker applies the level when it
    takes the email (notifications/wishes.py), so a change counts at once.
    """

    class Level(models.TextChoices):
        WATCHING = "watching", "Watching"
        PARTICIPATING = "participating", "Participating"
        MENTIONS = "mentions", "Mentions only"
        OFF = "off", "Off"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    project = models.ForeignKey(
        "tasks.Project",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    level = models.CharField(max_length=13, choices=Level.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project"], name="one_level_per_project"
            ),
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(project__isnull=True),
                name="one_default_level",
            ),
        ]
        indexes = [models.Index(fields=["project", "level"])]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.project_id or 'every project'}: {self.level}"


class TaskMute(models.Model):
    """No more email about this task for this person (notifications/wishes.py),
    except when someone mentions them; the app still shows everything."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    task = models.ForeignKey("tasks.Task", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "task"], name="one_mute_per_task")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} muted {self.task_id}"


class SuppressionQuerySet(models.QuerySet["Suppression"]):
    def of(self, addresses: Iterable[str]) -> dict[str, Suppression]:
        """The suppressions among these addresses, by lower-cased address."""
        wanted = {address.lower() for address in addresses if address}
        return {s.address: s for s in self.filter(address__in=wanted)}

    def add(self, address: str, reason: str, delivery: Delivery | None) -> None:
        """Suppress an address; a suppression already there is kept as it was."""
        self.get_or_create(
            address=address.lower(),
            defaults={"reason": reason[:500], "delivery": delivery},
        )


class Suppression(models.Model):
    """An address the provider refused as unknown: nothing more is sent to it
    until an Admin lifts the suppression (deletes this row)."""

    address = models.EmailField(max_length=254, unique=True)  # lower-cased
    reason = models.CharField(max_length=500)
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SuppressionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.address


class Bounce(models.Model):
    """A bounce report for one delivery (notifications/feedback.py): hard ones
    suppress the address at once, soft ones once enough came within a while."""

    class Kind(models.TextChoices):
        HARD = "hard", "Hard (5.x.x): the address does not take mail"
        SOFT = "soft", "Soft (4.x.x): the address did not take it this time"

    # One report per delivery: the same bounce heard twice changes nothing.
    delivery = models.OneToOneField(
        Delivery,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_report",
    )
    address = models.EmailField(max_length=254)  # lower-cased
    kind = models.CharField(max_length=4, choices=Kind.choices)
    reason = models.CharField(max_length=500)
    bounced_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-bounced_at"]
        indexes = [models.Index(fields=["address", "kind", "bounced_at"])]

    def __str__(self) -> str:
        return f"{self.kind} bounce of {self.address}"


class ComplaintQuerySet(models.QuerySet["Complaint"]):
    def standing(self) -> ComplaintQuerySet:
        """Complaints the person has not answered by turning emails back on."""
        return self.filter(lifted_at__isnull=True)

    def people_among(self, user_ids: Iterable[int]) -> set[int]:
        """Who, of these people, gets no notification email: one query."""
        wanted = set(user_ids)
        if not wanted:
            return set()
        found = self.standing().filter(user_id__in=wanted)
        return set(found.values_list("user_id", flat=True))

    def lift(self, user_id: int) -> int:
        """The person turned their notification emails back on."""
        return self.standing().filter(user_id=user_id).update(lifted_at=timezone.now())


class Complaint(models.Model):
    """Someone marked one of our emails as spam (an ARF report, or an ESP's
    complaint event): none of their notification emails goes out until they
    turn them back on in their email settings. Account emails still go."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    delivery = models.ForeignKey(
        Delivery,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="complaints",
    )
    source = models.CharField(max_length=60)  # "an ARF report", "Amazon SES" ...
    reported_at = models.DateTimeField()
    lifted_at = models.DateTimeField(null=True, blank=True)

    objects = ComplaintQuerySet.as_manager()

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            # The same report heard twice is one complaint.
            models.UniqueConstraint(
                fields=["delivery"], name="one_complaint_per_delivery"
            )
        ]

    def __str__(self) -> str:
        return f"Complaint of {self.user_id} ({self.source})"


class InboundMessage(models.Model):
    """A message taken at an address of ours, once by (Message-ID, address): the
    same message again, through any door, is taken and changes nothing. What
    became of it is kept for operators (the admin), refusals with their reason.
    Refused before it could be read (unknown address, too large, broken MIME),
    a message leaves no row: nothing of it can be trusted."""

    class Kind(models.TextChoices):
        REPLY = "reply", "Reply to a task email"
        BOUNCE = "bounce", "Bounce report"
        COMPLAINT = "complaint", "Complaint (ARF)"
        AUTO_REPLY = "auto_reply", "Auto-reply"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        COMMENTED = "commented", "Posted as a comment"
        BOUNCED = "bounced", "Delivery marked bounced"
        COMPLAINED = "complained", "Notification emails turned off"
        IGNORED = "ignored", "Ignored"
        REFUSED = "refused", "Refused"

    message_id = models.CharField(max_length=255)
    address = models.CharField(max_length=254)  # ours, lower-cased
    sender = models.CharField(max_length=254, blank=True)  # its From address
    kind = models.CharField(max_length=10, choices=Kind.choices)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.CharField(max_length=500, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery = models.ForeignKey(
        Delivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.ForeignKey(
        "tasks.Comment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id", "address"], name="inbound_message_once"
            )
        ]
        indexes = [models.Index(fields=["user", "kind", "received_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.address}: {self.outcome}"


class SendingPauseQuerySet(models.QuerySet["SendingPause"]):
    def is_paused(self) -> bool:
        return self.filter(pk=SendingPause.SINGLETON).exists()

    def current(self) -> SendingPause | None:
        return (
            self.select_related("paused_by").filter(pk=SendingPause.SINGLETON).first()
        )

    def pause(self, by: Any) -> bool:
        """Pause all sending; False when it was paused already."""
        _, created = self.get_or_create(
            pk=SendingPause.SINGLETON, defaults={"paused_by": by}
        )
        return created

    def resume(self) -> bool:
        """Resume sending; False when it was not paused."""
        deleted, _ = self.filter(pk=SendingPause.SINGLETON).delete()
        return deleted > 0


class SendingPause(models.Model):
    """While this one row exists no email is sent: claims take nothing and queued
    rows wait. A row in the database, so the pause survives restarts."""

    SINGLETON = 1

    paused_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    paused_at = models.DateTimeField(auto_now_add=True)

    objects = SendingPauseQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Sending paused since {self.paused_at:%Y-%m-%d %H:%M %Z}"
