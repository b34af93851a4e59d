"""The broker behind Redis Sentinel: a real primary, replica and Sentinel, a real
worker, and the primary killed while people keep working. Jobs keep flowing once
the Sentinel has promoted the replica, and every email arrives exactly once
(what the dying primary had not passed on, the outbox sweep publishes again)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
import redis
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import start_worker
from devtools.redis_server import EmbeddedRedis, EmbeddedSentinel
from devtools.smtp import SMTPServer, free_port
from notifications.models import Delivery
from tests.factories import TaskFactory, UserFactory
from tests.support.broker import point_publisher_at
from tests.support.mail import outbox_settled
from tests.support.processes import LOG_DIR
from tests.support.waiting import wait_until
from users.models import Role
from worker.jobs import sweep_outbox

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]
MASTER = "mymaster"


class Cluster:
    """A primary, its replica, and a Sentinel watching them, on loopback."""

    def __init__(self) -> None:
        self.primary = EmbeddedRedis(free_port()).start()
        self.replica = EmbeddedRedis(free_port(), replica_of=self.primary.port).start()
        wait_until(self.replica_in_sync, 15, "the replica catches up")
        self.sentinel = EmbeddedSentinel(free_port(), self.primary.port, MASTER).start()
        wait_until(self.sentinel_sees_replica, 15, "the Sentinel finds the replica")

    def replica_in_sync(self) -> bool:
        info = redis.Redis(port=self.replica.port).info("replication")
        return info.get("master_link_status") == "up"

    def sentinel_client(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel.port, decode_responses=True)

    def sentinel_sees_replica(self) -> bool:
        return bool(self.sentinel_client().sentinel_slaves(MASTER))

    def primary_port(self) -> int:
        _, port = self.sentinel_client().sentinel_get_master_addr_by_name(MASTER)
        return int(port)

    def stop(self) -> None:
        self.sentinel.stop()
        self.replica.stop()
        self.primary.stop()


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    running = Cluster()
    yield running
    running.stop()


def test_jobs_keep_flowing_after_the_primary_dies(
    cluster: Cluster, worker_env: dict[str, str], smtp_server: SMTPServer,
    settings: DjangoSettings, broker_url: str,
) -> None:  # fmt: skip
    url = cluster.sentinel.url
    settings.CELERY_BROKER_URL, settings.REDIS_SENTINEL_MASTER = url, MASTER
    settings.NOTIFICATIONS_SWEEP_GRACE = 1
    env = {**worker_env, "CELERY_BROKER_URL": url, "REDIS_SENTINEL_MASTER": MASTER}
    point_publisher_at(url)
    worker = start_worker(env, LOG_DIR, name="sentinel-worker")
    people = UserFactory.create_batch(20, role=Role.EMPLOYEE)
    try:
        for number, person in enumerate(people[:8]):
            TaskFactory(title=f"Before {number}", assigned_to=[person])
        smtp_server.wait_for(8, timeout=30)
        cluster.primary.kill()
        for number, person in enumerate(people[8:]):  # people keep working
            TaskFactory(title=f"During {number}", assigned_to=[person])
        wait_until(lambda: cluster.primary_port() == cluster.replica.port, 30,
                   "the Sentinel promotes the replica")  # fmt: skip
        wait_until(lambda: swept_and_all_arrived(smtp_server, 20), 90,
                   "every email arrives", interval=0.2)  # fmt: skip
        # Anything extra (a duplicate) would have turned up once nothing is left.
        wait_until(outbox_settled, 30, "every delivery sent")
    finally:
        worker.stop()
        point_publisher_at(broker_url)
    copies = Counter(m.rcpt_tos[0] for m in smtp_server.received)
    assert copies == Counter({person.email: 1 for person in people})
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}


def swept_and_all_arrived(smtp: SMTPServer, count: int) -> bool:
    """The beat sweep's work, done here every time we look."""
    if len(smtp.received) >= count:
        return True
    sweep_outbox.apply()
    return False
