"""The table `make chaos` prints, from its results (bench.chaos_results): a row per
fault run, and under the table what each run saw."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from bench.chaos_results import (
    COALESCE_ENV,
    HOSTILE_MAIL,
    PROVIDER_MAX_RATE,
    QUOTA_SECONDS,
    RATE_ENV,
    RELAY_DOWN_SECONDS,
    WORKER_ENVS,
    ChaosResults,
    CoalescedKill,
    HostileForms,
    HostileMail,
    KilledWorker,
    PermanentFailures,
    ProviderBusy,
    QuotaSpent,
    RecipientRefusals,
    RedisOutage,
    RelayFailover,
    Reminders,
    Suppressed,
    Throttled,
    retried,
)
from bench.inbox import Arrivals
from bench.markdown import Table, ms, verdict
from bench.stats import percentile
from devtools.smtp import QUOTA_SPENT, THROTTLED


@dataclass
class FaultRow:
    name: str
    expected: int
    accepted: int
    lost: int
    duplicated: int
    passed: bool
    detail: list[str]


def fault_table(rows: list[FaultRow]) -> Table:
    table = Table(
        "Fault runs", ("run", "expected", "accepted", "lost", "duplicated", "verdict")
    )
    for row in rows:
        counts = (row.expected, row.accepted, row.lost, row.duplicated)
        table.add(row.name, *counts, verdict(row.passed))
    for row in rows:
        table.notes += [f"{row.name}: {line}" for line in row.detail]
    table.note(environment_note())
    return table


def environment_note() -> str:
    phases = "; ".join(
        f"{phase}: {' '.join(f'{k}={v}' for k, v in env.items()) or 'none'}"
        for phase, env in WORKER_ENVS.items()
    )
    return (
        f"Worker settings changed from the product's defaults ({phases}). Retry "
        "defaults: base 30 s, cap 900 s; cool-down defaults: 10 s, cap 1,800 s. "
        "Attempts (12), sweep and lease are the product's defaults, and so is "
        "the sweep's grace but in run 11."
    )


def fault_rows(results: ChaosResults) -> list[FaultRow]:
    """In the order of the runs' numbers."""
    return [
        recipient_refusals_row(results.recipient_refusals),
        provider_busy_row(results.provider_busy),
        redis_outage_row(results.redis_outage),
        killed_worker_row(results.killed_worker),
        permanent_failures_row(results.permanent_failures),
        hostile_forms_row(results.hostile_forms),
        quota_spent_row(results.quota_spent),
        throttled_row(results.throttled),
        suppressed_row(results.suppressed),
        hostile_mail_row(results.hostile_mail),
        relay_failover_row(results.relay_failover),
        killed_in_window_row(results.killed_in_window),
        reminders_row(results.reminders),
    ]


def arrivals_row(
    name: str, arrivals: Arrivals, passed: bool, detail: list[str]
) -> FaultRow:
    counts = (arrivals.expected, arrivals.accepted, arrivals.lost, arrivals.duplicated)
    return FaultRow(name, *counts, passed, detail)


def attempts_text(attempts: Counter[int]) -> str:
    return f"attempts of the sent emails: {dict(sorted(attempts.items()))}"


def recipient_refusals_row(run: RecipientRefusals) -> FaultRow:
    detail = [
        f"{run.answers} answers '{run.reply}'; attempts spent beyond the first: "
        f"{run.retries}; all accepted after {run.seconds:.0f} s; failed after the "
        f"last attempt: {run.failed}",
        attempts_text(run.attempts),
    ]
    name = "1a. 450 4.2.1 (recipient) on 30 %"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def provider_busy_row(run: ProviderBusy) -> FaultRow:
    detail = [
        f"{run.answers} answers '{run.reply}'; all accepted after "
        f"{run.seconds:.0f} s; failed: {run.failed}",
        f"{attempts_text(run.attempts)} (emails with an attempt spent on a busy "
        f"reply: {retried(run.attempts)})",
    ]
    name = "1b. 451 (provider busy) on 30 %"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def redis_outage_row(run: RedisOutage) -> FaultRow:
    during = run.outage_seconds
    detail = [
        f"HTTP answers: {dict(run.statuses)} ({run.succeeded}/{run.requests} "
        f"succeeded); {len(during)} made while Redis was down, p50/max "
        f"{ms(percentile(during, 50))} / {ms(max(during, default=float('nan')))}",
        f"last email accepted {run.last_after_return:.0f} s after Redis returned"
        if run.all_arrived
        else "not every email arrived within 240 s of Redis returning",
    ]
    name = "2. Redis stopped 30 s during 100 requests"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def killed_worker_row(run: KilledWorker) -> FaultRow:
    detail = [
        f"rows claimed (sending) at the kills: {run.in_flight}; duplicates "
        f"allowed: one per pool process mid-send at each kill = {run.allowed}",
        f"largest number of copies of one email: {run.arrivals.max_copies}",
        f"repeated Message-IDs at the server: {run.repeated_message_ids}",
    ]
    name = "3. worker SIGKILLed twice mid-burst"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def permanent_failures_row(run: PermanentFailures) -> FaultRow:
    detail = [
        f"failed at the first attempt: {run.failed_at_once}/{run.recipients}; "
        f"RCPT retried: {run.rcpt_retried}; all failed within 60 s: "
        f"{run.failed_in_time}; addresses suppressed: {run.suppressed}",
        *(f"reason ({n}x): {reason[:120]}" for reason, n in run.reasons),
    ]
    name = f"4. 550 for {run.recipients} recipients"
    return FaultRow(name, 0, run.arrived, 0, 0, run.passed, detail)


def hostile_forms_row(run: HostileForms) -> FaultRow:
    detail = [
        f"{run.submissions} submissions, HTTP answers {run.statuses}",
        f"deliveries recorded by status {run.outcomes}; header injections "
        f"found in {run.messages} messages: {len(run.injected)}",
        *run.errors[:5],
        *run.injected[:5],
    ]
    name = f"5. {run.submissions} hostile submissions"
    counts = (run.expected, run.accepted, run.lost, run.duplicated)
    return FaultRow(name, *counts, run.passed, detail)


def quota_spent_row(run: QuotaSpent) -> FaultRow:
    detail = [
        f"quota spent at {run.spent_at}/{run.arrivals.expected} accepted, for "
        f"{QUOTA_SECONDS:.0f} s: {run.refusals} answers '{QUOTA_SPENT}'",
        f"sending resumed {run.resumed_after:.0f} s after the quota lifted, the "
        f"last email {run.last_after:.0f} s after; failed: {run.failed}",
        attempts_text(run.attempts),
    ]
    name = f"6. quota spent for {QUOTA_SECONDS:.0f} s mid-burst"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def throttled_row(run: Throttled) -> FaultRow:
    limit = RATE_ENV["EMAIL_RATE_LIMIT"]
    share = run.throttled / run.arrivals.expected
    detail = [
        f"{run.throttled} answers '{THROTTLED}' ({share:.1%} of the emails); "
        f"failed: {run.failed}; {attempts_text(run.attempts)}",
        f"achieved {run.achieved_rate:.1f} emails/s (EMAIL_RATE_LIMIT={limit}); "
        f"busiest second at the server: {run.busiest_second} emails",
    ]
    name = f"7. throttled above {PROVIDER_MAX_RATE}/s"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def suppressed_row(run: Suppressed) -> FaultRow:
    detail = [
        f"addresses tried exactly once: {run.tried_once}/{run.addresses} "
        f"(addresses by RCPTs: {run.addresses_by_rcpts}); addresses suppressed: "
        f"{run.suppressed}",
        f"first burst (status, attempts): {run.first_rows}; second burst skipped "
        f"as suppressed, untried: {run.skipped}/{run.later_emails}",
    ]
    name = f"8. suppression: {run.addresses} unknown addresses"
    return FaultRow(name, 0, run.arrived, 0, 0, run.passed, detail)


def hostile_mail_row(run: HostileMail) -> FaultRow:
    detail = [
        *(f"{name}: {answer[:80]}" for name, answer in run.answers.items()),
        f"reply bomb: 100 replies in {run.bomb_seconds:.1f} s, answered "
        f"{run.bomb_answers}; comments posted {run.comments} (limit {run.limit} an "
        f"hour), 'not posted' emails {run.notices}, messages kept {run.inbound_rows}",
        f"the sent email the foreign DSN named: {run.sent_status}; addresses "
        f"suppressed: {run.suppressed}; complaints: {run.complaints}",
    ]
    name = f"9. {HOSTILE_MAIL}"
    return FaultRow(name, 0, 0, 0, 0, run.passed, detail)


def relay_failover_row(run: RelayFailover) -> FaultRow:
    detail = [
        f"the primary died at {run.down_at}/{run.arrivals.expected} accepted; the "
        f"fallback took its first email {run.switched_after:.1f} s later and "
        f"{run.by_fallback} in all",
        f"the primary took its first email {run.returned_after:.0f} s after it "
        f"came back, and {run.by_primary_after} after its return; failed: "
        f"{run.failed}; {attempts_text(run.attempts)}",
        f"sent rows by relay in the delivery log: {run.rows_by_relay}"
        + ("" if run.recorded_right else " (not what the servers counted)"),
    ]
    name = f"10. primary relay dead for {RELAY_DOWN_SECONDS:.0f} s mid-burst"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def killed_in_window_row(run: CoalescedKill) -> FaultRow:
    window = COALESCE_ENV["NOTIFICATIONS_COALESCE_SECONDS"]
    detail = [
        f"{run.rows} rows recorded (an assignment and three new due dates per "
        f"person and task), all waiting at the kill: {run.waited_at_kill}; "
        f"claimed at the kill: {run.in_flight}",
        f"emails telling all four changes: {run.told_all}; rows told in another's "
        f"email: {run.merged}; skipped: {run.skipped}; failed: {run.failed}",
    ]
    name = f"11. worker SIGKILLed inside a {window} s coalescing window"
    return arrivals_row(name, run.arrivals, run.passed, detail)


def reminders_row(run: Reminders) -> FaultRow:
    detail = [
        f"reminder rows recorded: {run.rows} (one per task, person, reminder and "
        f"day), not sent by the end: {run.unsent}; the beats sent the job "
        f"{run.beat_runs} times",
        f"rows claimed (sending) at the kill: {run.in_flight}; duplicates allowed: "
        f"{run.allowed}; largest number of copies of one email: "
        f"{run.arrivals.max_copies}",
    ]
    name = "12. reminders: two beats, two workers, one SIGKILLed"
    return arrivals_row(name, run.arrivals, run.passed, detail)
