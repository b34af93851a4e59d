"""The Delivery rows a phase made, read back from the product's outbox table.

Needs Django set up; the model is imported inside each function.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bench.data import commit_tasks
from bench.inbox import Key, markers
from bench.stats import percentile

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from notifications.models import Delivery
    from tasks.models import Project
    from users.models import User


def last_delivery_id() -> int:
    from notifications.models import Delivery

    latest = Delivery.objects.order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def commit_tracked(
    project: Project, prefix: str, tasks: int, people: Sequence[User]
) -> tuple[set[Key], range]:
    """Commit a burst of tasks; return its email keys and its Delivery id range."""
    first = last_delivery_id() + 1
    expected = commit_tasks(project, markers(prefix, tasks), people).expected
    return expected, range(first, last_delivery_id() + 1)


def rows_in(ids: range, *statuses: str) -> QuerySet[Delivery]:
    """The Delivery rows of this id range, in these statuses (all when none)."""
    from notifications.models import Delivery

    rows = Delivery.objects.filter(id__gte=ids.start, id__lt=ids.stop)
    return rows.filter(status__in=statuses) if statuses else rows


def count_rows(ids: range, *statuses: str) -> int:
    return rows_in(ids, *statuses).count()


def ids_in(ids: range, *statuses: str) -> set[int]:
    return set(rows_in(ids, *statuses).values_list("pk", flat=True))


def sent_attempts(ids: range) -> Counter[int]:
    """Sent rows by the number of attempts they spent."""
    return Counter(rows_in(ids, "sent").values_list("attempts", flat=True))


def delivery_phases(after_id: int, committed_at: float) -> dict[str, float]:
    """Median seconds from commit to claim and from claim to sent.

    claimed_at is the last claim (a retry claims again); a burst has no retries.
    """
    from notifications.models import Delivery

    rows = Delivery.objects.filter(id__gt=after_id).values_list("claimed_at", "sent_at")
    waits = [c.timestamp() - committed_at for c, _ in rows if c]
    sends = [(s - c).total_seconds() for c, s in rows if c and s]
    return {"queued": percentile(waits, 50), "sending": percentile(sends, 50)}
