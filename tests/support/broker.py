"""The real broker as the tests read it: the jobs waiting in Redis, as Celery
wrote them, and where this process publishes."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import urlsplit

import redis
from django.conf import settings

from project import celery_app
from worker import releases

# What deliveries_due announced: the ids, urgent or not, and the countdown.
Announcement = tuple[list[int], bool, float]

QUEUES = tuple(settings.CELERY_TASK_QUEUES)
# kombu's Redis transport keeps the jobs a worker has taken but not yet
# acknowledged (acks_late: until they finish, and retries until they are due) here.
UNACKED = "unacked"


def queued_jobs(broker: redis.Redis, queue: str | None = None) -> list[dict[str, Any]]:
    """The jobs waiting in the real broker (one lane, or both), as Celery wrote
    them: headers, and a base64 body of [args, kwargs, embed]."""
    lanes = [queue] if queue else QUEUES
    return [json.loads(raw) for lane in lanes for raw in broker.lrange(lane, 0, -1)]


def published_ids(broker: redis.Redis, queue: str | None = None) -> list[int]:
    """Delivery ids waiting in the real broker: in deliver_emails jobs, and
    gathered for the release jobs waiting there (worker/releases.py)."""
    ids: list[int] = []
    for message in queued_jobs(broker, queue):
        args = json.loads(base64.b64decode(message["body"]))[0]
        if message["headers"]["task"] == "notifications.release_moment":
            gathered = broker.lrange(releases.keys(*args)[0], 0, -1)
            ids += [int(pk) for pk in gathered]
        else:
            ids += args[0]
    return sorted(ids)


def broker_idle(broker: redis.Redis) -> bool:
    """No job waits in a lane and none is taken by a worker: no worker on this
    broker is sending, or will send, anything."""
    waiting = sum(broker.llen(lane) for lane in QUEUES)
    return waiting == 0 and broker.hlen(UNACKED) == 0


def point_publisher_at(url: str) -> None:
    """Make this process's Celery app publish to `url` from now on.

    kombu keeps one pool per broker URL, so the real broker's pool stays open and
    is picked up again on the way back. The write URL, because Celery prefers a
    CELERY_BROKER_URL environment variable over conf.broker_url.
    """
    celery_app.conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def own_database(url: str) -> str:
    """On a Redis that several pytest-xdist workers share, each worker's own
    database: gw0 keeps the URL's, gwN takes the Nth below it (of Redis's 16)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    parts = urlsplit(url)
    if worker == "gw0" or parts.scheme not in ("redis", "rediss"):
        return url
    database = (int(parts.path.strip("/") or 0) - int(worker[2:])) % 16
    return parts._replace(path=f"/{database}").geturl()
