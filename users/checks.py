"""Start-up checks of the accounts' protections (Django's system checks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis
from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error
from django_redis import get_redis_connection


def rate_limits_can_be_enforced(
    *,
    app_configs: Sequence[AppConfig] | None,
    databases: Sequence[str] | None,
    **kwargs: Any,
) -> list[CheckMessage]:
    """The rate-limit counters' Redis must take our credentials.

    The limits fail open (a Redis outage lapses them rather than the pages), so
    a wrong or missing password would turn every limit off without a word: that
    is refused at start-up. An unreachable Redis is not (it may come back, or
    start after this command); /healthz reports it.
    """
    if not settings.RATELIMIT_ENABLE:
        return []
    try:
        get_redis_connection(settings.RATELIMIT_USE_CACHE).ping()
    except redis.AuthenticationError as error:
        return [
            Error(
                f"Rate limits cannot be enforced: their Redis refuses the "
                f"credentials ({error}).",
                hint="Give CELERY_BROKER_URL the Redis password "
                "(redis://:PASSWORD@host:6379/0, or sentinel://:PASSWORD@host:26379).",
                id="users.E001",
            )
        ]
    except redis.RedisError:
        return []
    return []
