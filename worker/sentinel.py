"""kombu's Redis Sentinel transport, made to survive a failover.

When the primary dies with jobs in flight, kombu closes the consumer's channel
and forgets its connection. Two later steps still reach for that connection and
fail with an AttributeError nobody catches, and the worker stops consuming for
good (seen in tests/e2e/test_sentinel.py): putting the unacknowledged messages
back while the channel closes, and acknowledging a job that finished after it.
Here both fail as what they are, a lost connection, which Celery logs and gets
over. The messages left unacknowledged stay in Redis's unacked set, which the
visibility timeout empties; the outbox sweep publishes their rows again long
before, and the claim makes sure nothing is sent twice.
"""

from __future__ import annotations

from typing import Any

import redis
from kombu.transport import redis as kombu_redis


class SentinelChannel(kombu_redis.SentinelChannel):
    # kombu's _connparams is not in its type stubs.
    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection is None or self.connection.client is None:
            raise redis.ConnectionError("the channel's connection is gone (failover)")
        params: dict[str, Any] = super()._connparams(asynchronous)  # type: ignore[misc]
        return params

    def close(self) -> None:
        if not self.closed:
            try:
                self.qos.restore_unacked_once()
            except redis.RedisError:
                # kombu's own restore, next, insists they are gone from here.
                if self.qos._delivered is not None:
                    self.qos._delivered.clear()
        super().close()


class Transport(kombu_redis.SentinelTransport):
    Channel = SentinelChannel
