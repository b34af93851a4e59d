"""`make chaos` run 10: the primary relay dies for a minute mid-burst.

The worker runs with a fallback relay (EMAIL_FALLBACK_*: a second SMTP server in
this process) and a pace that stretches 600 emails over a couple of minutes.
Once 100 are accepted the primary server is stopped (its port refuses, its
connections drop) and started again on the same port RELAY_DOWN_SECONDS later.
Every email must arrive once, at one server or the other; the fallback must
have carried some and the primary taken over again before the end; and each
sent row must name the server that took it.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.chaos_results import FAILOVER_ENV, RELAY_DOWN_SECONDS, RelayFailover
from bench.inbox import Inbox, Key, wait_until
from bench.knobs import CONCURRENCY
from bench.rows import commit_tracked, count_rows, rows_in, sent_attempts
from devtools.smtp import SMTPServer

if TYPE_CHECKING:
    from bench.rig import Rig

DIES_AT = 100  # emails accepted
SETTLE = 420.0  # the burst's own two and a half minutes, the probes' and slack


def relay_failover(rig: Rig) -> RelayFailover:
    print(
        f"Run 10: 600 emails at 4/s, the primary relay dead for "
        f"{RELAY_DOWN_SECONDS:.0f} s mid-burst, a fallback relay set",
        flush=True,
    )
    with SMTPServer() as fallback:
        rig.start_workers([CONCURRENCY], **FAILOVER_ENV, **fallback_env(fallback))
        expected, ids = commit_tracked(rig.project, "relay", 60, rig.people[60:70])
        both = Inbox(rig.smtp.received, fallback.received)
        wait_until(lambda: both.arrived(expected) >= DIES_AT, 120, 0.02)
        outage = Outage(both.arrived(expected), time.monotonic())
        rig.stack.stop_smtp_for_outage()
        wait_until(lambda: outage.lasted() >= RELAY_DOWN_SECONDS, 90, 0.2)
        rig.stack.restart_smtp()
        outage.back = time.monotonic()
        if not wait_until(lambda: count_rows(ids, "queued", "sending") == 0, SETTLE):
            print(f"  not settled within {SETTLE:.0f} s of the primary's return")
        return measured(rig, both, Inbox(fallback.received), (expected, ids), outage)


@dataclass
class Outage:
    down_at: int  # emails accepted when the primary died
    died: float  # time.monotonic()
    back: float = 0.0

    def lasted(self) -> float:
        return time.monotonic() - self.died


def fallback_env(fallback: SMTPServer) -> dict[str, str]:
    return {
        "EMAIL_FALLBACK_HOST": "127.0.0.1",
        "EMAIL_FALLBACK_PORT": str(fallback.port),
        "EMAIL_FALLBACK_USE_TLS": "False",
        "EMAIL_FALLBACK_USER": "",
        "EMAIL_FALLBACK_PASSWORD": "",
    }


def measured(
    rig: Rig,
    both: Inbox,
    fallback: Inbox,
    burst: tuple[set[Key], range],
    outage: Outage,
) -> RelayFailover:
    expected, ids = burst
    primary = Inbox(rig.smtp.received)
    primary.refresh()
    fallback.refresh()
    after_return = [k for k in expected if primary.first_at.get(k, 0.0) > outage.back]
    first_by_fallback = min(fallback.first_at.values(), default=float("nan"))
    sent_rows = rows_in(ids, "sent").values_list("relay", flat=True)
    return RelayFailover(
        arrivals=both.tally(expected, "relay"),
        down_at=outage.down_at,
        by_fallback=fallback.arrived(expected),
        by_primary_after=len(after_return),
        switched_after=first_by_fallback - outage.died,
        returned_after=primary.first_arrival_after(expected, outage.back) - outage.back,
        rows_by_relay=dict(Counter(sent_rows)),
        failed=count_rows(ids, "failed"),
        attempts=sent_attempts(ids),
    )
