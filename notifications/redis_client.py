"""The Redis the notifications share across processes and hosts: the broker's.

One place turns CELERY_BROKER_URL into a client, whether it names one Redis
(redis://, rediss://) or Sentinels watching a primary (sentinel://host:port;
sentinel://host:port, with the primary's name in REDIS_SENTINEL_MASTER), so the
pace, the metrics and /healthz follow a failover as Celery does.
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

import redis
from django.conf import settings
from redis.sentinel import Sentinel

TIMEOUTS = {"socket_connect_timeout": 2, "socket_timeout": 5}


def redis_client() -> redis.Redis:
    """A client of the broker's Redis (its primary, behind Sentinels)."""
    return client_for(settings.CELERY_BROKER_URL, settings.REDIS_SENTINEL_MASTER)


@cache
def client_for(url: str, master: str) -> redis.Redis:
    """One connection pool per URL and process."""
    if not url.startswith("sentinel://"):
        return redis.Redis.from_url(url, **TIMEOUTS)
    parts = [urlsplit(part) for part in url.split(";")]
    nodes = [(part.hostname or "127.0.0.1", part.port or 26379) for part in parts]
    database = int((parts[0].path or "/0").strip("/") or 0)
    # redis-py's Sentinel is not annotated.
    sentinel = Sentinel(nodes, sentinel_kwargs=TIMEOUTS, **TIMEOUTS)  # type: ignore[no-untyped-call]
    primary: redis.Redis = sentinel.master_for(  # type: ignore[no-untyped-call]
        master, db=database, password=parts[0].password
    )
    return primary
