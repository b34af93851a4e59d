"""The shared pace of sending, kept in Redis so that it holds across every worker
process and host at once:

- our own rate, EMAIL_RATE_LIMIT messages per second (unset: none);
- our own daily limit, EMAIL_DAILY_LIMIT messages per rolling 24 hours (unset:
  none), of which EMAIL_DAILY_ACCOUNT_RESERVE percent only account emails take;
- a cool-down while the provider says it is busy (throttling, quota spent),
  which grows while the provider keeps refusing and falls back once it is quiet.

Every send first takes a turn. One Lua script decides, on Redis's own clock, so
hosts whose clocks disagree still share one pace; waiting for a turn is not a
failure and spends no attempt.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

import redis
from django.conf import settings

from notifications.models import Delivery
from project.redis import redis_client, text

PREFIX = "notifications:pace:"
RATE_KEY, DAY_KEY = f"{PREFIX}next-turn", f"{PREFIX}sent-24h"
COOLDOWN_KEY, LEVEL_KEY = f"{PREFIX}cooldown-until", f"{PREFIX}cooldown-level"
DAY = 86400
# Without limits of our own, a provider's cool-down set by another process is
# noticed within this many seconds.
QUIET_CHECK = 0.25

# KEYS: next turn, sends of the last 24 h, cool-down end
# ARGV: seconds between sends (0: no rate limit), daily limit (0: none), member
# Returns {verdict, seconds to wait}: "go" (the turn is taken and counted),
# "provider", "daily" or "rate".
TAKE_TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval, daily = tonumber(ARGV[1]), tonumber(ARGV[2])
local cool = tonumber(redis.call('GET', KEYS[3]) or '0')
if cool > now then return {'provider', tostring(cool - now)} end
if daily > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 86400)
  if redis.call('ZCARD', KEYS[2]) >= daily then
    local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {'daily', tostring(tonumber(oldest[2]) + 86400 - now)}
  end
end
if interval > 0 then
  local next_turn = tonumber(redis.call('GET', KEYS[1]) or '0')
  if next_turn > now then return {'rate', tostring(next_turn - now)} end
  local ttl = math.ceil(interval * 1000) + 1000
  redis.call('SET', KEYS[1], tostring(math.max(next_turn, now) + interval), 'PX', ttl)
end
if daily > 0 then
  redis.call('ZADD', KEYS[2], now, ARGV[3])
  redis.call('EXPIRE', KEYS[2], 86400 + 3600)
end
return {'go', '0'}
"""

# KEYS: cool-down end, level. ARGV: base seconds, cap seconds.
# A busy reply while a cool-down runs (several processes' sends were in flight
# when it began) joins that cool-down. One after it ended, while the level is
# still remembered, doubles it; the level is forgotten after twice the cool-down
# without another busy reply.
PROVIDER_BUSY = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local base, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current > now then return tostring(current - now) end
local level = redis.call('INCR', KEYS[2])
local pause = math.min(base * 2 ^ (level - 1), cap)
redis.call('EXPIRE', KEYS[2], math.ceil(pause * 2))
redis.call('SET', KEYS[1], tostring(now + pause), 'PX', math.ceil(pause * 1000))
return tostring(pause)
"""


WAIT_REASONS = {
    "provider": "The provider asked us to slow down; sending resumes after a pause",
    "daily": "The daily limit (EMAIL_DAILY_LIMIT) is reached",
    "rate": "Waiting for the send rate (EMAIL_RATE_LIMIT)",
    "unknown": "The pace could not be read from Redis; trying again shortly",
}


@dataclass(frozen=True)
class Turn:
    """Whether to send now, or how long to wait and why."""

    wait: float = 0.0  # 0.0: go, the turn is taken
    cause: str = ""  # a key of WAIT_REASONS while waiting
    detail: str = ""  # the provider's reply, when it is the cause

    @property
    def granted(self) -> bool:
        return self.wait <= 0

    @property
    def waiting_for(self) -> str:
        provider = self.cause == "provider"
        return Delivery.Wait.PROVIDER if provider else Delivery.Wait.PACE

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
    ) -> None:
        self.client = client
        self.interval = 1 / rate if rate else 0.0
        self.daily = daily or 0
        # Sends of the daily limit only account emails may take: notifications
        # stop short of them, so a burst of comments never locks anyone out of
        # their activation or reset email.
        self.reserve = min(reserve, self.daily - 1) if self.daily else 0
        self._take_turn = client.register_script(TAKE_TURN)
        self.quiet_until = 0.0
        self._provider_busy = client.register_script(PROVIDER_BUSY)

    def take_turn(self, account_email: bool = False) -> Turn:
        """Take the next turn to send, or learn how long until there is one.

        Account emails may use the whole daily limit, notifications all of it
        but the reserve. Without a rate or daily limit only a provider's
        cool-down can say wait: that is asked of Redis every QUIET_CHECK
        seconds, not before each email.
        """
        unlimited = not self.interval and not self.daily
        if unlimited and time.monotonic() < self.quiet_until:
            return Turn()
        turn = self._ask_for_turn(
            self.daily if account_email else self.daily - self.reserve
        )
        if unlimited and turn.granted:
            self.quiet_until = time.monotonic() + QUIET_CHECK
        return turn

    def _ask_for_turn(self, daily: int) -> Turn:
        keys = [RATE_KEY, DAY_KEY, COOLDOWN_KEY]
        verdict, wait = self._take_turn(
            keys=keys, args=[self.interval, daily, uuid.uuid4().hex]
        )
        cause = text(verdict)
        if cause == "go":
            return Turn()
        return Turn(max(float(wait), 0.001), cause)

    def provider_busy(self) -> float:
        """The provider refused for a reason of its own: pause everyone; return
        how long the pause lasts."""
        base = settings.NOTIFICATIONS_PROVIDER_COOLDOWN
        cap = settings.NOTIFICATIONS_PROVIDER_COOLDOWN_MAX
        return float(
            self._provider_busy(keys=[COOLDOWN_KEY, LEVEL_KEY], args=[base, cap])
        )


def shared_pace() -> Pace:
    """The pace every worker process shares, from settings."""
    daily = settings.EMAIL_DAILY_LIMIT
    share = settings.EMAIL_DAILY_ACCOUNT_RESERVE / 100
    reserve = math.ceil(daily * share) if daily else 0
    return Pace(
        redis_client(), rate=settings.EMAIL_RATE_LIMIT, daily=daily, reserve=reserve
    )
