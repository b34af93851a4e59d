"""The shared pace against the real Redis broker: two Pace objects stand for two
worker processes (or hosts) and must share one rate, one daily limit and one
cool-down."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from pytest_django.fixtures import Settings as DjangoSettings
from redis.backoff import NoBackoff
from redis.retry import Retry

from devtools.smtp import free_port
from notifications.models import Delivery
from notifications.pace import COOLDOWN_KEY, DOWN_KEY, QUIET_CHECK, Pace, Turn


@pytest.fixture
def client(broker_url: str) -> redis.Redis:
    return redis.Redis.from_url(broker_url)


def eventually(take: Callable[[], Turn], expected: str) -> Turn:
    """The first turn whose relay or cause is `expected`, asked again until
    QUIET_CHECK (and some) has passed: what another process may take to notice."""
    deadline = time.monotonic() + QUIET_CHECK * 4
    while True:
        turn = take()
        if expected in (turn.relay, turn.cause) or time.monotonic() > deadline:
            assert expected in (turn.relay, turn.cause), turn
            return turn
        time.sleep(0.01)


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


def test_a_domain_s_rate_is_shared_and_holds_no_other_domain(
    client: redis.Redis,
) -> None:
    rates = {"outlook.com": 5}
    one, other = Pace(client, domain_rates=rates), Pace(client, domain_rates=rates)
    assert one.take_turn(domain="outlook.com").granted
    turn = other.take_turn(domain="Outlook.com")  # another process
    assert (turn.granted, turn.cause, turn.one_domain) == (False, "domain-rate", True)
    assert 0 < turn.wait <= 0.2
    assert turn.waiting_for == Delivery.Wait.PACE
    assert other.take_turn(domain="gmail.com").granted


def test_a_busy_domain_pauses_that_domain_alone(
    client: redis.Redis, settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 10
    one, other = Pace(client), Pace(client)
    assert other.take_turn(domain="yahoo.com").granted  # quiet from now on...
    assert one.domain_busy("yahoo.com") == 10
    # Within QUIET_CHECK the other process asks Redis again, and learns of it.
    turn = eventually(lambda: other.take_turn(domain="yahoo.com"), "domain")
    assert (turn.cause, turn.waiting_for, turn.one_domain) == (
        "domain",
        Delivery.Wait.DOMAIN,
        True,
    )
    assert 9 < turn.wait <= 10
    assert other.take_turn(domain="gmail.com").granted
    assert one.take_turn(domain="yahoo.com").cause == "domain"  # known at once here


class TestRelays:
    """Which relay a turn goes by, with a fallback configured."""

    def test_without_a_fallback_every_turn_is_the_primary_s(
        self, client: redis.Redis
    ) -> None:
        pace = Pace(client)
        pace.primary_down()
        assert pace.take_turn().relay == "primary"

    def test_one_process_s_switch_moves_every_process_to_the_fallback(
        self, client: redis.Redis, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_FAILOVER_PROBE = 30
        one, other = Pace(client, fallback=True), Pace(client, fallback=True)
        assert other.take_turn().relay == "primary"
        assert one.primary_down() == 30
        assert eventually(other.take_turn, "fallback").granted
        assert 29 < one.primary_down() <= 30  # a failure in flight joins the switch

    def test_one_process_probes_and_its_answer_brings_everyone_back(
        self, client: redis.Redis, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_FAILOVER_PROBE = 30
        one, other = Pace(client, fallback=True), Pace(client, fallback=True)
        one.primary_down()
        client.delete(DOWN_KEY)  # as if its while had run out
        assert one.take_turn().relay == "probe"
        assert other.take_turn().relay == "fallback"  # one probe at a time
        one.primary_back()
        assert eventually(other.take_turn, "primary").granted

    def test_a_failed_probe_doubles_the_while_up_to_the_cap(
        self, client: redis.Redis, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_FAILOVER_PROBE = 30
        settings.NOTIFICATIONS_FAILOVER_PROBE_MAX = 100
        pace = Pace(client, fallback=True)
        waits = []
        for _ in range(4):
            waits.append(pace.primary_down())
            client.delete(DOWN_KEY)
        assert waits == [30, 60, 100, 100]

    def test_the_primary_s_cool_down_does_not_stop_the_fallback(
        self, client: redis.Redis, settings: DjangoSettings
    ) -> None:
        settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 10
        pace = Pace(client, fallback=True)
        pace.provider_busy("primary")
        assert not pace.take_turn().granted
        pace.primary_down(at_least=10)
        turn = pace.take_turn()
        assert (turn.granted, turn.relay) == (True, "fallback")


def test_with_redis_gone_the_writes_are_unshared_but_never_fatal(
    settings: DjangoSettings,
) -> None:
    settings.NOTIFICATIONS_PROVIDER_COOLDOWN = 10
    gone = redis.Redis(port=free_port(), retry=Retry(NoBackoff(), 0))
    pace = Pace(gone, fallback=True)
    assert pace.busy("primary") == (10, 1)  # this run still holds its rows back
    assert pace.domain_busy("outlook.com") == 10
    assert pace.primary_down() == 0.0
    pace.primary_back()
