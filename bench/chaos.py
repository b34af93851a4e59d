"""`make chaos`: fault runs that count every email at the SMTP server.

1. 451 on 30 % of attempts; 2. Redis stopped for 30 s while a manager assigns;
3. the worker SIGKILLed twice mid-burst; 4. 550 for 50 recipients; 5. hostile forms.
Run 3 goes first: the rows a killed worker leaves in "sending" come back only
when their lease (CELERY_TASK_TIME_LIMIT + 60 s) runs out, so runs 1, 4, 5 and 2
happen while it waits. Exits 1 when an email is lost or duplicated beyond the
guarantee (one duplicate per message in flight at a kill), or a check fails.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bench.client import Session
from bench.report import MISSED, OK, Table, ms, percentile
from bench.run import task_fields
from bench.stack import Stack

if TYPE_CHECKING:
    from bench.data import Key, Tally

CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "4"))
# Shortened retry timings so that run 1 ends within minutes (defaults 30 s / 900 s).
RETRY_ENV = {
    "NOTIFICATIONS_RETRY_BASE_DELAY": "1",
    "NOTIFICATIONS_RETRY_MAX_DELAY": "8",
}
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


def main() -> int:
    started = time.monotonic()
    print("make chaos: starting PostgreSQL database, Redis, SMTP, web, worker, beat")
    with Stack("chaos", extra_env=RETRY_ENV) as stack:
        rows = Chaos(stack).run()
    table = Table(
        "Fault runs", ("run", "expected", "accepted", "lost", "duplicated", "verdict")
    )
    for row in rows:
        table.add(row.name, row.expected, row.accepted, row.lost, row.duplicated,
                  row.verdict)  # fmt: skip
    for row in rows:
        table.notes += [f"{row.name}: {line}" for line in row.detail]
    base = RETRY_ENV["NOTIFICATIONS_RETRY_BASE_DELAY"]
    table.note(
        f"Retry timings for this run: base {base} s, "
        f"cap {RETRY_ENV['NOTIFICATIONS_RETRY_MAX_DELAY']} s (product defaults "
        "30 s / 900 s); attempts, sweep, grace and lease are the product's defaults."
    )
    table.show()
    print(f"\nTotal time {(time.monotonic() - started) / 60:.1f} min.")
    failed = [row.name for row in rows if row.verdict != OK]
    for name in failed:
        print(f"FAILED: {name}")
    return 1 if failed else 0


class Chaos:
    def __init__(self, stack: Stack) -> None:
        from bench import data

        assert stack.smtp is not None
        self.stack = stack
        self.smtp = stack.smtp
        self.data = data
        self.inbox = data.Inbox(stack.smtp.received)

    def run(self) -> list[Row]:
        self._prepare()
        kill_state = self.start_killed_burst()
        rows = [
            self.transient_failures(),
            self.redis_outage(),
            self.permanent_failures(),
            self.hostile_forms(),
        ]
        rows.insert(2, self.finish_killed_burst(kill_state))
        return rows

    def _prepare(self) -> None:
        data = self.data
        self.manager = data.create_manager()
        self.people = data.create_employees("emp", 100)
        self.rejected = data.create_employees("rej", 50)
        self.project = data.create_project("Chaos")
        self.worker = self.stack.start_worker(CONCURRENCY)
        self.stack.start_beat()
        self.web = self.stack.start_web("web")
        print(f"Ready: worker x concurrency {CONCURRENCY}, beat, gunicorn.", flush=True)

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
        in_flight = []
        for threshold in (250, 600):
            reached = self.data.wait_until(
                lambda t=threshold: self.inbox.arrived(expected) >= t, 120, 0.02
            )
            in_flight.append(count_rows(ids, "sending"))
            self.worker.kill()
            at = self.inbox.arrived(expected)
            print(f"  SIGKILL at {at} accepted (threshold reached: {reached})")
            self.worker = self.stack.start_worker(CONCURRENCY)
        state = {"expected": expected, "ids": ids, "in_flight": in_flight}
        return {**state, "killed_at": time.time()}

    def finish_killed_burst(self, state: dict[str, Any]) -> Row:
        expected = state["expected"]
        remaining = LEASE_WAIT - (time.time() - state["killed_at"])
        print(f"Run 3: waiting up to {remaining:.0f} s for the sweep", flush=True)
        self.wait_for(expected, max(remaining, 10), state["ids"])
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

    # 1. 451 on 30 % of attempts --------------------------------------------------

    def transient_failures(self) -> Row:
        print("Run 1: 1,000 emails, 451 on 30 % of attempts", flush=True)
        before = self.smtp.sink.answers["451"]
        self.smtp.behaviour.tempfail_rate = 0.3
        started = time.monotonic()
        expected, ids = self.burst("tf", 100, self.people[10:20])
        self.wait_for(expected, 180, ids)
        seconds = time.monotonic() - started
        self.smtp.behaviour.tempfail_rate = 0.0
        tally = self.inbox.tally(expected, "tf")
        dead = count_rows(ids, "failed")
        detail = [
            f"451 answers given: {self.smtp.sink.answers['451'] - before}; "
            f"all accepted after {seconds:.0f} s; dead after the last attempt: {dead}"
        ]
        ok = not tally.lost and not tally.duplicated
        return row("1. 451 on 30 % of attempts", tally, ok, detail)

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
        from notifications.models import Delivery

        print("Run 4: 50 recipients answered 550", flush=True)
        self.smtp.behaviour.reject_recipient = lambda address: address.startswith("rej")
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
        retried = sum(n - 1 for n in self.smtp.sink.rejected.values() if n > 1)
        # The reason names the address; count the reasons without it.
        reasons = Counter(error.split(": ", 1)[-1] for _, _, error in failed)
        arrived = sum(
            1
            for m in list(self.smtp.received)
            for r in m.rcpt_tos
            if r.startswith("rej")
        )
        detail = [
            f"failed at the first attempt: {at_once}/50; RCPT retried: {retried}; "
            f"all failed within 60 s: {done}",
            *(f"reason ({n}x): {reason[:120]}" for reason, n in reasons.most_common(2)),
        ]
        ok = at_once == 50 and retried == 0 and arrived == 0
        verdict = OK if ok else MISSED
        return Row("4. 550 for 50 recipients", 0, arrived, 0, 0, verdict, detail)

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


def last_delivery_id() -> int:
    from notifications.models import Delivery

    latest = Delivery.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def count_rows(ids: range, *statuses: str) -> int:
    from notifications.models import Delivery

    rows = Delivery.objects.filter(id__gte=ids.start, id__lt=ids.stop)
    return rows.filter(status__in=statuses).count()


def row(name: str, tally: Tally, ok: bool, detail: list[str]) -> Row:
    return Row(
        name, tally.expected, tally.accepted, tally.lost, tally.duplicated,
        OK if ok else MISSED, detail,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
