"""`make chaos`: fault runs that count every email at the SMTP server.

1a. a 4xx about one recipient on 30 % of attempts; 1b. "451 busy" on 30 %;
2. Redis stopped for 30 s while a manager assigns; 3. the worker SIGKILLed twice
mid-burst; 4. 550 for 50 recipients; 5. hostile forms; 6. the provider's quota
spent for a minute mid-burst; 7. a provider that throttles above 20/s, with
EMAIL_RATE_LIMIT just below; 8. unknown addresses suppressed.
Run 3 goes first: the rows a killed worker leaves in "sending" come back only
when their lease (CELERY_TASK_TIME_LIMIT + 60 s) runs out, so the others happen
while it waits. Each phase runs on a worker started with the environment it
needs (see WORKER_ENVS). Exits 1 when an email is lost or duplicated beyond the
guarantee (one duplicate per message in flight at a kill), or a check fails.
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.client import Session
from bench.report import MISSED, OK, Table, ms, percentile
from bench.run import task_fields
from bench.stack import Stack
from devtools.smtp import BUSY, QUOTA_SPENT, TEMPFAIL, THROTTLED

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from bench.data import Key, Tally
    from notifications.models import Delivery

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
# The worker of runs 1-5 and 8: retries (product defaults 30 s / 900 s) and the
# busy provider's cool-down (10 s / 1,800 s) shortened so that 1,000 emails with
# 30 % refused settle within minutes. Runs 6 and 7 keep the product's defaults.
FAULT_ENV = {
    "NOTIFICATIONS_RETRY_BASE_DELAY": "1",
    "NOTIFICATIONS_RETRY_MAX_DELAY": "8",
    "NOTIFICATIONS_PROVIDER_COOLDOWN": "0.05",
    "NOTIFICATIONS_PROVIDER_COOLDOWN_MAX": "0.2",
}
PROVIDER_MAX_RATE = 20  # run 7: the server answers 454 above this many a second
RATE_ENV = {"EMAIL_RATE_LIMIT": "18"}  # run 7: the product's pace, just below it
WORKER_ENVS = {"fault runs": FAULT_ENV, "run 7": RATE_ENV, "run 6": {}}
REFUSED_SHARE = 0.3  # runs 1a and 1b
QUOTA_SECONDS = 60.0  # run 6
SEED = 20261124  # the SMTP server's random refusals, run after run
OUTAGE_SECONDS = 30.0
LEASE_WAIT = 480.0  # the lease (360 s) + two sweep periods + slack


@dataclass
class Row:
    name: str
    expected: int
    accepted: int
    lost: int
    duplicated: int
    verdict: str
    detail: list[str] = field(default_factory=list)


@dataclass
class RefusedBurst:
    """What runs 1a and 1b saw."""

    tally: Tally
    answers: int  # refusals the server gave
    seconds: float  # from the commit to the last email accepted
    failed: int
    attempts: Counter[int]  # sent rows by the attempts they took

    @property
    def delivered(self) -> bool:
        return not (self.tally.lost or self.tally.duplicated or self.failed)


def main() -> int:
    started = time.monotonic()
    print("make chaos: starting PostgreSQL database, Redis, SMTP, web, worker, beat")
    with Stack("chaos") as stack:
        rows = Chaos(stack).run()
    table = Table(
        "Fault runs", ("run", "expected", "accepted", "lost", "duplicated", "verdict")
    )
    for row in rows:
        table.add(
            row.name, row.expected, row.accepted, row.lost, row.duplicated, row.verdict
        )
    for row in rows:
        table.notes += [f"{row.name}: {line}" for line in row.detail]
    table.note(environment_note())
    table.show()
    print(f"\nTotal time {(time.monotonic() - started) / 60:.1f} min.")
    failed = [row.name for row in rows if row.verdict != OK]
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


def environment_note() -> str:
    phases = "; ".join(
        f"{phase}: {' '.join(f'{k}={v}' for k, v in env.items()) or 'none'}"
        for phase, env in WORKER_ENVS.items()
    )
    return (
        f"Worker settings changed from the product's defaults ({phases}). Retry "
        "defaults: base 30 s, cap 900 s; cool-down defaults: 10 s, cap 1,800 s. "
        "Attempts (12), sweep, grace and lease are the product's defaults."
    )


class Chaos:
    def __init__(self, stack: Stack) -> None:
        from bench import data

        assert stack.smtp is not None
        self.stack = stack
        self.smtp = stack.smtp
        self.data = data
        self.inbox = data.Inbox(stack.smtp.received)
        self.worker_env: dict[str, str] = FAULT_ENV

    def run(self) -> list[Row]:
        """Run 3 first (its lease runs out meanwhile), then runs 7 and 6 on a
        quiet system (their timings are figures), then the fault runs."""
        self._prepare()
        kill_state = self.start_killed_burst()
        self.use_worker(RATE_ENV)
        rows = [self.throttling_provider()]
        self.use_worker({})
        rows.append(self.quota_spent())
        self.use_worker(FAULT_ENV)
        rows += [
            self.recipient_tempfail(),
            self.provider_busy(),
            self.redis_outage(),
            self.permanent_failures(),
            self.suppression(),
            self.hostile_forms(),
            self.finish_killed_burst(kill_state),
        ]
        return sorted(rows, key=lambda row: row.name)

    def _prepare(self) -> None:
        data = self.data
        self.manager = data.create_manager()
        self.people = data.create_employees("emp", 100)
        self.rejected = data.create_employees("rej", 50)
        self.unknown = data.create_employees("sup", 20)
        self.project = data.create_project("Chaos")
        self.smtp.behaviour.reject_recipient = refused_as_unknown
        self.smtp.behaviour.random = random.Random(SEED)
        self.worker = self.stack.start_worker(CONCURRENCY, **self.worker_env)
        self.stack.start_beat()
        self.web = self.stack.start_web("web")
        print(f"Ready: worker x concurrency {CONCURRENCY}, beat, gunicorn.", flush=True)

    def use_worker(self, env: dict[str, str]) -> None:
        """Replace the worker by one with this environment over the stack's."""
        self.stack.stop_worker(self.worker)
        self.worker_env = env
        self.worker = self.stack.start_worker(CONCURRENCY, **env)

    def wait_for(
        self, expected: set[Key], timeout: float, ids: range | None = None
    ) -> bool:
        """Until every email arrived, or (given its rows) none is left to send."""

        def settled() -> bool:
            if self.inbox.arrived(expected) >= len(expected):
                return True
            return ids is not None and count_rows(ids, "queued", "sending") == 0

        return self.data.wait_until(settled, timeout, 0.2)

    def burst(self, prefix: str, tasks: int, people: list) -> tuple[set[Key], range]:
        """Commit a burst; return its email keys and its Delivery id range."""
        first = last_delivery_id() + 1
        expected = self.data.commit_burst(self.project, prefix, tasks, people)[0]
        return expected, range(first, last_delivery_id() + 1)

    # 3. The worker SIGKILLed twice during a 1,000-email burst ----------------------

    def start_killed_burst(self) -> dict[str, Any]:
        print("Run 3: 1,000 emails, the worker SIGKILLed twice mid-burst", flush=True)
        expected, ids = self.burst("kill", 100, self.people[:10])
        in_flight: list[int] = []
        stuck: set[int] = set()
        for threshold in (250, 600):
            reached = self.data.wait_until(
                lambda t=threshold: self.inbox.arrived(expected) >= t, 120, 0.02
            )
            in_flight.append(count_rows(ids, "sending"))
            self.worker.kill()
            killed_at = time.time()
            stuck = sending_ids(ids)  # the dead worker's claims, until their lease
            at = self.inbox.arrived(expected)
            print(f"  SIGKILL at {at} accepted (threshold reached: {reached})")
            self.worker = self.stack.start_worker(CONCURRENCY, **self.worker_env)
        self.settle_except(ids, stuck)
        state = {"expected": expected, "ids": ids, "in_flight": in_flight}
        return {**state, "killed_at": killed_at}

    def settle_except(self, ids: range, stuck: set[int]) -> None:
        """Until the new worker has sent every row but the dead worker's claims,
        so that the next runs have the server to themselves."""

        def settled() -> bool:
            pending = set(
                rows_in(ids, "queued", "sending").values_list("pk", flat=True)
            )
            return pending <= stuck

        if not self.data.wait_until(settled, 120, 0.2):
            print("  the rest of the burst did not settle within 120 s; going on")

    def finish_killed_burst(self, state: dict[str, Any]) -> Row:
        expected = state["expected"]
        remaining = LEASE_WAIT - (time.time() - state["killed_at"])
        print(f"Run 3: waiting up to {remaining:.0f} s for the sweep", flush=True)
        self.wait_for(expected, max(remaining, 60), state["ids"])
        tally = self.inbox.tally(expected, "kill")
        # At most one message mid-send per pool process, and per claimed row.
        allowed = sum(min(claimed, CONCURRENCY) for claimed in state["in_flight"])
        ok = not tally.lost and tally.duplicated <= allowed and tally.max_copies <= 2
        detail = [
            f"rows claimed (sending) at the kills: {state['in_flight']}; duplicates "
            f"allowed: one per pool process mid-send at each kill = {allowed}",
            f"largest number of copies of one email: {tally.max_copies}",
            *self.duplicate_message_ids("kill"),
        ]
        return row("3. worker SIGKILLed twice mid-burst", tally, ok, detail)

    def duplicate_message_ids(self, prefix: str) -> list[str]:
        ids = Counter(
            item.message_id
            for item in list(self.smtp.received)
            if self.data.message_marker(item).startswith(prefix + "-")
        )
        repeated = sum(n - 1 for n in ids.values() if n > 1)
        return [f"repeated Message-IDs at the server: {repeated}"]

    # 1a, 1b. 30 % of attempts refused for now ------------------------------------

    def recipient_tempfail(self) -> Row:
        """A 4xx about this one recipient: that email, later, one attempt spent."""
        print("Run 1a: 1,000 emails, 30 % of attempts answered 450 4.2.1", flush=True)
        burst = self.refused_burst("tf", TEMPFAIL, self.people[10:20], 180)
        retries = sum(n * (attempts - 1) for attempts, n in burst.attempts.items())
        detail = [
            f"{burst.answers} answers '{TEMPFAIL}'; attempts spent beyond "
            f"the first: {retries}; all accepted after {burst.seconds:.0f} s; "
            f"failed after the last attempt: {burst.failed}",
            f"attempts of the sent emails: {dict(sorted(burst.attempts.items()))}",
        ]
        ok = burst.delivered and retries > 0
        return row("1a. 450 4.2.1 (recipient) on 30 %", burst.tally, ok, detail)

    def provider_busy(self) -> Row:
        """451, the provider is busy: everyone pauses, nobody spends an attempt."""
        print("Run 1b: 1,000 emails, 30 % of attempts answered 451 busy", flush=True)
        burst = self.refused_burst("busy", BUSY, self.people[20:30], 300)
        spent = sum(n for attempts, n in burst.attempts.items() if attempts != 1)
        detail = [
            f"{burst.answers} answers '{BUSY}'; all accepted after "
            f"{burst.seconds:.0f} s; failed: {burst.failed}",
            f"attempts of the sent emails: {dict(sorted(burst.attempts.items()))} "
            f"(emails with an attempt spent on a busy reply: {spent})",
        ]
        ok = burst.delivered and burst.answers > 0 and spent == 0
        return row("1b. 451 (provider busy) on 30 %", burst.tally, ok, detail)

    def refused_burst(
        self, prefix: str, reply: str, people: list, timeout: float
    ) -> RefusedBurst:
        """1,000 emails while the server answers `reply` to 30 % of DATA."""
        code = reply.split(" ", 1)[0]
        before = self.smtp.sink.answers[code]
        behaviour = self.smtp.behaviour
        behaviour.tempfail_reply, behaviour.tempfail_rate = reply, REFUSED_SHARE
        started = time.monotonic()
        try:
            expected, ids = self.burst(prefix, 100, people)
            self.wait_for(expected, timeout, ids)
        finally:
            behaviour.tempfail_reply, behaviour.tempfail_rate = TEMPFAIL, 0.0
        return RefusedBurst(
            tally=self.inbox.tally(expected, prefix),
            answers=self.smtp.sink.answers[code] - before,
            seconds=self.last_arrival(expected) - started,
            failed=count_rows(ids, "failed"),
            attempts=sent_attempts(ids),
        )

    def last_arrival(self, expected: set[Key]) -> float:
        """When the server accepted the last of these emails (time.monotonic)."""
        self.inbox.refresh()
        return max((self.inbox.first_at.get(k, 0.0) for k in expected), default=0.0)

    # 2. Redis stopped for 30 s while a manager assigns ------------------------------

    def redis_outage(self) -> Row:
        print("Run 2: 100 assignment requests, Redis stopped for 30 s", flush=True)
        session = Session(self.web.url)
        session.sign_in(self.data.MANAGER_USERNAME, self.data.MANAGER_PASSWORD)
        statuses: Counter[int] = Counter()
        outage_latencies: list[float] = []
        expected: set[Key] = set()
        start, stopped_at, restarted_at = time.monotonic(), 0.0, 0.0
        for index in range(100):
            self.pace(start, index * 0.6)
            now = time.monotonic() - start
            if not stopped_at and now >= 15:
                self.stack.stop_redis_for_outage()
                stopped_at = time.monotonic()
            if stopped_at and not restarted_at and now >= 15 + OUTAGE_SECONDS:
                self.stack.restart_redis()
                restarted_at = time.monotonic()
            tag = self.data.marker("ro", index)
            people = [
                self.people[20 + (2 * index) % 80],
                self.people[21 + (2 * index) % 80],
            ]
            answer = session.post(
                "/tasks/create/", task_fields(f"Outage {tag}", self.project.pk, people)
            )
            statuses[answer.status] += 1
            if stopped_at and not restarted_at:
                outage_latencies.append(answer.elapsed)
            expected |= self.data.expected_keys([tag], people)
        if not restarted_at:
            self.pace(stopped_at, OUTAGE_SECONDS)
            self.stack.restart_redis()
            restarted_at = time.monotonic()
        arrived = self.wait_for(expected, 240)
        last = max((self.inbox.first_at.get(k, 0.0) for k in expected), default=0.0)
        tally = self.inbox.tally(expected, "ro")
        good = sum(n for status, n in statuses.items() if 200 <= status < 400)
        detail = [
            f"HTTP answers: {dict(statuses)} ({good}/100 succeeded); "
            f"{len(outage_latencies)} made while Redis was down, p50/max "
            f"{ms(percentile(outage_latencies, 50))} / "
            f"{ms(max(outage_latencies, default=float('nan')))}",
            f"last email accepted {last - restarted_at:.0f} s after Redis returned"
            if arrived
            else "not every email arrived within 240 s of Redis returning",
        ]
        ok = good == 100 and not tally.lost and not tally.duplicated
        return row("2. Redis stopped 30 s during 100 requests", tally, ok, detail)

    @staticmethod
    def pace(start: float, offset: float) -> None:
        delay = start + offset - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    # 4. 550 for 50 recipients ---------------------------------------------------------

    def permanent_failures(self) -> Row:
        from notifications.models import Delivery, Suppression

        print("Run 4: 50 recipients answered 550", flush=True)
        for index in range(5):
            tag = self.data.marker("perm", index)
            self.data.create_task(
                self.project,
                f"Refused {tag}",
                self.rejected[index * 10 : index * 10 + 10],
            )
        rows = Delivery.objects.filter(recipient__username__startswith="rej")
        done = self.data.wait_until(
            lambda: rows.filter(status=Delivery.Status.FAILED).count() >= 50, 60, 0.2
        )
        failed = list(rows.values_list("status", "attempts", "last_error"))
        at_once = sum(1 for s, a, _ in failed if s == "failed" and a == 1)
        retried = sum(n - 1 for n in self.tries("rej").values())
        # The reason names the address; count the reasons without it.
        reasons = Counter(error.split(": ", 1)[-1] for _, _, error in failed)
        arrived = self.arrived_at("rej")
        suppressed = Suppression.objects.filter(address__startswith="rej").count()
        detail = [
            f"failed at the first attempt: {at_once}/50; RCPT retried: {retried}; "
            f"all failed within 60 s: {done}; addresses suppressed: {suppressed}",
            *(f"reason ({n}x): {reason[:120]}" for reason, n in reasons.most_common(2)),
        ]
        ok = at_once == 50 and retried == 0 and arrived == 0
        verdict = OK if ok else MISSED
        return Row("4. 550 for 50 recipients", 0, arrived, 0, 0, verdict, detail)

    def tries(self, prefix: str) -> Counter[str]:
        """RCPTs the server refused, by address, for addresses with this prefix."""
        with self.smtp.sink.lock:
            refused = dict(self.smtp.sink.rejected)
        return Counter({a: n for a, n in refused.items() if a.startswith(prefix)})

    def arrived_at(self, prefix: str) -> int:
        """Messages the server accepted for addresses with this prefix."""
        received = list(self.smtp.received)
        return sum(1 for m in received for r in m.rcpt_tos if r.startswith(prefix))

    # 5. Hostile form submissions ---------------------------------------------------

    def hostile_forms(self) -> Row:
        from bench.hostile import hostile_submissions, injected_headers
        from notifications.models import Delivery

        print("Run 5: 200 hostile form submissions", flush=True)
        watermark = last_delivery_id()
        start = len(self.smtp.received)
        session = Session(self.web.url)
        session.sign_in(self.data.MANAGER_USERNAME, self.data.MANAGER_PASSWORD)
        statuses: Counter[int] = Counter()
        errors: list[str] = []
        submissions = hostile_submissions(
            self.project.pk, self.people[:5], self.manager
        )
        for label, anonymous, method, path, fields in submissions:
            client = Session(self.web.url) if anonymous else session
            answer = client.post(path, fields) if method == "POST" else client.get(path)
            statuses[answer.status] += 1
            if answer.status >= 500:
                errors.append(f"{label}: {answer.status}")
        recorded = Delivery.objects.filter(id__gt=watermark)
        pending = (Delivery.Status.QUEUED, Delivery.Status.SENDING)
        self.data.wait_until(
            lambda: not recorded.filter(status__in=pending).exists(), 90, 0.3
        )
        received = list(self.smtp.received)[start:]
        injected = [finding for item in received for finding in injected_headers(item)]
        outcomes = Counter(recorded.values_list("status", flat=True))
        wanted = set(
            recorded.exclude(status__in=("failed", "skipped")).values_list(
                "message_id", flat=True
            )
        )
        copies = Counter(m.message_id for m in received if m.message_id in wanted)
        duplicated = sum(n - 1 for n in copies.values())
        lost = len(wanted) - len(copies)
        answers = dict(sorted(statuses.items()))
        detail = [
            f"{len(submissions)} submissions, HTTP answers {answers}",
            f"deliveries recorded by status {dict(outcomes)}; header injections "
            f"found in {len(received)} messages: {len(injected)}",
            *errors[:5],
            *injected[:5],
        ]
        ok = not errors and not injected and not duplicated and not lost
        verdict = OK if ok else MISSED
        name = "5. 200 hostile submissions"
        return Row(name, len(wanted), len(copies), lost, duplicated, verdict, detail)

    # 6. The provider's quota spent for a minute mid-burst ---------------------------

    def quota_spent(self) -> Row:
        """Gmail's "550 5.4.5 Daily user sending quota exceeded" for a minute:
        everyone waits for the provider, nothing fails, no attempt is spent."""
        print(
            f"Run 6: 500 emails, the quota spent for {QUOTA_SECONDS:.0f} s mid-burst",
            flush=True,
        )
        before = self.smtp.sink.answers["550"]
        expected, ids = self.burst("quota", 50, self.people[30:40])
        self.data.wait_until(lambda: self.inbox.arrived(expected) >= 100, 60, 0.01)
        lifted = time.monotonic() + QUOTA_SECONDS
        self.smtp.behaviour.quota_spent_until = lifted
        spent_at = self.inbox.arrived(expected)
        try:
            self.wait_for(expected, QUOTA_SECONDS + 540, ids)
        finally:
            self.smtp.behaviour.quota_spent_until = 0.0
        tally = self.inbox.tally(expected, "quota")
        attempts, failed = sent_attempts(ids), count_rows(ids, "failed")
        refusals = self.smtp.sink.answers["550"] - before
        resumed = self.first_arrival_after(expected, lifted) - lifted
        detail = [
            f"quota spent at {spent_at}/{len(expected)} accepted, for "
            f"{QUOTA_SECONDS:.0f} s: {refusals} answers '{QUOTA_SPENT}'",
            f"sending resumed {resumed:.0f} s after the quota lifted, the last email "
            f"{self.last_arrival(expected) - lifted:.0f} s after; failed: {failed}",
            f"attempts of the sent emails: {dict(sorted(attempts.items()))}",
        ]
        spent = sum(n for tries, n in attempts.items() if tries != 1)
        ok = not (tally.lost or tally.duplicated or failed or spent) and refusals > 0
        return row("6. quota spent for 60 s mid-burst", tally, ok, detail)

    def first_arrival_after(self, expected: set[Key], moment: float) -> float:
        self.inbox.refresh()
        times = (self.inbox.first_at.get(k, 0.0) for k in expected)
        return min((t for t in times if t >= moment), default=float("nan"))

    # 7. A provider that throttles above a rate -------------------------------------

    def throttling_provider(self) -> Row:
        """Amazon SES's 454 above PROVIDER_MAX_RATE a second; the product paced
        just below it by EMAIL_RATE_LIMIT, shared by every pool process."""
        limit = RATE_ENV["EMAIL_RATE_LIMIT"]
        print(
            f"Run 7: 360 emails, 454 above {PROVIDER_MAX_RATE}/s, "
            f"EMAIL_RATE_LIMIT={limit}",
            flush=True,
        )
        before = self.smtp.sink.answers["454"]
        self.smtp.behaviour.max_rate = PROVIDER_MAX_RATE
        try:
            expected, ids = self.burst("rate", 20, self.people[40:58])
            self.wait_for(expected, 120, ids)
        finally:
            self.smtp.behaviour.max_rate = None
        tally = self.inbox.tally(expected, "rate")
        times = sorted(
            self.inbox.first_at[k] for k in expected if k in self.inbox.first_at
        )
        attempts, failed = sent_attempts(ids), count_rows(ids, "failed")
        throttled = self.smtp.sink.answers["454"] - before
        detail = [
            f"{throttled} answers '{THROTTLED}' ({throttled / len(expected):.1%} of "
            f"the emails); failed: {failed}; attempts of the sent emails: "
            f"{dict(sorted(attempts.items()))}",
            f"achieved {achieved_rate(times):.1f} emails/s (EMAIL_RATE_LIMIT={limit}); "
            f"busiest second at the server: {busiest_second(times)} emails",
        ]
        spent = sum(n for tries, n in attempts.items() if tries != 1)
        almost_none = throttled <= len(expected) // 100
        ok = not (tally.lost or tally.duplicated or failed or spent) and almost_none
        return row(f"7. throttled above {PROVIDER_MAX_RATE}/s", tally, ok, detail)

    # 8. Unknown addresses suppressed -----------------------------------------------

    def suppression(self) -> Row:
        """550 5.1.1 for 20 addresses; then three more emails to each: none tried."""
        from notifications.models import Suppression

        print("Run 8: 20 unknown addresses, then 3 more emails to each", flush=True)
        first = self.settled_burst("unka", 1, self.unknown)
        second = self.settled_burst("unkb", 3, self.unknown)
        tries = self.tries("sup")
        once = sum(1 for user in self.unknown if tries[user.email] == 1)
        first_rows = Counter(rows_in(first).values_list("status", "attempts"))
        skipped = rows_in(second, "skipped").filter(
            attempts=0, last_error__startswith="suppressed"
        )
        suppressed = Suppression.objects.filter(address__startswith="sup").count()
        arrived = self.arrived_at("sup")
        detail = [
            f"addresses tried exactly once: {once}/20 (addresses by RCPTs: "
            f"{dict(Counter(tries.values()))}); addresses suppressed: {suppressed}",
            f"first burst (status, attempts): {dict(first_rows)}; second burst "
            f"skipped as suppressed, untried: {skipped.count()}/{len(second)}",
        ]
        ok = (
            once == len(self.unknown) == sum(tries.values())
            and first_rows == {("failed", 1): len(first)}
            and skipped.count() == len(second)
            and arrived == 0
        )
        name = "8. suppression: 20 unknown addresses"
        return Row(name, 0, arrived, 0, 0, OK if ok else MISSED, detail)

    def settled_burst(self, prefix: str, tasks: int, people: list) -> range:
        """Commit a burst and wait (60 s at most) until none of it is left to send."""
        ids = self.burst(prefix, tasks, people)[1]
        self.data.wait_until(lambda: count_rows(ids, "queued", "sending") == 0, 60)
        return ids


def last_delivery_id() -> int:
    from notifications.models import Delivery

    latest = Delivery.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def rows_in(ids: range, *statuses: str) -> QuerySet[Delivery]:
    """The Delivery rows of this id range, in these statuses (all when none)."""
    from notifications.models import Delivery

    rows = Delivery.objects.filter(id__gte=ids.start, id__lt=ids.stop)
    return rows.filter(status__in=statuses) if statuses else rows


def count_rows(ids: range, *statuses: str) -> int:
    return rows_in(ids, *statuses).count()


def sending_ids(ids: range) -> set[int]:
    return set(rows_in(ids, "sending").values_list("pk", flat=True))


def sent_attempts(ids: range) -> Counter[int]:
    """Sent rows by the number of attempts they spent."""
    return Counter(rows_in(ids, "sent").values_list("attempts", flat=True))


def refused_as_unknown(address: str) -> bool:
    """Runs 4 and 8: the server answers 550 5.1.1 at RCPT to these addresses."""
    return address.startswith(("rej", "sup"))


def achieved_rate(times: Sequence[float]) -> float:
    """Emails a second from the first acceptance to the last."""
    if len(times) < 2 or times[-1] <= times[0]:
        return float("nan")
    return (len(times) - 1) / (times[-1] - times[0])


def busiest_second(times: Sequence[float]) -> int:
    """The most acceptances in any one-second window (times sorted)."""
    busiest, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    return busiest


def row(name: str, tally: Tally, ok: bool, detail: list[str]) -> Row:
    return Row(
        name,
        tally.expected,
        tally.accepted,
        tally.lost,
        tally.duplicated,
        OK if ok else MISSED,
        detail,
    )


if __name__ == "__main__":
    sys.exit(main())
