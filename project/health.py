"""/healthz: is the database answering, is the broker answering, are the rate
limits enforced, is the outbox keeping up. 503 only when the database or the
broker is down: a lagging outbox, or rate limits that cannot be enforced, are
reported (an alert's business), not a reason to restart the web."""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_redis import get_redis_connection

from notifications.metrics import oldest_due_age
from project.redis import redis_client


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        return False


def broker_ok() -> bool:
    try:
        return bool(redis_client().ping())
    except redis.RedisError:
        return False


def rate_limits_state() -> str:
    """ "enforced", "off" (RATELIMIT_ENABLE), or "not enforced": the counters'
    Redis does not answer or refuses us, and the limits fail open."""
    if not settings.RATELIMIT_ENABLE:
        return "off"
    try:
        get_redis_connection(settings.RATELIMIT_USE_CACHE).ping()
    except redis.RedisError:
        return "not enforced"
    return "enforced"


def outbox_state() -> dict[str, object]:
    """The oldest due delivery's wait, and whether that is lagging."""
    try:
        age = oldest_due_age(timezone.now())
    except DatabaseError:
        return {"oldest_due_age_seconds": None, "lagging": None}
    lagging = age > settings.NOTIFICATIONS_LAG_THRESHOLD
    return {"oldest_due_age_seconds": round(age, 1), "lagging": lagging}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_ok(), "broker": broker_ok()}
    status = 200 if all(checks.values()) else 503
    rate_limits = rate_limits_state()
    # Serving without rate limits is degraded, not down: no restart helps.
    word = "degraded" if rate_limits == "not enforced" else "ok"
    body: dict[str, object] = {"status": word if status == 200 else "fail", **checks}
    body["rate_limits"] = rate_limits
    body["outbox"] = outbox_state() if checks["database"] else None
    return JsonResponse(body, status=status)
