"""What `make chaos` saw: one plain result per fault run, and its check.

Each fault run's module returns one of these; nothing here measures or prints
(bench.chaos_tables does). The conditions the runs were measured under are here
too, since the table states them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.inbox import Arrivals

# The worker of runs 1-5 and 8: retries (product defaults 30 s / 900 s) and the
# busy provider's cool-down (10 s / 1,800 s) shortened so that 1,000 emails with
# 30 % refused settle within minutes. Runs 6 and 7 keep the product's defaults.
FAULT_ENV = {
    "NOTIFICATIONS_RETRY_BASE_DELAY": "1",
    "NOTIFICATIONS_RETRY_MAX_DELAY": "8",
    "NOTIFICATIONS_PROVIDER_COOLDOWN": "0.05",
    "NOTIFICATIONS_PROVIDER_COOLDOWN_MAX": "0.2",
}
RATE_ENV = {"EMAIL_RATE_LIMIT": "18"}  # run 7: the product's pace, just below it
# Run 10: a burst paced to last a couple of minutes, so that the primary relay's
# minute of death falls in its middle; the fallback relay's address is added.
FAILOVER_ENV = {"EMAIL_RATE_LIMIT": "4"}
# Run 11: changes to a task gathered for 10 s; the sweep publishes rows 5 s
# after their time (beat runs it every 30 s).
COALESCE_ENV = {
    "NOTIFICATIONS_COALESCE_SECONDS": "10",
    "NOTIFICATIONS_SWEEP_GRACE": "5",
}
WORKER_ENVS = {
    "fault runs": FAULT_ENV,
    "run 7": RATE_ENV,
    "run 10": {**FAILOVER_ENV, "EMAIL_FALLBACK_HOST": "(a second SMTP server)"},
    "run 6": {},
    "run 11": COALESCE_ENV,
}
PROVIDER_MAX_RATE = 20  # run 7: the server answers 454 above this many a second
QUOTA_SECONDS = 60.0  # run 6
RELAY_DOWN_SECONDS = 60.0  # run 10
# Run 12: each beat looks for due reminders every second (the product: 60 s).
REMINDER_ENV = {"NOTIFICATIONS_REMINDER_INTERVAL": "1"}


def retried(attempts: Counter[int]) -> int:
    """Sent emails, of these attempt counts, that took more than one attempt."""
    return sum(n for tries, n in attempts.items() if tries != 1)


@dataclass
class RefusedBurst:
    """Runs 1a and 1b: 1,000 emails while 30 % of DATA commands are refused."""

    arrivals: Arrivals
    reply: str  # what the server answered
    answers: int  # refusals the server gave
    seconds: float  # from the commit to the last email accepted
    failed: int
    attempts: Counter[int]  # sent rows by the attempts they took

    @property
    def delivered(self) -> bool:
        return self.arrivals.intact and not self.failed

    @property
    def retries(self) -> int:
        """Attempts spent beyond each email's first."""
        return sum(n * (attempts - 1) for attempts, n in self.attempts.items())


class RecipientRefusals(RefusedBurst):
    """1a. A 4xx about one recipient: that email later, one attempt spent."""

    @property
    def passed(self) -> bool:
        return self.delivered and self.retries > 0


class ProviderBusy(RefusedBurst):
    """1b. 451, the provider is busy: everyone pauses, nobody spends an attempt."""

    @property
    def passed(self) -> bool:
        return self.delivered and self.answers > 0 and not retried(self.attempts)


@dataclass
class RedisOutage:
    """2. Task creations over HTTP while Redis is stopped for a while."""

    arrivals: Arrivals
    requests: int
    statuses: Counter[int]  # HTTP answers by status
    outage_seconds: list[float]  # the requests made while Redis was down
    all_arrived: bool  # within the wait after Redis returned
    last_after_return: float  # seconds from Redis's return to the last email

    @property
    def succeeded(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 400)

    @property
    def passed(self) -> bool:
        return self.succeeded == self.requests and self.arrivals.intact


@dataclass
class KilledWorker:
    """3. The worker SIGKILLed (process group) twice during a burst."""

    arrivals: Arrivals
    in_flight: list[int]  # rows claimed ("sending") at each kill
    concurrency: int  # pool processes of the killed worker
    repeated_message_ids: int

    @property
    def allowed(self) -> int:
        """Duplicates the guarantee allows: one per pool process mid-send, and at
        most one per claimed row, at each kill."""
        return sum(min(claimed, self.concurrency) for claimed in self.in_flight)

    @property
    def passed(self) -> bool:
        arrivals = self.arrivals
        within = arrivals.duplicated <= self.allowed and arrivals.max_copies <= 2
        return not arrivals.lost and within


@dataclass
class PermanentFailures:
    """4. Recipients answered 550 5.1.1 at RCPT."""

    recipients: int
    failed_at_once: int  # rows failed at their first attempt
    rcpt_retried: int  # RCPTs the server saw more than once per address
    failed_in_time: bool
    suppressed: int  # addresses on the suppression list
    reasons: list[tuple[str, int]]  # the commonest, without the address
    arrived: int  # messages the server accepted for them

    @property
    def passed(self) -> bool:
        return (
            self.failed_at_once == self.recipients
            and self.rcpt_retried == 0
            and self.arrived == 0
        )


@dataclass
class HostileForms:
    """5. Hostile submissions, and the messages they led to."""

    submissions: int
    statuses: dict[int, int]  # HTTP answers by status
    errors: list[str]  # submissions answered 5xx
    outcomes: dict[str, int]  # deliveries recorded, by status
    messages: int  # accepted by the server meanwhile
    injected: list[str]  # header or recipient injections found in them
    expected: int  # deliveries that should have been sent
    accepted: int
    duplicated: int

    @property
    def lost(self) -> int:
        return self.expected - self.accepted

    @property
    def passed(self) -> bool:
        return not (self.errors or self.injected or self.duplicated or self.lost)


@dataclass
class QuotaSpent:
    """6. The provider's sending quota spent for a while, mid-burst."""

    arrivals: Arrivals
    spent_at: int  # emails accepted when the quota ran out
    refusals: int  # 550 5.4.5 answers
    resumed_after: float  # seconds from the quota's return to the next email
    last_after: float  # and to the last email
    failed: int
    attempts: Counter[int]

    @property
    def passed(self) -> bool:
        delivered = self.arrivals.intact and not self.failed
        return delivered and not retried(self.attempts) and self.refusals > 0


@dataclass
class Throttled:
    """7. A provider answering 454 above a rate, the product paced below it."""

    arrivals: Arrivals
    throttled: int  # 454 answers
    failed: int
    attempts: Counter[int]
    achieved_rate: float  # emails a second, first to last acceptance
    busiest_second: int

    @property
    def passed(self) -> bool:
        almost_none = self.throttled <= self.arrivals.expected // 100
        delivered = self.arrivals.intact and not self.failed
        return delivered and not retried(self.attempts) and almost_none


@dataclass
class Suppressed:
    """8. Unknown addresses: one email each, then three more each."""

    addresses: int
    tried_once: int  # addresses the server saw exactly one RCPT for
    rcpts: int  # RCPTs for them in all
    addresses_by_rcpts: dict[int, int]
    suppressed: int
    first_rows: dict[tuple[str, int], int]  # first burst, by (status, attempts)
    first_emails: int
    skipped: int  # later emails skipped as suppressed, without an attempt
    later_emails: int
    arrived: int

    @property
    def passed(self) -> bool:
        return (
            self.tried_once == self.addresses == self.rcpts
            and self.first_rows == {("failed", 1): self.first_emails}
            and self.skipped == self.later_emails
            and self.arrived == 0
        )


HOSTILE_MAIL = "hostile mail at the inbound SMTP listener"
# What the listener must answer each hostile message (the start of its reply).
HOSTILE_MAIL_ANSWERS = {
    "10 MB message": "552",
    "MIME tree: no boundary": "554 5.6.0",
    "MIME tree: boundary never comes": "554 5.6.0",
    "MIME tree: nested 40 deep": "554 5.6.0",
    "forged reply token": "550 5.1.1",
    "DSN of another deployment": "550 5.1.1",
}


@dataclass
class HostileMail:
    """9. Hostile mail at the inbound listener, and a reply bomb."""

    answers: dict[str, str]  # each hostile message: the listener's reply
    bomb_answers: list[str]  # the different replies to the bomb's messages
    bomb_seconds: float
    comments: int  # posted by the bomb's sender
    notices: int  # "your reply was not posted" emails recorded for them
    inbound_rows: int  # messages taken (InboundMessage) for them
    sent_status: str  # the sent email the foreign DSN named
    suppressed: int
    complaints: int
    limit: int  # INBOUND_REPLIES_PER_HOUR

    @property
    def refused_clearly(self) -> bool:
        return all(
            self.answers.get(name, "").startswith(code)
            for name, code in HOSTILE_MAIL_ANSWERS.items()
        )

    @property
    def passed(self) -> bool:
        nothing_else = (
            self.sent_status == "sent" and not self.suppressed and not self.complaints
        )
        bomb_held = (
            self.comments == self.limit
            and self.notices == 1
            and self.inbound_rows == 100
            and self.bomb_answers == ["250"]
        )
        return self.refused_clearly and bomb_held and nothing_else


@dataclass
class RelayFailover:
    """10. The primary relay dead for a while mid-burst, a fallback relay set."""

    arrivals: Arrivals  # at either server
    down_at: int  # emails accepted when the primary died
    by_fallback: int  # accepted by the fallback server
    by_primary_after: int  # accepted by the primary after it came back
    switched_after: float  # seconds from the death to the fallback's first email
    returned_after: float  # seconds from the primary's return to its first email
    rows_by_relay: dict[str, int]  # sent rows by the relay they record
    failed: int
    attempts: Counter[int]

    @property
    def recorded_right(self) -> bool:
        """The delivery log names the server that took each email."""
        return self.rows_by_relay.get("fallback", 0) == self.by_fallback

    @property
    def passed(self) -> bool:
        delivered = self.arrivals.intact and not self.failed
        used_and_left = self.by_fallback > 0 and self.by_primary_after > 0
        return delivered and used_and_left and self.recorded_right


@dataclass
class CoalescedKill:
    """11. The worker SIGKILLed while every row waits for its window."""

    arrivals: Arrivals  # one email per (person, task)
    rows: int  # the assignments and re-datings recorded
    waited_at_kill: bool  # every row was waiting when the worker died
    in_flight: int  # rows claimed (sending) at the kill
    told_all: int  # emails telling all four changes
    merged: int  # rows told in another row's email
    skipped: int
    failed: int

    @property
    def passed(self) -> bool:
        arrivals = self.arrivals
        told = self.told_all == arrivals.expected and not arrivals.unexpected
        return arrivals.intact and told and not (self.skipped or self.failed)


@dataclass
class Reminders:
    """12. Due-date reminders with two beats and two workers, one worker
    SIGKILLed."""

    arrivals: Arrivals
    rows: int  # reminder rows recorded
    unsent: int  # of them, not sent by the end
    in_flight: int  # rows claimed ("sending") at the kill
    beat_runs: int  # times the two beats sent the reminders' job

    @property
    def allowed(self) -> int:
        """Duplicates the guarantee allows: the killed worker's one pool
        process mid-send."""
        return min(self.in_flight, 1)

    @property
    def passed(self) -> bool:
        arrivals = self.arrivals
        within = arrivals.duplicated <= self.allowed
        recorded_once = self.rows == arrivals.expected and not self.unsent
        return not arrivals.lost and within and recorded_once


@dataclass
class ChaosResults:
    recipient_refusals: RecipientRefusals
    provider_busy: ProviderBusy
    redis_outage: RedisOutage
    killed_worker: KilledWorker
    permanent_failures: PermanentFailures
    hostile_forms: HostileForms
    quota_spent: QuotaSpent
    throttled: Throttled
    suppressed: Suppressed
    hostile_mail: HostileMail
    relay_failover: RelayFailover
    killed_in_window: CoalescedKill
    reminders: Reminders
