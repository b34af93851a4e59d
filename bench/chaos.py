"""`make chaos`: fault runs that count every email at the SMTP server.

1a. a 4xx about one recipient on 30 % of attempts; 1b. "451 busy" on 30 %;
2. Redis stopped for 30 s while a manager assigns; 3. the worker SIGKILLed twice
mid-burst; 4. 550 for 50 recipients; 5. hostile forms; 6. the provider's quota
spent for a minute mid-burst; 7. a provider that throttles above 20/s, with
EMAIL_RATE_LIMIT just below; 8. unknown addresses suppressed; 9. hostile mail
at the inbound SMTP listener (bench/inbound_mail.py); 10. the primary relay dead
for a minute mid-burst, a fallback relay set; 11. the worker SIGKILLed while
every row waits for its coalescing window (bench/coalescing.py); 12. due-date
reminders with two beats and two workers, one worker SIGKILLed
(bench/reminders.py). `python -m bench.chaos --only N` runs run N alone (9 to
12), on a stack of its own.
Run 3 goes first: the rows a killed worker leaves in "sending" come back only
when their lease (CELERY_TASK_TIME_LIMIT + 60 s) runs out, so the others happen
while it waits. Each phase runs on a worker started with the environment it
needs (bench.chaos_results.WORKER_ENVS). Prints the table (bench.chaos_tables);
exits 1 when an email is lost or duplicated beyond the guarantee (one duplicate
per message in flight at a kill), or a check fails.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable

from bench import (
    chaos_tables,
    coalescing,
    failover,
    inbound_mail,
    outages,
    refusals,
    reminders,
)
from bench.chaos_results import FAULT_ENV, RATE_ENV, ChaosResults
from bench.chaos_tables import FaultRow
from bench.data import create_employees
from bench.hostile import hostile_forms
from bench.knobs import CONCURRENCY
from bench.rig import Rig
from bench.stack import Stack, WebServer

SEED = 20261124  # the SMTP server's random refusals, run after run


def main(argv: list[str]) -> int:
    """Every run; or, with `--only N`, run N alone (on a stack of its own)."""
    alone = argv[1] if len(argv) == 2 and argv[0] == "--only" else None
    if argv and alone not in ALONE:
        print(f"usage: python -m bench.chaos [--only {{{','.join(ALONE)}}}]")
        return 2
    started = time.monotonic()
    print("make chaos: starting PostgreSQL database, Redis, SMTP, web, worker, beat")
    with Stack("chaos") as stack:
        rig = Rig.prepare(stack, "Chaos")
        if alone is not None:
            rows = [ALONE[alone](rig)]
        else:
            rows = chaos_tables.fault_rows(measure(rig))
    print(chaos_tables.fault_table(rows).render(), flush=True)
    print(f"\nTotal time {(time.monotonic() - started) / 60:.1f} min.")
    failed = [row.name for row in rows if not row.passed]
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


def hostile_mail_alone(rig: Rig) -> FaultRow:
    """Run 9 needs no worker, no web server and no fault settings."""
    return chaos_tables.hostile_mail_row(inbound_mail.hostile_mail(rig))


def relay_failover_alone(rig: Rig) -> FaultRow:
    return chaos_tables.relay_failover_row(failover.relay_failover(rig))


def killed_in_window_alone(rig: Rig) -> FaultRow:
    """Run 11 needs beat: its sweep publishes what the dead worker held."""
    rig.stack.start_beat()
    return chaos_tables.killed_in_window_row(coalescing.killed_in_window(rig))


def reminders_alone(rig: Rig) -> FaultRow:
    return chaos_tables.reminders_row(reminders.reminders_with_two_beats(rig))


# The runs that can be run alone: `--only N`.
ALONE: dict[str, Callable[[Rig], FaultRow]] = {
    "9": hostile_mail_alone,
    "10": relay_failover_alone,
    "11": killed_in_window_alone,
    "12": reminders_alone,
}


def measure(rig: Rig) -> ChaosResults:
    """Run 3 first (its lease runs out meanwhile), then runs 7, 6 and 10 on a
    quiet system (their timings are figures), then the other fault runs."""
    rejected = create_employees("rej", 50)  # answered 550 at RCPT: run 4
    unknown = create_employees("sup", 20)  # and run 8
    web = start_processes(rig)
    killed = outages.kill_worker_twice(rig)
    rig.start_workers([CONCURRENCY], **RATE_ENV)
    throttled = refusals.throttled(rig)
    rig.start_workers([CONCURRENCY])
    quota_spent = refusals.quota_spent(rig)
    relay_failover = failover.relay_failover(rig)
    rig.start_workers([CONCURRENCY], **FAULT_ENV)
    recipient_refusals = refusals.recipient_refusals(rig)
    provider_busy = refusals.provider_busy(rig)
    redis_outage = outages.redis_outage(rig, web.url)
    permanent_failures = refusals.permanent_failures(rig, rejected)
    suppressed = refusals.suppressed(rig, unknown)
    hostile = hostile_forms(rig, web.url)
    mail = inbound_mail.hostile_mail(rig)
    killed_in_window = coalescing.killed_in_window(rig)
    reminded = reminders.reminders_with_two_beats(rig)  # last: it replaces the workers
    return ChaosResults(
        recipient_refusals=recipient_refusals,
        provider_busy=provider_busy,
        redis_outage=redis_outage,
        killed_worker=outages.after_the_lease(rig, killed),
        permanent_failures=permanent_failures,
        hostile_forms=hostile,
        quota_spent=quota_spent,
        throttled=throttled,
        suppressed=suppressed,
        hostile_mail=mail,
        relay_failover=relay_failover,
        killed_in_window=killed_in_window,
        reminders=reminded,
    )


def start_processes(rig: Rig) -> WebServer:
    """The SMTP server's refusals, a worker with the fault runs' settings, beat
    and gunicorn."""
    rig.smtp.behaviour.reject_recipient = refusals.refused_as_unknown
    rig.smtp.behaviour.random = random.Random(SEED)
    rig.start_workers([CONCURRENCY], **FAULT_ENV)
    rig.stack.start_beat()
    web = rig.stack.start_web("web")
    print(f"Ready: worker x concurrency {CONCURRENCY}, beat, gunicorn.", flush=True)
    return web


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
