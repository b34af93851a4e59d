"""What make bench and make chaos conclude from their results: which phases fail
the run (an email lost or duplicated), which targets are only marked MISSED."""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from bench import bench_tables, chaos_tables
from bench.bench_results import (
    BenchResults,
    Burst,
    FastLane,
    Isolation,
    Latency,
    PathRun,
    RequestCost,
    Throughput,
    WorkerMemory,
)
from bench.chaos_results import (
    HOSTILE_MAIL_ANSWERS,
    HostileMail,
    KilledWorker,
    RelayFailover,
)
from bench.inbox import Arrivals

PATHS = ("loop", "django", "celery_email", "post_office")  # the product apart


def arrivals(expected: int, lost: int = 0, duplicated: int = 0) -> Arrivals:
    copies = 2 if duplicated else 1
    return Arrivals(expected, expected - lost, lost, duplicated, 0, copies)


def burst(emails: int, **losses: int) -> Burst:
    phases = {"queued": 0.5, "sending": 0.05}
    return Burst(
        emails, emails / 300, emails * 0.004, 0.1, arrivals(emails, **losses), phases
    )


def throughput(product_rate: float = 400, lost: int = 0) -> Throughput:
    """Every path at 300 emails/s, the product at `product_rate` and losing `lost`
    emails in each of its runs."""
    runs = [
        PathRun(path, clock, 2000, 2000 / 300, 0, 0)
        for path in PATHS
        for clock in ("request", "commit")
    ]
    runs += [
        PathRun("product", clock, 2000, 2000 / product_rate, lost, 0)
        for clock in ("request", "commit")
    ]
    return Throughput(runs, 1, 200, 10)


def bench_results(**changes: Any) -> BenchResults:
    """A run that met every target and lost nothing, but for `changes`."""
    times = {"web-on": [0.010, 0.011], "web-off": [0.010, 0.011]}
    seed_style = {"create": [20.0], "signup": [2.0]}
    clean = BenchResults(
        workers=1,
        concurrency=4,
        request_cost=RequestCost({1: 21, 100: 21, 0: 20}, 14.0, {}, set()),
        request_emails=arrivals(60),
        latency=Latency(2, [0.03, 0.03], arrivals(2)),
        small=burst(100),
        large=burst(2000),
        throughput=throughput(),
        memory=[WorkerMemory([90_000, 80_000], [88_000, 80_000])],
        scale_out={"one worker instance, concurrency 4": burst(2000)},
        fast_lane=FastLane([2.5, 2.6], 300, arrivals(2000), 10, 200, 0.05),
        isolation=Isolation(2.0, 10, 2, {"create": times, "signup": times}, seed_style),
    )
    return dataclasses.replace(clean, **changes)


def missed(results: BenchResults) -> list[str]:
    return bench_tables.missed(bench_tables.tables(results))


def test_a_clean_run_neither_fails_nor_misses() -> None:
    results = bench_results()

    assert results.delivery_failures() == []
    assert missed(results) == []


def test_an_email_lost_fails_the_run_and_names_the_phase() -> None:
    results = bench_results(latency=Latency(2, [0.03], arrivals(2, lost=1)))

    assert results.delivery_failures() == ["latency: 1 lost, 0 duplicated"]
    assert missed(results) == [
        "(4) Commit-to-accepted latency, single emails, idle system: "
        "samples / delivered / lost / duplicated"
    ]


def test_a_duplicate_in_the_small_burst_fails_the_scale_phase() -> None:
    results = bench_results(small=burst(100, duplicated=1))

    assert results.delivery_failures() == ["scale: 0 lost, 1 duplicated"]


def test_a_missed_performance_target_is_listed_but_does_not_fail_the_run() -> None:
    results = bench_results(throughput=throughput(product_rate=200))

    assert results.delivery_failures() == []
    assert missed(results) == [
        "(2) Throughput beside the peers: 2,000 emails, one SMTP server: "
        "target: the product >= 1.2 x the loop from the first request",
        "(2) Throughput beside the peers: 2,000 emails, one SMTP server: "
        "target: the product ahead of every peer from the first request",
    ]


def test_the_product_ahead_of_every_peer_meets_the_throughput_targets() -> None:
    assert missed(bench_results(throughput=throughput(product_rate=400))) == []


def test_the_product_losing_an_email_in_the_comparison_fails_the_run() -> None:
    results = bench_results(throughput=throughput(lost=1))

    assert results.delivery_failures() == [
        "throughput: product (request): 1 lost, 0 duplicated",
        "throughput: product (commit): 1 lost, 0 duplicated",
    ]


def test_django_celery_email_duplicates_are_its_design_not_a_failure() -> None:
    runs = [PathRun("celery_email", "request", 2000, 5.0, 0, 3)]

    assert Throughput(runs, 1, 200, 10).delivery_problems() == []


def killed_worker(duplicated: int, max_copies: int = 2) -> KilledWorker:
    got = Arrivals(1000, 1000, 0, duplicated, 0, max_copies)
    return KilledWorker(got, in_flight=[3, 9], concurrency=4, repeated_message_ids=0)


def test_a_kill_may_duplicate_one_email_per_pool_process_mid_send() -> None:
    assert killed_worker(duplicated=7).allowed == 3 + 4
    assert killed_worker(duplicated=7).passed
    assert not killed_worker(duplicated=8).passed
    assert not killed_worker(duplicated=1, max_copies=3).passed


def test_a_failed_fault_run_is_marked_missed_in_the_table() -> None:
    row = chaos_tables.killed_worker_row(killed_worker(duplicated=8))
    table = chaos_tables.fault_table([row])

    assert table.rows == [
        ("3. worker SIGKILLed twice mid-burst", "1000", "1000", "0", "8", "MISSED")
    ]
    allowed = "duplicates allowed: one per pool process mid-send at each kill = 7"
    assert allowed in table.render()


def hostile_mail(**changes: Any) -> HostileMail:
    clean: dict[str, Any] = {
        "answers": {
            name: f"{code} refused" for name, code in HOSTILE_MAIL_ANSWERS.items()
        },
        "bomb_answers": ["250"],
        "bomb_seconds": 6.0,
        "comments": 20,
        "notices": 1,
        "inbound_rows": 100,
        "sent_status": "sent",
        "suppressed": 0,
        "complaints": 0,
        "limit": 20,
    }
    return HostileMail(**{**clean, **changes})


def test_hostile_mail_passes_only_refused_clearly_with_nothing_else_changed() -> None:
    assert hostile_mail().passed
    assert not hostile_mail(comments=21).passed  # the bomb got past the limit
    assert not hostile_mail(notices=2).passed  # told twice within the hour
    assert not hostile_mail(sent_status="bounced").passed  # a foreign DSN counted
    taken = {**hostile_mail().answers, "forged reply token": "250 taken"}
    assert not hostile_mail(answers=taken).passed


def relay_failover(
    by_fallback: int = 342, by_primary_after: int = 158, **changes: Any
) -> RelayFailover:
    run = RelayFailover(
        arrivals=arrivals(600),
        down_at=100,
        by_fallback=by_fallback,
        by_primary_after=by_primary_after,
        switched_after=0.3,
        returned_after=30.0,
        rows_by_relay={"primary": 600 - by_fallback, "fallback": by_fallback},
        failed=0,
        attempts=Counter({1: 600}),
    )
    return dataclasses.replace(run, **changes)


def test_a_failover_passes_when_the_fallback_was_used_and_left() -> None:
    assert relay_failover().passed
    assert not relay_failover(by_fallback=0).passed  # never used
    assert not relay_failover(by_primary_after=0).passed  # never handed back
    assert not relay_failover(arrivals=arrivals(600, duplicated=1)).passed
    assert not relay_failover(failed=1).passed


def test_a_delivery_log_naming_the_wrong_relay_fails_the_failover() -> None:
    wrong = relay_failover(rows_by_relay={"primary": 600})
    row = chaos_tables.relay_failover_row(wrong)
    assert not row.passed
    assert "(not what the servers counted)" in " ".join(row.detail)
