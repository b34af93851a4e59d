"""`make chaos` runs 1a, 1b, 4, 6, 7 and 8: the SMTP server refuses, as real
providers do.

1a. a 4xx about one recipient on 30 % of attempts; 1b. "451 busy" on 30 %;
4. 550 for 50 recipients; 6. the provider's quota spent for a minute mid-burst;
7. a provider that throttles above 20/s, with EMAIL_RATE_LIMIT just below;
8. unknown addresses suppressed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from bench.chaos_results import (
    PROVIDER_MAX_RATE,
    QUOTA_SECONDS,
    RATE_ENV,
    PermanentFailures,
    ProviderBusy,
    QuotaSpent,
    RecipientRefusals,
    RefusedBurst,
    Suppressed,
    Throttled,
)
from bench.data import create_task
from bench.inbox import marker, wait_until
from bench.rows import commit_tracked, count_rows, rows_in, sent_attempts
from bench.stats import achieved_rate, busiest_second
from devtools.smtp import BUSY, TEMPFAIL

if TYPE_CHECKING:
    from bench.rig import Rig
    from users.models import User

REFUSED_SHARE = 0.3  # runs 1a and 1b
Refused = TypeVar("Refused", bound=RefusedBurst)


def refused_as_unknown(address: str) -> bool:
    """Runs 4 and 8: the server answers 550 5.1.1 at RCPT to these addresses."""
    return address.startswith(("rej", "sup"))


def refused_rcpts(rig: Rig, prefix: str) -> Counter[str]:
    """RCPTs the server refused, by address, for addresses with this prefix."""
    with rig.smtp.sink.lock:
        refused = dict(rig.smtp.sink.rejected)
    return Counter({a: n for a, n in refused.items() if a.startswith(prefix)})


# 1a, 1b. 30 % of attempts refused for now ----------------------------------------


def recipient_refusals(rig: Rig) -> RecipientRefusals:
    print("Run 1a: 1,000 emails, 30 % of attempts answered 450 4.2.1", flush=True)
    people = rig.people[10:20]
    return refused_burst(rig, RecipientRefusals, "tf", TEMPFAIL, people, 180)


def provider_busy(rig: Rig) -> ProviderBusy:
    print("Run 1b: 1,000 emails, 30 % of attempts answered 451 busy", flush=True)
    return refused_burst(rig, ProviderBusy, "busy", BUSY, rig.people[20:30], 300)


def refused_burst(
    rig: Rig,
    kind: type[Refused],
    prefix: str,
    reply: str,
    people: Sequence[User],
    timeout: float,
) -> Refused:
    """1,000 emails while the server answers `reply` to 30 % of DATA."""
    code = reply.split(" ", 1)[0]
    before = rig.smtp.sink.answers[code]
    started = time.monotonic()
    with rig.answering(tempfail_reply=reply, tempfail_rate=REFUSED_SHARE):
        expected, ids = commit_tracked(rig.project, prefix, 100, people)
        rig.wait_for(expected, timeout, ids)
    return kind(
        arrivals=rig.inbox.tally(expected, prefix),
        reply=reply,
        answers=rig.smtp.sink.answers[code] - before,
        seconds=rig.inbox.last_arrival(expected) - started,
        failed=count_rows(ids, "failed"),
        attempts=sent_attempts(ids),
    )


# 4. 550 for 50 recipients ---------------------------------------------------------


def permanent_failures(rig: Rig, rejected: Sequence[User]) -> PermanentFailures:
    """A task for each ten of `rejected`, whom the server refuses at RCPT."""
    from notifications.models import Delivery, Suppression

    print(f"Run 4: {len(rejected)} recipients answered 550", flush=True)
    for index, first in enumerate(range(0, len(rejected), 10)):
        people = rejected[first : first + 10]
        create_task(rig.project, f"Refused {marker('perm', index)}", people)
    rows = Delivery.objects.filter(recipient__username__startswith="rej")
    done = wait_until(
        lambda: rows.filter(status=Delivery.Status.FAILED).count() >= len(rejected),
        60,
        0.2,
    )
    outcomes = list(rows.values_list("status", "attempts", "last_error"))
    # The reason names the address; count the reasons without it.
    reasons = Counter(error.split(": ", 1)[-1] for _, _, error in outcomes)
    return PermanentFailures(
        recipients=len(rejected),
        failed_at_once=sum(1 for s, a, _ in outcomes if s == "failed" and a == 1),
        rcpt_retried=sum(n - 1 for n in refused_rcpts(rig, "rej").values()),
        failed_in_time=done,
        suppressed=Suppression.objects.filter(address__startswith="rej").count(),
        reasons=reasons.most_common(2),
        arrived=rig.inbox.accepted_for("rej"),
    )


# 6. The provider's quota spent for a minute mid-burst ------------------------------


def quota_spent(rig: Rig) -> QuotaSpent:
    """Gmail's "550 5.4.5 Daily user sending quota exceeded" for a minute:
    everyone waits for the provider, nothing fails, no attempt is spent."""
    print(
        f"Run 6: 500 emails, the quota spent for {QUOTA_SECONDS:.0f} s mid-burst",
        flush=True,
    )
    before = rig.smtp.sink.answers["550"]
    expected, ids = commit_tracked(rig.project, "quota", 50, rig.people[30:40])
    rig.wait_for_count(expected, 100, 60, 0.01)
    lifted = time.monotonic() + QUOTA_SECONDS
    with rig.answering(quota_spent_until=lifted):
        spent_at = rig.inbox.arrived(expected)
        rig.wait_for(expected, QUOTA_SECONDS + 540, ids)
    return QuotaSpent(
        arrivals=rig.inbox.tally(expected, "quota"),
        spent_at=spent_at,
        refusals=rig.smtp.sink.answers["550"] - before,
        resumed_after=rig.inbox.first_arrival_after(expected, lifted) - lifted,
        last_after=rig.inbox.last_arrival(expected) - lifted,
        failed=count_rows(ids, "failed"),
        attempts=sent_attempts(ids),
    )


# 7. A provider that throttles above a rate ----------------------------------------


def throttled(rig: Rig) -> Throttled:
    """Amazon SES's 454 above PROVIDER_MAX_RATE a second; the product paced
    just below it by EMAIL_RATE_LIMIT, shared by every pool process."""
    limit = RATE_ENV["EMAIL_RATE_LIMIT"]
    print(
        f"Run 7: 360 emails, 454 above {PROVIDER_MAX_RATE}/s, EMAIL_RATE_LIMIT={limit}",
        flush=True,
    )
    before = rig.smtp.sink.answers["454"]
    with rig.answering(max_rate=PROVIDER_MAX_RATE):
        expected, ids = commit_tracked(rig.project, "rate", 20, rig.people[40:58])
        rig.wait_for(expected, 120, ids)
    times = rig.inbox.arrival_times(expected)
    return Throttled(
        arrivals=rig.inbox.tally(expected, "rate"),
        throttled=rig.smtp.sink.answers["454"] - before,
        failed=count_rows(ids, "failed"),
        attempts=sent_attempts(ids),
        achieved_rate=achieved_rate(times),
        busiest_second=busiest_second(times),
    )


# 8. Unknown addresses suppressed --------------------------------------------------


def suppressed(rig: Rig, unknown: Sequence[User]) -> Suppressed:
    """550 5.1.1 for each of `unknown`; then three more emails to each: none tried."""
    from notifications.models import Suppression

    print(
        f"Run 8: {len(unknown)} unknown addresses, then 3 more emails to each",
        flush=True,
    )
    first = settled_burst(rig, "unka", 1, unknown)
    later = settled_burst(rig, "unkb", 3, unknown)
    tries = refused_rcpts(rig, "sup")
    skipped = rows_in(later, "skipped").filter(
        attempts=0, last_error__startswith="suppressed"
    )
    return Suppressed(
        addresses=len(unknown),
        tried_once=sum(1 for user in unknown if tries[user.email] == 1),
        rcpts=sum(tries.values()),
        addresses_by_rcpts=dict(Counter(tries.values())),
        suppressed=Suppression.objects.filter(address__startswith="sup").count(),
        first_rows=dict(Counter(rows_in(first).values_list("status", "attempts"))),
        first_emails=len(first),
        skipped=skipped.count(),
        later_emails=len(later),
        arrived=rig.inbox.accepted_for("sup"),
    )


def settled_burst(rig: Rig, prefix: str, tasks: int, people: Sequence[User]) -> range:
    """Commit a burst and wait (60 s at most) until none of it is left to send."""
    ids = commit_tracked(rig.project, prefix, tasks, people)[1]
    wait_until(lambda: count_rows(ids, "queued", "sending") == 0, 60)
    return ids
