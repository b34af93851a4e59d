"""`make bench` (1): request times over HTTP with notifications on and off while
the SMTP server takes 2 s per message, and the seed's send-in-the-request beside
them."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.bench_results import Isolation
from bench.client import Response, Session
from bench.forms import manager_session, post_sign_up, post_task
from bench.stack import WebServer

if TYPE_CHECKING:
    from bench.rig import Rig

SMTP_DELAY = 2.0  # seconds the SMTP server takes per message
ASSIGNEES = 10
WARM_UP = 8  # requests of each kind per server before the samples


@dataclass
class Servers:
    """The three gunicorn servers of make bench."""

    on: WebServer  # the product
    off: WebServer  # the product, notifications off (bench/quiet.py)
    seed: WebServer  # sending inside the request (bench/seed_style.py)


def request_isolation(rig: Rig, servers: Servers, samples: int) -> Isolation:
    rig.smtp.behaviour.delay = SMTP_DELAY
    pair = [servers.on, servers.off]
    sessions = {web.label: manager_session(web.url) for web in pair}
    warm_up(rig, pair, sessions)
    return Isolation(
        smtp_delay=SMTP_DELAY,
        assignees=ASSIGNEES,
        samples=samples,
        times=interleaved_samples(rig, pair, sessions, samples),
        seed_style=seed_style(rig, servers.seed),
    )


def create_task(rig: Rig, session: Session, title: str) -> Response:
    people = rig.people[10 : 10 + ASSIGNEES]
    return post_task(session, title, rig.project.pk, people)


def warm_up(rig: Rig, pair: list[WebServer], sessions: dict[str, Session]) -> None:
    """Every gunicorn worker of both servers: imports, templates."""
    for web in pair:
        for index in range(WARM_UP):
            create_task(rig, sessions[web.label], f"Warm {web.label} {index}")
            post_sign_up(web.url, f"warm{web.label}{index}")


def interleaved_samples(
    rig: Rig, pair: list[WebServer], sessions: dict[str, Session], samples: int
) -> dict[str, dict[str, list[float]]]:
    """Seconds per request, by request and server; the servers take turns first."""
    create: dict[str, list[float]] = {web.label: [] for web in pair}
    signup: dict[str, list[float]] = {web.label: [] for web in pair}
    for index in range(samples):
        order = pair if index % 2 == 0 else pair[::-1]
        for web in order:
            answer = create_task(rig, sessions[web.label], f"Iso {index}")
            create[web.label].append(answer.elapsed)
        for web in order:
            answer = post_sign_up(web.url, f"iso{web.label}{index}")
            signup[web.label].append(answer.elapsed)
    return {"create": create, "signup": signup}


def seed_style(rig: Rig, seed: WebServer) -> dict[str, list[float]]:
    """The seed's synchronous send: 4 requests at a time (4 gunicorn workers)."""
    session = manager_session(seed.url)
    tasks = in_parallel(4, lambda i: create_task(rig, session, f"Seed {i}"))
    signups = in_parallel(8, lambda i: post_sign_up(seed.url, f"seed{i}"), workers=4)
    return {"create": tasks, "signup": signups}


def in_parallel(
    count: int, call: Callable[[int], Response], workers: int | None = None
) -> list[float]:
    with ThreadPoolExecutor(max_workers=workers or count) as pool:
        return [answer.elapsed for answer in pool.map(call, range(count))]
