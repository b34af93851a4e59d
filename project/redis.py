"""The site's Redis: the broker's, shared by every process and host.

CELERY_BROKER_URL names one Redis (redis://, rediss://) or Sentinels watching a
primary (sentinel://host:port;sentinel://host:port/0, with the primary's name in
REDIS_SENTINEL_MASTER). parse_sentinels() reads such a URL for everyone (the
settings' rate-limit cache too), and redis_client() is the one client the pace,
the metrics, /healthz and the gathered releases (worker/releases.py) use, so
they follow a failover as Celery does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.sentinel import Sentinel

SENTINEL_SCHEME = "sentinel://"
TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}


@dataclass(frozen=True)
class Sentinels:
    """What a sentinel:// URL names: the Sentinels (host, port), and the
    database and password of the primary they watch."""

    nodes: tuple[tuple[str, int], ...]
    database: int
    password: str | None


def parse_sentinels(url: str) -> Sentinels | None:
    """The Sentinels a sentinel:// URL names; None for a URL of one Redis."""
    if not url.startswith(SENTINEL_SCHEME):
        return None
    parts = [urlsplit(part) for part in url.split(";")]
    nodes = tuple((part.hostname or "127.0.0.1", part.port or 26379) for part in parts)
    database = int((parts[0].path or "/0").strip("/") or 0)
    return Sentinels(nodes, database, parts[0].password)


def redis_client() -> redis.Redis:
    """A client of the broker's Redis (its primary, behind Sentinels)."""
    return client_for(settings.CELERY_BROKER_URL, settings.REDIS_SENTINEL_MASTER)


@cache
def client_for(url: str, master: str) -> redis.Redis:
    """One connection pool per URL and process."""
    sentinels = parse_sentinels(url)
    if sentinels is None:
        return redis.Redis.from_url(url, **TIMEOUTS)
    # redis-py's Sentinel is not annotated.
    sentinel = Sentinel(list(sentinels.nodes), sentinel_kwargs=TIMEOUTS, **TIMEOUTS)  # type: ignore[no-untyped-call]
    primary: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        master, db=sentinels.database, password=sentinels.password
    )
    return primary


def text(value: bytes | str) -> str:
    """A Redis reply as text: clients made without decode_responses give bytes."""
    return value.decode() if isinstance(value, bytes) else value
