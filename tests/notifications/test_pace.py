"""The shared pace against the real Redis broker: two Pace objects stand for two
worker processes (or hosts) and must share one rate, one daily limit and one
cool-down."""

from __future__ import annotations

import time

import pytest
import redis
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery
from notifications.pace import COOLDOWN_KEY, Pace


@pytest.fixture
def client(broker_url: str) -> redis.Redis:
    return redis.Redis.from_url(broker_url)


def test_no_limits_means_every_turn_is_granted(client: redis.Redis) -> None:
    pace = Pace(client)
    assert all(pace.take_turn().granted for _ in range(50))


def test_the_rate_is_shared_by_every_process(client: redis.Redis) -> None:
    one, other = Pace(client, rate=5), Pace(client, rate=5)
    assert one.take_turn().granted
    turn = other.take_turn()  # another process, a moment later
    assert not turn.granted
    assert 0 < turn.wait <= 0.2
    assert (turn.cause, turn.waiting_for) == ("rate", Delivery.Wait.PACE)


def test_the_rate_grants_about_n_turns_a_second(client: redis.Redis) -> None:
    pace = Pace(client, rate=20)
    granted, started = 0, time.monotonic()
    while granted < 10:
        turn = pace.take_turn()
        if turn.granted:
            granted += 1
        else:
            time.sleep(turn.wait)  # what the batch run does for a short wait
    assert time.monotonic() - started >= 9 / 20 * 0.95


def test_the_daily_limit_waits_for_the_oldest_send_to_age_out(
    client: redis.Redis,
) -> None:
    one, other = Pace(client, daily=3), Pace(client, daily=3)
    assert [one.take_turn().granted, other.take_turn().granted] == [True, True]
    assert one.take_turn().granted
    turn = other.take_turn()
    assert (turn.granted, turn.cause) == (False, "daily")
    assert 86_000 < turn.wait <= 86_400


def test_a_busy_provider_pauses_everyone_and_the_pause_grows(
    client: redis.Redis, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 10
    settings.NOTIFICATIONS_PROVIDER_COOLDOWN_MAX = 25
    one, other = Pace(client), Pace(client)
    assert one.provider_busy() == 10
    turn = other.take_turn()
    assert (turn.granted, turn.waiting_for) == (False, Delivery.Wait.PROVIDER)
    assert 9 < turn.wait <= 10
    # Busy replies to sends already in flight join the running cool-down.
    assert 9 < other.provider_busy() <= 10
    client.delete(COOLDOWN_KEY)  # as if the cool-down had run out
    assert other.provider_busy() == 20  # refusing still: twice as long
    client.delete(COOLDOWN_KEY)
    assert one.provider_busy() == 25  # capped


def test_account_emails_keep_a_reserve_of_the_daily_limit(
    client: redis.Redis,
) -> None:
    """A burst of notifications stops short; activation and reset still go."""
    pace = Pace(client, daily=10, reserve=2)
    notifications = [pace.take_turn().granted for _ in range(10)]
    assert notifications == [True] * 8 + [False] * 2
    assert pace.take_turn().cause == "daily"
    accounts = [pace.take_turn(account_email=True).granted for _ in range(3)]
    assert accounts == [True, True, False]
