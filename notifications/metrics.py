"""Prometheus metrics of the outbox, served at /metrics.

Gauges are read from the database when Prometheus scrapes, with indexed
queries: deliveries by status and kind, those waiting for their time (a
coalescing window, quiet hours), and the age of the oldest delivery that is due
and not sent. Counters (sent, failed, retried, skipped, held by kind;
sent by relay) and the histogram of send times are added up in Redis by every
worker process on every host, once per batch, and read back at the scrape: one
set of numbers however many workers run, whichever web process answers. Redis
keeps nothing on disk here, so a Redis restart resets the counters; Prometheus's
rate() expects such resets.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import redis
from django.db.models import Count, Min
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from notifications.models import Delivery
from project.redis import redis_client, text

OUTCOMES_KEY = "notifications:metrics:outcomes"  # "sent|task_assigned" -> count
RELAYS_KEY = "notifications:metrics:relays"  # "fallback|task_assigned" -> count
SECONDS_KEY = "notifications:metrics:smtp-seconds"  # "le|0.05" -> count, sum, count
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTCOMES = ("sent", "failed", "retried", "skipped", "held")


@dataclass
class MetricsTally:
    """What one batch run adds to the counters, written to Redis at its end."""

    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    relays: Counter[tuple[str, str]] = field(default_factory=Counter)
    send_seconds: list[float] = field(default_factory=list)

    def count(self, outcome: str, kind: str, relay: str = "") -> None:
        """One more of this outcome; a sent one also for the relay that took it."""
        self.outcomes[outcome, kind] += 1
        if relay:
            self.relays[relay, kind] += 1

    def flush(self, client: redis.Redis) -> None:
        if not self.outcomes and not self.send_seconds:
            return
        pipe = client.pipeline(transaction=False)
        for (outcome, kind), count in self.outcomes.items():
            pipe.hincrby(OUTCOMES_KEY, f"{outcome}|{kind}", count)
        for (relay, kind), count in self.relays.items():
            pipe.hincrby(RELAYS_KEY, f"{relay}|{kind}", count)
        for seconds in self.send_seconds:
            bucket = next((b for b in BUCKETS if seconds <= b), "+Inf")
            pipe.hincrby(SECONDS_KEY, f"le|{bucket}", 1)
        if self.send_seconds:
            pipe.hincrbyfloat(SECONDS_KEY, "sum", sum(self.send_seconds))
            pipe.hincrby(SECONDS_KEY, "count", len(self.send_seconds))
        pipe.execute()


def oldest_due_age(now: datetime) -> float:
    """Seconds since the oldest queued delivery became due; 0 when none is."""
    oldest = Delivery.objects.due(now).aggregate(at=Min("next_attempt_at"))["at"]
    return max((now - oldest).total_seconds(), 0.0) if oldest else 0.0


class OutboxCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield self.deliveries()
        yield self.waiting(timezone.now())
        yield GaugeMetricFamily(
            "notifications_oldest_due_age_seconds",
            "Age of the oldest delivery that is due and not sent.",
            value=oldest_due_age(timezone.now()),
        )
        try:
            counters, relays, seconds = self.from_redis()
        except redis.RedisError:
            return  # the gauges still answer while Redis is down
        yield self.outcomes(counters)
        yield self.relays(relays)
        yield self.smtp_seconds(seconds)

    @staticmethod
    def deliveries() -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "notifications_deliveries",
            "Deliveries in the outbox, by status and kind.",
            labels=["status", "kind"],
        )
        counts = Delivery.objects.values_list("status", "kind").annotate(n=Count("pk"))
        found = {(status, kind): n for status, kind, n in counts.order_by()}
        for status in Delivery.Status.values:
            for kind in Delivery.Kind.values:
                family.add_metric([status, kind], found.get((status, kind), 0))
        return family

    @staticmethod
    def waiting(now: datetime) -> GaugeMetricFamily:
        """Queued rows waiting for their time (notifications/timing.py)."""
        family = GaugeMetricFamily(
            "notifications_waiting",
            "Deliveries waiting for their time, by what they wait for: more "
            "changes to their task (window) or their recipient's quiet hours "
            "(quiet).",
            labels=["waiting_for"],
        )
        counts = Delivery.objects.waiting_after(now).values_list("waiting_for")
        found = dict(counts.annotate(n=Count("pk")).order_by())
        for wait in (Delivery.Wait.WINDOW, Delivery.Wait.QUIET):
            family.add_metric([wait], found.get(wait, 0))
        return family

    @staticmethod
    def from_redis() -> tuple[dict[str, int], dict[str, int], dict[str, float]]:
        client = redis_client()
        outcomes, relays = client.hgetall(OUTCOMES_KEY), client.hgetall(RELAYS_KEY)
        seconds = client.hgetall(SECONDS_KEY)
        return (
            {text(k): int(v) for k, v in outcomes.items()},
            {text(k): int(v) for k, v in relays.items()},
            {text(k): float(v) for k, v in seconds.items()},
        )

    @staticmethod
    def outcomes(counters: dict[str, int]) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "notifications_emails",
            "What the workers did with each email, by outcome and kind.",
            labels=["outcome", "kind"],
        )
        for outcome in OUTCOMES:
            for kind in Delivery.Kind.values:
                family.add_metric([outcome, kind], counters.get(f"{outcome}|{kind}", 0))
        return family

    @staticmethod
    def relays(counters: dict[str, int]) -> CounterMetricFamily:
        family = CounterMetricFamily(
            "notifications_emails_sent_by_relay",
            "Emails each relay took (primary, or the fallback while the primary "
            "was down), by kind.",
            labels=["relay", "kind"],
        )
        for relay in Delivery.Relay.values:
            for kind in Delivery.Kind.values:
                family.add_metric([relay, kind], counters.get(f"{relay}|{kind}", 0))
        return family

    @staticmethod
    def smtp_seconds(seconds: dict[str, float]) -> HistogramMetricFamily:
        running, buckets = 0.0, []
        for bound in (*BUCKETS, "+Inf"):
            running += seconds.get(f"le|{bound}", 0)
            buckets.append((str(bound), running))
        return HistogramMetricFamily(
            "notifications_smtp_send_seconds",
            "Time the relay (SMTP server or ESP API) took to accept one message.",
            buckets=buckets,
            sum_value=seconds.get("sum", 0.0),
        )


def exposition() -> bytes:
    """The metrics in Prometheus's text format."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(OutboxCollector())
    return generate_latest(registry)
