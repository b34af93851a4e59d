"""The rate limits' counters (Redis) with a password, behind Sentinels too; and
what start-up and /healthz say when the counters cannot be kept.

The limits fail open, so a store that refuses us would let every sign-up,
resend and reset through without a word: it must not be quiet about it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.redis_server import EmbeddedRedis, EmbeddedSentinel
from devtools.smtp import free_port
from project.settings import redis_cache

PASSWORD = "s3ntinel-and-redis-password"
pytestmark = pytest.mark.django_db


@pytest.fixture
def guarded_redis() -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(free_port(), password=PASSWORD) as server:
        yield server


@pytest.fixture
def sentinel(guarded_redis: EmbeddedRedis) -> Iterator[EmbeddedSentinel]:
    watching = EmbeddedSentinel(
        free_port(), guarded_redis.port, "mymaster", primary_password=PASSWORD
    ).start()
    yield watching
    watching.stop()


def count_in(settings: DjangoSettings, url: str) -> None:
    """The counters in the Redis `url` names, as settings.py makes them."""
    settings.CACHES = {**settings.CACHES, "ratelimit": redis_cache(url, "ratelimit")}
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_SIGN_UP = "2/h"


def sign_up_answers(client: Client, times: int) -> list[int]:
    return [client.post(reverse("users:sign-up"), {}).status_code for _ in range(times)]


def test_the_limits_hold_behind_sentinels_whose_primary_has_a_password(
    client: Client, settings: DjangoSettings, sentinel: EmbeddedSentinel
) -> None:
    count_in(settings, f"sentinel://:{PASSWORD}@127.0.0.1:{sentinel.port}/0")
    assert sign_up_answers(client, 3) == [200, 200, 429]
    assert not [m for m in run_checks(tags=["security"]) if m.id == "users.E001"]
    assert client.get("/healthz").json()["rate_limits"] == "enforced"


@pytest.mark.parametrize("credentials", ["", ":wrong-password@"])
def test_a_store_refusing_our_credentials_stops_start_up_and_shows_in_healthz(
    client: Client,
    settings: DjangoSettings,
    guarded_redis: EmbeddedRedis,
    credentials: str,
) -> None:
    count_in(settings, f"redis://{credentials}127.0.0.1:{guarded_redis.port}/0")
    errors = [m.id for m in run_checks(tags=["security"]) if m.is_serious()]
    assert errors == ["users.E001"]
    health = client.get("/healthz")
    assert health.status_code == 200  # serving, but say it
    assert health.json()["status"] == "degraded"
    assert health.json()["rate_limits"] == "not enforced"


def test_an_unreachable_store_shows_in_healthz(
    client: Client, settings: DjangoSettings
) -> None:
    count_in(settings, f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/healthz").json()["rate_limits"] == "not enforced"
