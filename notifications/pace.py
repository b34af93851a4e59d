"""The shared pace of sending, kept in Redis so that it holds across every worker
process and host at once:

- our own rate, EMAIL_RATE_LIMIT messages per second (unset: none);
- our own daily limit, EMAIL_DAILY_LIMIT messages per rolling 24 hours (unset:
  none), of which EMAIL_DAILY_ACCOUNT_RESERVE percent only account emails take;
- a rate per recipient domain, EMAIL_DOMAIN_RATE_LIMITS (outlook.com=5,...);
- a cool-down while the provider says it is busy (throttling, quota spent),
  which grows while the provider keeps refusing and falls back once it is quiet;
  one per relay, and one per recipient domain that answered busy itself;
- with a fallback relay (EMAIL_FALLBACK_HOST), which relay carries the mail: the
  primary, or the fallback while the primary is down, until one process's probe
  finds the primary back.

Every send first takes a turn. One Lua script decides all of it, on Redis's own
clock, so hosts whose clocks disagree still share one pace; waiting for a turn is
not a failure and spends no attempt.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

from notifications.models import Delivery
from project.redis import redis_client, text

logger = logging.getLogger(__name__)

PREFIX = "notifications:pace:"
RATE_KEY, DAY_KEY = f"{PREFIX}next-turn", f"{PREFIX}sent-24h"
# The primary relay's cool-down (the only one without a fallback).
COOLDOWN_KEY, LEVEL_KEY = f"{PREFIX}cooldown-until", f"{PREFIX}cooldown-level"
FALLBACK_COOLDOWN_KEY = f"{PREFIX}fallback:cooldown-until"
FALLBACK_LEVEL_KEY = f"{PREFIX}fallback:cooldown-level"
# While DOWN_KEY lives the fallback carries the mail. DOWN_LEVEL_KEY remembers
# the primary has not been seen back since: once DOWN_KEY runs out, one process
# (holding PROBE_KEY) tries the primary while the others keep to the fallback.
DOWN_KEY, DOWN_LEVEL_KEY = f"{PREFIX}primary:down-until", f"{PREFIX}primary:down-level"
PROBE_KEY = f"{PREFIX}primary:probe"
DAY = 86400
# Without limits of our own, a provider's cool-down set by another process is
# noticed within this many seconds (as is a switch of relays).
QUIET_CHECK = 0.25

# KEYS: 1 next turn, 2 sends of the last 24 h, 3 primary's cool-down end,
# 4 fallback's cool-down end, 5 primary down, 6 primary down level, 7 probe,
# 8 the domain's next turn, 9 the domain's cool-down end
# ARGV: 1 seconds between sends (0: no rate limit), 2 daily limit (0: none),
# 3 member, 4 seconds between sends to the domain (0: none), 5 "1" with a
# fallback relay, 6 milliseconds a probe may take
# Returns {verdict, seconds to wait, relay}: verdict "go" (the turn is taken and
# counted), "domain", "provider", "daily", "rate" or "domain-rate"; relay
# "primary", "fallback" or "probe". Nothing is written unless the turn is taken.
TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, daily = tonumber(ARGV[1]), tonumber(ARGV[2])
local domain_interval = tonumber(ARGV[4])
local domain_cool = tonumber(redis.call('GET', KEYS[9]) or '0')
if domain_cool > now then return {'domain', tostring(domain_cool - now), ''} end
local relay, cool = 'primary', tonumber(redis.call('GET', KEYS[3]) or '0')
if ARGV[5] == '1' and redis.call('EXISTS', KEYS[6]) == 1 then
  -- The primary is down: one process at a time probes it once its while is up
  -- and it is not cooling down; the others keep to the fallback.
  local probing = redis.call('EXISTS', KEYS[5]) + redis.call('EXISTS', KEYS[7])
  if probing > 0 or cool > now then
    relay, cool = 'fallback', tonumber(redis.call('GET', KEYS[4]) or '0')
  else
    relay = 'probe'
  end
end
if cool > now then return {'provider', tostring(cool - now), relay} end
if daily > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 86400)
  if redis.call('ZCARD', KEYS[2]) >= daily then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {'daily', tostring(tonumber(oldest[2]) + 86400 - now), relay}
  end
end
local next_turn, domain_next = 0, 0
if interval > 0 then
  next_turn = tonumber(redis.call('GET', KEYS[1]) or '0')
  if next_turn > now then return {'rate', tostring(next_turn - now), relay} end
end
if domain_interval > 0 then
  domain_next = tonumber(redis.call('GET', KEYS[8]) or '0')
  if domain_next > now then
    return {'domain-rate', tostring(domain_next - now), relay}
  end
end
if interval > 0 then
  local ttl = math.ceil(interval * 1000) + 1000
  redis.call('SET', KEYS[1], tostring(math.max(next_turn, now) + interval), 'PX', ttl)
end
if domain_interval > 0 then
  local ttl = math.ceil(domain_interval * 1000) + 1000
  local turn = tostring(math.max(domain_next, now) + domain_interval)
  redis.call('SET', KEYS[8], turn, 'PX', ttl)
end
if daily > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[3])
  redis.call('EXPIRE', KEYS[2], 86400 + 3600)
end
if relay == 'probe' then redis.call('SET', KEYS[7], '1', 'PX', ARGV[6]) end
return {'go', '0', relay}
"""

# KEYS: cool-down end, level. ARGV: base seconds, cap seconds.
# A busy reply while a cool-down runs (several processes' sends were in flight
# when it began) joins that cool-down. One after it ended, while the level is
# still remembered, doubles it; the level is forgotten after twice the cool-down
# without another busy reply. Returns {seconds, level}.
PROVIDER_BUSY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local base, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local level = tonumber(redis.call('GET', KEYS[2]) or '0')
if current > now then return {tostring(current - now), level} end
level = redis.call('INCR', KEYS[2])
local pause = math.min(base * 2 ^ (level - 1), cap)
redis.call('EXPIRE', KEYS[2], math.ceil(pause * 2))
redis.call('SET', KEYS[1], tostring(now + pause), 'PX', math.ceil(pause * 1000))
return {tostring(pause), level}
"""

# KEYS: primary down, its level, probe. ARGV: base seconds, cap seconds, at
# least seconds. The fallback takes over for a while that doubles each time a
# probe finds the primary down still; failures of sends in flight when another
# process switched join that while. Returns the seconds until the next probe.
PRIMARY_DOWN = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return tostring(ttl / 1000) end
local level = redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], 86400)
local base, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local down = math.max(math.min(base * 2 ^ (level - 1), cap), tonumber(ARGV[3]))
redis.call('SET', KEYS[1], '1', 'PX', math.ceil(down * 1000))
redis.call('DEL', KEYS[3])
return tostring(down)
"""


WAIT_REASONS = {
    "provider": "The provider asked us to slow down; sending resumes after a pause",
    "domain": (
        "The recipient's domain asked us to slow down; its emails resume after a pause"
    ),
    "daily": "The daily limit (EMAIL_DAILY_LIMIT) is reached",
    "rate": "Waiting for the send rate (EMAIL_RATE_LIMIT)",
    "domain-rate": "Waiting for the domain's send rate (EMAIL_DOMAIN_RATE_LIMITS)",
    "unknown": "The pace could not be read from Redis; trying again shortly",
}
# Waits that hold back only the emails to one domain: the rest go on.
DOMAIN_CAUSES = frozenset({"domain", "domain-rate"})
WAITING_FOR = {"provider": Delivery.Wait.PROVIDER, "domain": Delivery.Wait.DOMAIN}


@dataclass(frozen=True)
class Turn:
    """Whether to send now, or how long to wait and why; and by which relay."""

    wait: float = 0.0  # 0.0: go, the turn is taken
    cause: str = ""  # a key of WAIT_REASONS while waiting
    detail: str = ""  # the provider's reply, when it is the cause
    relay: str = "primary"  # primary, fallback, or probe (notifications/relays.py)

    @property
    def granted(self) -> bool:
        return self.wait <= 0

    @property
    def one_domain(self) -> bool:
        """Only the emails to the recipient's domain wait; the others go on."""
        return self.cause in DOMAIN_CAUSES

    @property
    def waiting_for(self) -> str:
        return WAITING_FOR.get(self.cause, Delivery.Wait.PACE)

    @property
    def reason(self) -> str:
        """What the delivery log shows for a row waiting for this turn."""
        said = f": {self.detail}" if self.detail else ""
        return f"{WAIT_REASONS.get(self.cause, 'Waiting')}{said}"[:500]


class Pace:
    def __init__(
        self,
        client: redis.Redis,
        rate: float | None = None,
        daily: int | None = None,
        reserve: int = 0,
        domain_rates: dict[str, float] | None = None,
        fallback: bool = False,
    ) -> None:
        self.client = client
        self.interval = 1 / rate if rate else 0.0
        self.daily = daily or 0
        # Sends of the daily limit only account emails may take: notifications
        # stop short of them, so a burst of comments never locks anyone out of
        # their activation or reset email.
        self.reserve = min(reserve, self.daily - 1) if self.daily else 0
        self.domain_intervals = {
            domain.lower(): 1 / rate for domain, rate in (domain_rates or {}).items()
        }
        self.fallback = fallback
        self._take_turn = client.register_script(TAKE_TURN)
        self._provider_busy = client.register_script(PROVIDER_BUSY)
        self._primary_down = client.register_script(PRIMARY_DOWN)
        # Between asks of Redis (no limits of our own): the relay last named, and
        # the domains Redis or this process knows are paused, until when.
        self.quiet_until = 0.0
        self.quiet_relay = "primary"
        self.paused_domains: dict[str, float] = {}

    def take_turn(self, account_email: bool = False, domain: str = "") -> Turn:
        """Take the next turn to send (to an address at `domain`), or learn how
        long until there is one.

        Account emails may use the whole daily limit, notifications all of it
        but the reserve. Without a rate, daily or domain limit only a cool-down
        or a switch of relays can say otherwise: that is asked of Redis every
        QUIET_CHECK seconds, not before each email.
        """
        domain = domain.lower()
        domain_interval = self.domain_intervals.get(domain, 0.0)
        now = time.monotonic()
        unlimited = not self.interval and not self.daily and not domain_interval
        paused = self.paused_domains.get(domain, 0.0) > now
        if unlimited and now < self.quiet_until and not paused:
            return Turn(relay=self.quiet_relay)
        daily = self.daily if account_email else self.daily - self.reserve
        turn = self._ask_for_turn(daily, domain, domain_interval)
        if turn.cause == "domain":
            self.paused_domains[domain] = now + turn.wait
        if unlimited and turn.granted and turn.relay != "probe":
            self.quiet_until, self.quiet_relay = now + QUIET_CHECK, turn.relay
        return turn

    def _ask_for_turn(self, daily: int, domain: str, domain_interval: float) -> Turn:
        keys = [
            RATE_KEY,
            DAY_KEY,
            COOLDOWN_KEY,
            FALLBACK_COOLDOWN_KEY,
            DOWN_KEY,
            DOWN_LEVEL_KEY,
            PROBE_KEY,
            *domain_keys(domain)[:2],
        ]
        args: list[float | str] = [
            self.interval,
            daily,
            uuid.uuid4().hex,
            domain_interval,
            int(self.fallback),
            probe_lease_ms(),
        ]
        verdict, wait, relay = self._take_turn(keys=keys, args=args)
        cause, relay = text(verdict), text(relay) or "primary"
        if cause == "go":
            return Turn(relay=relay)
        return Turn(max(float(wait), 0.001), cause, relay=relay)

    def provider_busy(self, relay: str = "primary") -> float:
        """The provider (of this relay) refused for a reason of its own: pause
        every send by it; return how long the pause lasts."""
        return self.busy(relay)[0]

    def busy(self, relay: str = "primary") -> tuple[float, int]:
        """provider_busy, and how many times in a row the relay has refused."""
        keys = (
            [FALLBACK_COOLDOWN_KEY, FALLBACK_LEVEL_KEY]
            if relay == "fallback"
            else [COOLDOWN_KEY, LEVEL_KEY]
        )
        self.quiet_until = 0.0
        return self._cool_down(keys)

    def domain_busy(self, domain: str) -> float:
        """The recipient's domain refused for now: pause sending to it alone."""
        domain = domain.lower()
        pause = self._cool_down(list(domain_keys(domain)[1:]))[0]
        self.paused_domains[domain] = time.monotonic() + pause
        return pause

    def _cool_down(self, keys: list[str]) -> tuple[float, int]:
        base = settings.NOTIFICATIONS_PROVIDER_COOLDOWN
        cap = settings.NOTIFICATIONS_PROVIDER_COOLDOWN_MAX
        try:
            pause, level = self._provider_busy(keys=keys, args=[base, cap])
        except redis.RedisError:
            # Unshared, the pause still holds this run's rows back.
            logger.warning("The cool-down could not be written to Redis")
            return float(base), 1
        return float(pause), int(level)

    def primary_down(self, at_least: float = 0.0) -> float:
        """The primary relay cannot be reached, or keeps answering busy: the
        fallback carries every worker's mail until a probe finds it back.
        Returns the seconds until that probe."""
        base = settings.NOTIFICATIONS_FAILOVER_PROBE
        cap = settings.NOTIFICATIONS_FAILOVER_PROBE_MAX
        self.quiet_until = 0.0
        keys = [DOWN_KEY, DOWN_LEVEL_KEY, PROBE_KEY]
        try:
            return float(self._primary_down(keys=keys, args=[base, cap, at_least]))
        except redis.RedisError:
            logger.warning("The switch to the fallback could not be shared in Redis")
            return 0.0

    def primary_back(self) -> None:
        """A probe went through the primary: every worker returns to it."""
        self.quiet_until = 0.0
        try:
            self.client.delete(DOWN_KEY, DOWN_LEVEL_KEY, PROBE_KEY)
        except redis.RedisError:  # the probe's lease runs out; another tries
            logger.warning("The primary's return could not be shared in Redis")


def domain_keys(domain: str) -> tuple[str, str, str]:
    """The domain's next turn, cool-down end and cool-down level."""
    prefix = f"{PREFIX}domain:{domain}:"
    return f"{prefix}next-turn", f"{prefix}cooldown-until", f"{prefix}cooldown-level"


def probe_lease_ms() -> int:
    """How long one probe of the primary may take before another process may
    try: a connection, TLS, AUTH and one message, each within EMAIL_TIMEOUT."""
    return int(max(settings.EMAIL_TIMEOUT * 4, 5) * 1000)


def shared_pace() -> Pace:
    """The pace every worker process shares, from settings."""
    daily = settings.EMAIL_DAILY_LIMIT
    share = settings.EMAIL_DAILY_ACCOUNT_RESERVE / 100
    reserve = math.ceil(daily * share) if daily else 0
    return Pace(
        redis_client(),
        rate=settings.EMAIL_RATE_LIMIT,
        daily=daily,
        reserve=reserve,
        domain_rates=settings.EMAIL_DOMAIN_RATE_LIMITS,
        fallback=bool(settings.EMAIL_FALLBACK_HOST),
    )
