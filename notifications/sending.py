"""The worker's batch run: claim, build, take a turn, send, record.

Plain functions, so tests reach them without a broker; worker/jobs.py wraps them.
The relays (an SMTP server or an ESP's API, and a fallback) are in
notifications/relays.py, what a failed send means in notifications/smtp.py, the
shared pace (and which relay a turn goes by) in notifications/pace.py; every
change of a delivery's status is a transition in notifications/models.py.

Levels, outermost first: send_batch (one job run) -> BatchRun.send (one email)
-> SMTPClient.send or BackendTransport.send (one SMTP transaction or API call).
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import redis
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from notifications.contexts import Skip
from notifications.emails import Undeliverable, build_message, tasks_for
from notifications.kinds import ACCOUNT_KINDS, TASK_KINDS
from notifications.merge import Drafts
from notifications.metrics import MetricsTally
from notifications.models import Delivery, Suppression
from notifications.pace import Turn, shared_pace
from notifications.preferences import Mode, modes_for
from notifications.relays import (
    FALLBACK,
    PRIMARY,
    PROBE,
    SEND_ERRORS,
    never_sent,
    process_relays,
)
from notifications.smtp import Accepted, Failure, Verdict, classify, unanswered
from notifications.timing import (
    Pair,
    cancelled_out,
    pair_of,
    plan_batch,
    whole_seconds_until,
)
from notifications.wishes import Wishes
from project.redis import redis_client

logger = logging.getLogger(__name__)

# A turn this close is waited for in place; a longer wait hands the rows back.
INLINE_WAIT = 1.0
# When Redis cannot tell the pace, the rows wait this long and try again.
PACE_UNKNOWN = Turn(30.0, "unknown")


@dataclass
class BatchReport:
    """What a job run did; small and address-free, it ends up in the results.
    Its tally, by kind, goes to the metrics."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    # handed back to wait for the pace, a busy provider, or their time
    # (a coalescing window, quiet hours: notifications/timing.py)
    waiting: int = 0
    held: int = 0  # kept for their recipient's daily digest
    retry_ids: list[int] = field(default_factory=list)
    countdown: float = 0.0  # when the retry job should run: the longest wait
    # Rows waiting for their time, by the whole seconds until it: each group is
    # published as a job of its own, due then (worker/jobs.py).
    later: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))
    tally: MetricsTally = field(default_factory=MetricsTally)

    def count(self, outcome: str, delivery: Delivery, relay: str = "") -> None:
        """sent, failed, skipped or held: one more, here and in the metrics
        (a sent one also by the relay that took it)."""
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.tally.count(outcome, delivery.kind, relay)

    def retry(self, delivery: Delivery, delay: float) -> None:
        """A new run takes this row after `delay` seconds. Longer waits than a
        retry may be held in the broker are left to the sweep, which publishes
        the row once it is due."""
        if delay <= settings.NOTIFICATIONS_RETRY_MAX_DELAY:
            self.retry_ids.append(delivery.pk)
            self.countdown = max(self.countdown, delay)

    def wait(
        self, delivery: Delivery, until: datetime, *, publish: bool = True
    ) -> None:
        """This row waits for its time; a job takes it then (unless `publish`
        is off: another row's job gathers it), or the sweep does."""
        self.waiting += 1
        if publish:
            self.come_back(delivery.pk, until)

    def come_back(self, delivery_id: int, until: datetime) -> None:
        """A job takes this row at its time, or the sweep does when the wait is
        longer than the broker may safely hold a job (half its visibility
        timeout: Redis hands a job held longer to a second worker)."""
        delay = whole_seconds_until(until, timezone.now())
        if delay <= settings.CELERY_VISIBILITY_TIMEOUT / 2:
            self.later[max(delay, 0)].append(delivery_id)

    def summary(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "held": self.held,
            "waiting": self.waiting,
            "retrying": len(self.retry_ids),
        }


def send_batch(
    delivery_ids: Sequence[int], job_id: str = "", fill_to: int = 0
) -> BatchReport:
    """Claim the queued deliveries among these ids (none while sending is paused),
    and other notifications due now up to `fill_to` (the worker's jobs: a batch
    renders and connects once for more emails), hand back those whose time has
    not come (timing.py), then send each over one connection and record its
    outcome at once.

    A run that finds nothing to claim (another run's companion claim took its
    rows: most jobs in a burst) ends after that one query.
    """
    claimed = Delivery.objects.claim(delivery_ids, job_id, fill_to)
    if not claimed:
        return BatchReport()
    plan = plan_batch(claimed, timezone.now())
    run = BatchRun(plan.deliveries, plan.windowed)
    for delivery, until in plan.waiting:
        run.report.wait(delivery, until, publish=delivery.pk not in plan.joined)
    try:
        run.send_all()
    finally:
        publish_tally(run.report.tally)
    return run.report


def publish_tally(tally: MetricsTally) -> None:
    """The batch's counts to the shared metrics; never fatal to the batch."""
    try:
        tally.flush(redis_client())
    except redis.RedisError:
        logger.warning("The metrics could not be written to Redis")


def send_budget(deliveries: Sequence[Delivery]) -> float:
    """Seconds a run may spend before it hands the rest to a new run.

    Stopping short of the soft time limit keeps a slow server from killing the
    job mid-batch, leaving rows in "sending" until the lease runs out; a run of
    notifications stops much sooner, so account emails never wait long for a
    free worker.
    """
    limit = settings.CELERY_TASK_SOFT_TIME_LIMIT - 3 * settings.EMAIL_TIMEOUT
    if any(delivery.kind in ACCOUNT_KINDS for delivery in deliveries):
        return float(limit)
    return float(min(limit, settings.NOTIFICATIONS_BULK_RUN_SECONDS))


class BatchRun:
    """One job run's claimed deliveries, sent in order over one connection."""

    def __init__(
        self, deliveries: list[Delivery], windowed: set[int] | None = None
    ) -> None:
        self.deliveries = deliveries
        # The rows that gather the other changes to their task (timing.py), and
        # what each lead tells besides itself (merged before, or in this run).
        self.windowed = windowed or set()
        self.changes = told_with(
            {delivery.pk for delivery in deliveries if delivery.kind in TASK_KINDS}
        )
        self.checked: set[int] = set()  # wanted, as wanted_now found
        self.tasks = tasks_for(deliveries)  # one query for the batch
        self.drafts = Drafts()  # each email about a task rendered once (merge.py)
        emails = (delivery.address for delivery in deliveries)
        self.suppressed = Suppression.objects.of(emails) if deliveries else {}
        self.wishes = Wishes(deliveries, self.tasks)
        self.modes = modes_for(deliveries)
        self.relays = process_relays()  # kept open for the next batch
        self.pace = shared_pace()
        self.report = BatchReport()
        self.deadline = time.monotonic() + send_budget(deliveries)

    def send_all(self) -> None:
        deliveries = self.coalesce(self.deliveries)
        for index, delivery in enumerate(deliveries):
            if time.monotonic() > self.deadline:
                self.release(deliveries[index:])
                return
            wait = self.send(delivery)
            if wait is not None and wait.one_domain:
                self.hold([delivery], wait)  # the other domains' emails go on
            elif wait is not None:
                self.hold(deliveries[index:], wait)
                return

    def coalesce(self, deliveries: list[Delivery]) -> list[Delivery]:
        """The emails to send: every windowed change to a live task, for one
        person, told in one email (its first row's), less what cancels out."""
        groups: dict[Pair, list[Delivery]] = defaultdict(list)
        for delivery in deliveries:
            pair = pair_of(delivery)
            if delivery.pk in self.windowed and pair and pair[1] in self.tasks:
                groups[pair].append(delivery)
        settled: set[int] = set()
        for changes in groups.values():
            if len(changes) > 1:
                settled |= self.tell_together(changes)
        return [delivery for delivery in deliveries if delivery.pk not in settled]

    def tell_together(self, changes: list[Delivery]) -> set[int]:
        """Skip what cancels out and what is not wanted, merge the rest into
        the first; returns the rows settled here (all but that first)."""
        cancelled = cancelled_out(changes)
        settled = set()
        for change in changes:
            if change.pk in cancelled:
                change.skip(cancelled[change.pk])
                self.report.count("skipped", change)
                settled.add(change.pk)
            elif self.wanted_now(change):
                self.checked.add(change.pk)
            else:
                settled.add(change.pk)
        wanted = [change for change in changes if change.pk not in settled]
        for change in changes:
            if change.pk in settled:
                self.hand_on(change, wanted[0] if wanted else None)
        for change in wanted[1:]:
            self.hand_on(change, wanted[0])
            if change.merge_into(wanted[0]):
                self.changes[wanted[0].pk].append(change)
                settled.add(change.pk)
        return settled

    def hand_on(self, lead: Delivery, to: Delivery | None) -> None:
        """What was merged into an email that does not go (or goes in
        another's) is told by `to`, or, with none, skipped with the reason:
        never lost."""
        merged = self.changes.pop(lead.pk, [])
        if not merged:
            return
        if to is None:
            Delivery.objects.untold(lead.pk, untold_because(lead))
            return
        Delivery.objects.pass_on(lead.pk, to)
        told = self.changes[to.pk] + merged
        self.changes[to.pk] = sorted(told, key=lambda change: change.pk)

    def send(self, delivery: Delivery) -> Turn | None:
        """Send one email and record what happened. A Turn when it must wait
        (and, unless only its domain waits, every row after it): the pace is
        spent or the provider is busy."""
        if delivery.pk not in self.checked and not self.wanted_now(delivery):
            self.hand_on(delivery, None)
            return None
        suppression = self.suppressed.get(delivery.address.lower())
        if suppression is not None:
            delivery.suppress(suppression.reason)
            self.report.count("skipped", delivery)
            return None
        message = self.build(delivery)
        if message is None:
            return None
        turn = self.take_turn(delivery)
        if not turn.granted:
            return turn
        return self.send_by(turn.relay, delivery, message)

    def send_by(
        self, relay: str, delivery: Delivery, message: EmailMultiAlternatives
    ) -> Turn | None:
        started = time.monotonic()
        try:
            accepted = self.relays.by(relay).send(message)
        except SEND_ERRORS as error:  # ValueError: a bad address
            return self.after_failure(relay, delivery, message, error)
        if relay == PROBE:
            self.pace.primary_back()
        self.report.tally.send_seconds.append(time.monotonic() - started)
        self.record_sent(delivery, message, accepted, relay)
        return None

    def record_sent(
        self,
        delivery: Delivery,
        message: EmailMultiAlternatives,
        accepted: Accepted,
        relay: str,
    ) -> None:
        relay = FALLBACK if relay == FALLBACK else PRIMARY
        delivery.mark_sent(
            accepted.reply,
            message.extra_headers["Message-ID"],
            relay,
            accepted.provider_message_id,
        )
        self.report.count("sent", delivery, relay)

    def after_failure(
        self,
        relay: str,
        delivery: Delivery,
        message: EmailMultiAlternatives,
        error: BaseException,
    ) -> Turn | None:
        """A failed send; with a fallback relay, a primary that gave no answer
        hands the mail to it (this email too, when nothing of it was sent)."""
        failure = Failure.from_error(error)
        has_fallback = self.relays.fallback is not None
        if relay != FALLBACK and has_fallback and unanswered(failure):
            logger.warning("The primary relay is down: %s", failure.reason)
            self.pace.primary_down()
            if never_sent(error):
                return self.send_by(FALLBACK, delivery, message)
        elif relay == PROBE and classify(failure) is not Verdict.PROVIDER_BUSY:
            self.pace.primary_back()  # it answered, about this email alone
        return self.settle_failure(relay, delivery, message, failure)

    def wanted_now(self, delivery: Delivery) -> bool:
        """Whether the recipient may and still wants this email (wishes.py), then
        their choice for this kind: now, in the digest, or never."""
        why_not = self.wishes.why_not(delivery)
        if why_not is not None:
            delivery.skip(why_not)
            self.report.count("skipped", delivery)
            return False
        mode = self.modes.get((delivery.recipient_id, delivery.kind), Mode.IMMEDIATE)
        if mode == Mode.DIGEST:
            delivery.hold_for_digest()
            self.report.count("held", delivery)
            if self.changes.pop(delivery.pk, None):  # they wait for it too
                Delivery.objects.hold_merged(delivery.pk)
        elif mode == Mode.OFF:
            delivery.skip("turned off in the recipient's preferences")
            self.report.count("skipped", delivery)
        return mode == Mode.IMMEDIATE

    def build(self, delivery: Delivery) -> EmailMultiAlternatives | None:
        """The message, or None when the delivery was settled without one."""
        try:
            changes = self.changes.get(delivery.pk)
            return build_message(delivery, self.tasks, changes, self.drafts)
        except Skip as reason:
            delivery.skip(str(reason))
            self.report.count("skipped", delivery)
            self.hand_on(delivery, None)
        except Undeliverable as reason:
            delivery.mark_failed(str(reason))
            self.report.count("failed", delivery)
        except Exception as error:  # a template or data bug: the rest still go out
            logger.exception("Could not build delivery %s", delivery.pk)
            why = Failure.from_error(error).reason
            delivery.mark_failed(f"Could not build the email: {why}")
            self.report.count("failed", delivery)
        return None

    def take_turn(self, delivery: Delivery) -> Turn:
        """A turn to send; a short wait is waited for here, within the budget."""
        account_email = delivery.kind in ACCOUNT_KINDS
        domain = recipient_domain(delivery)
        while True:
            try:
                turn = self.pace.take_turn(account_email, domain)
            except redis.RedisError:
                logger.warning("The pace cannot be read from Redis; waiting")
                return PACE_UNKNOWN
            fits = time.monotonic() + turn.wait < self.deadline
            busy_domain = turn.cause == "domain"  # the other domains' rows go on
            if turn.granted or turn.wait > INLINE_WAIT or not fits or busy_domain:
                return turn
            time.sleep(turn.wait)

    def settle_failure(
        self,
        relay: str,
        delivery: Delivery,
        message: EmailMultiAlternatives,
        failure: Failure,
    ) -> Turn | None:
        verdict = classify(failure)
        if verdict is Verdict.PROVIDER_BUSY:
            return self.provider_busy(relay, delivery, message, failure)
        if verdict is Verdict.DOMAIN_BUSY:
            domain = recipient_domain(delivery)
            logger.warning("%s is busy: %s", domain, failure.reason)
            return Turn(self.pace.domain_busy(domain), "domain", failure.reason)
        if verdict is Verdict.RETRY:
            self.retry_or_give_up(delivery, failure.reason)
            return None
        logger.warning(
            "Delivery %s failed permanently: %s", delivery.pk, failure.reason
        )
        delivery.mark_failed(failure.reason)
        self.report.count("failed", delivery)
        if verdict is Verdict.UNKNOWN_RECIPIENT:
            Suppression.objects.add(delivery.address, failure.reason, delivery)
            # This batch's later emails to the address are skipped too.
            self.suppressed[delivery.address.lower()] = Suppression(
                reason=failure.reason
            )
        return None

    def provider_busy(
        self,
        relay: str,
        delivery: Delivery,
        message: EmailMultiAlternatives,
        failure: Failure,
    ) -> Turn | None:
        """Everything by this relay waits a while. A primary that keeps
        answering busy (again right after a cool-down, or to a probe) hands the
        mail to the fallback instead, this email first: a busy reply took none
        of it."""
        logger.warning("The provider is busy: %s", failure.reason)
        pause, refusals = self.pace.busy(FALLBACK if relay == FALLBACK else PRIMARY)
        keeps_refusing = relay == PROBE or (relay == PRIMARY and refusals >= 2)
        if keeps_refusing and self.relays.fallback is not None:
            self.pace.primary_down(at_least=pause)
            return self.send_by(FALLBACK, delivery, message)
        return Turn(pause, "provider", failure.reason, relay)

    def retry_or_give_up(self, delivery: Delivery, reason: str) -> None:
        """Later, with backoff, or failed (dead) once out of attempts."""
        if delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            delivery.mark_failed(
                f"Gave up after {delivery.attempts} attempts: {reason}"
            )
            self.report.count("failed", delivery)
            return
        delay = retry_countdown(delivery.attempts)
        delivery.retry_later(reason, delay)
        self.report.retry(delivery, delay)
        self.report.tally.count("retried", delivery.kind)

    def hold(self, deliveries: Sequence[Delivery], turn: Turn) -> None:
        """These rows wait for their turn, their attempts given back."""
        until = timezone.now() + timedelta(seconds=turn.wait)
        for delivery in deliveries:
            delivery.wait_for_pace(until, turn.waiting_for, turn.reason)
            self.report.waiting += 1
            self.report.retry(delivery, turn.wait)

    def release(self, deliveries: Sequence[Delivery]) -> None:
        """Out of time: these rows go back to the queue untried, for a new run."""
        for delivery in deliveries:
            delivery.release_untried()
            self.report.retry(delivery, 0)


def told_with(leads: set[int]) -> defaultdict[int, list[Delivery]]:
    """{lead id: the changes merged into its email}, for rows tried before:
    every task row of the batch (one query), so what a lead gathered is told
    even if it now goes alone (its reader chose "at once" since)."""
    told: defaultdict[int, list[Delivery]] = defaultdict(list)
    if leads:
        for change in Delivery.objects.merged_with(leads):
            if change.digest_id is not None:
                told[change.digest_id].append(change)
    return told


def untold_because(lead: Delivery) -> str:
    """Why a change merged into an email that did not go is skipped."""
    return f"not told: the email of #{lead.pk} that was to tell it did not go"


def recipient_domain(delivery: Delivery) -> str:
    return delivery.address.rpartition("@")[2].lower()


def retry_countdown(attempt: int) -> float:
    """Exponential backoff with full jitter, capped below the visibility timeout."""
    ceiling = min(
        settings.NOTIFICATIONS_RETRY_MAX_DELAY,
        settings.NOTIFICATIONS_RETRY_BASE_DELAY * 2 ** max(attempt - 1, 0),
    )
    return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)
