"""What `make bench` measured: plain results, read by bench.bench_tables.

Each phase's module returns one of these; nothing here measures or prints. The
run fails (exit status 1) on `BenchResults.delivery_failures()`; the performance
targets are the tables' business.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.inbox import Arrivals, Key
from bench.stats import per_email_ms, rate


@dataclass
class RequestCost:
    """(1, 3a) `POST /tasks/create/` in this process, with Django's test client."""

    queries: dict[int, int]  # by assignees; 0: ten, notifications off
    request_ms: float  # mean of a ten-assignee request
    steps_ms: dict[str, float]  # of that, the product's notification steps
    expected: set[Key]  # the emails these requests owe


@dataclass
class Isolation:
    """(1) Request times over HTTP while the SMTP server is slow, in seconds."""

    smtp_delay: float  # seconds the SMTP server took per message
    assignees: int
    samples: int
    times: dict[str, dict[str, list[float]]]  # request -> server label -> times
    seed_style: dict[str, list[float]]  # request -> times, sending in the request


@dataclass
class Burst:
    """Emails committed at once and drained by the workers."""

    emails: int
    seconds: float  # from the COMMIT to the last email accepted
    worker_cpu: float  # seconds, every worker process
    smtp_cpu: float  # seconds, this process (the SMTP server)
    arrivals: Arrivals
    phases: dict[str, float]  # median seconds "queued" (to claimed), "sending"

    @property
    def rate(self) -> float:
        return rate(self.emails, self.seconds)

    @property
    def worker_cpu_ms(self) -> float:
        return per_email_ms(self.worker_cpu, self.emails)

    @property
    def smtp_cpu_ms(self) -> float:
        return per_email_ms(self.smtp_cpu, self.emails)

    @property
    def wall_ms(self) -> float:
        return per_email_ms(self.seconds, self.emails)


@dataclass
class PathRun:
    """(2) One path's run: emails sent and how long they took on one clock."""

    path: str  # "loop", "django", "celery_email", "post_office", "product"
    clock: str  # "request", "commit", or "both" (the loop has no requests)
    emails: int
    seconds: float
    lost: int
    duplicated: int
    cpu: float = 0.0  # CPU seconds of the loop's process (the loop alone)

    @property
    def rate(self) -> float:
        return rate(self.emails, self.seconds)


@dataclass
class Throughput:
    """(2) The product beside the peers, every path run `rounds` times."""

    runs: list[PathRun]
    rounds: int
    tasks: int
    people: int

    def best(self, path: str, clock: str) -> PathRun:
        runs = [r for r in self.runs if r.path == path and r.clock in (clock, "both")]
        return max(runs, key=lambda run: run.rate)

    def product_ratio(self) -> float:
        """The product's best rate from the first request, over the loop's."""
        loop = self.best("loop", "request").rate
        return self.best("product", "request").rate / loop if loop else 0.0

    def ahead_of_peers(self) -> bool:
        """The product's best rate from the first request beats every peer's."""
        product = self.best("product", "request").rate
        peers = ("django", "celery_email", "post_office")
        return all(product > self.best(peer, "request").rate for peer in peers)

    def loop_cpu_ms(self) -> float:
        """The plain loop's CPU per email, in its fastest run."""
        loop = self.best("loop", "request")
        return 1000 * loop.cpu / loop.emails if loop.emails else 0.0

    def losses(self, path: str) -> tuple[int, int]:
        """Emails lost and duplicated over every run of this path."""
        runs = [run for run in self.runs if run.path == path]
        return sum(r.lost for r in runs), sum(r.duplicated for r in runs)

    def delivery_problems(self) -> list[str]:
        """django-celery-email keeps no record per message: its duplicates are
        its design, not a failure of the run."""
        return [
            f"{run.path} ({run.clock}): {run.lost} lost, {run.duplicated} duplicated"
            for run in self.runs
            if run.lost or (run.duplicated and run.path != "celery_email")
        ]


@dataclass
class FastLane:
    """(3d) Sign-up to activation email accepted, during a backlog."""

    waits: list[float]  # seconds, one per sign-up
    backlog_left: int  # backlog emails still queued when the last one arrived
    backlog: Arrivals
    backlog_tasks: int
    backlog_people: int
    smtp_delay: float  # seconds the SMTP server took per message meanwhile


@dataclass
class Latency:
    """(4) From COMMIT to the SMTP server's 250, one email at a time."""

    samples: int
    seconds: list[float]
    arrivals: Arrivals


@dataclass
class WorkerMemory:
    """(5) One worker instance: its main process first, then its pool."""

    peak_kib: list[int]  # VmHWM
    resident_kib: list[int]  # VmRSS


@dataclass
class SendProfile:
    """send_batch() under cProfile: seconds spent in each part."""

    emails: int
    batch: int
    parts: dict[str, float]  # templates, mime, smtp, sql, other, total
    wall: float  # seconds, with the profiler on


@dataclass
class ProfileFailed:
    """The profile's process failed; the tail of what it wrote to stderr."""

    stderr: str


@dataclass
class BenchResults:
    workers: int
    concurrency: int
    request_cost: RequestCost
    request_emails: Arrivals  # the emails of the in-process requests
    latency: Latency
    small: Burst
    large: Burst
    throughput: Throughput
    memory: list[WorkerMemory]
    scale_out: dict[str, Burst]  # by layout of worker instances
    fast_lane: FastLane
    isolation: Isolation

    def delivery_failures(self) -> list[str]:
        """Every phase that lost or duplicated an email."""
        checked = [
            ("burst", self.large.arrivals),
            ("scale", self.request_emails + self.small.arrivals),
            *((layout, burst.arrivals) for layout, burst in self.scale_out.items()),
            ("backlog", self.fast_lane.backlog),
            ("latency", self.latency.arrivals),
        ]
        return [f"throughput: {p}" for p in self.throughput.delivery_problems()] + [
            f"{label}: {arrivals.lost} lost, {arrivals.duplicated} duplicated"
            for label, arrivals in checked
            if not arrivals.intact
        ]
