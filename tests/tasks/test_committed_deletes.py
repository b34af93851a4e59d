"""Domain receivers, committed for real: the database checks the deferred foreign
key from TaskDetail to Task at commit, so an orphaned detail would fail here on
PostgreSQL and SQLite.

(A module of its own: its tests flush the database, and a module's tests run
together; see tests/conftest.py.)"""

from __future__ import annotations

import pytest

from tasks.models import Task, TaskDetail
from tests.factories import TaskDetailFactory

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_committed_task_delete_leaves_no_orphan_detail() -> None:
    detail = TaskDetailFactory()

    detail.task.delete()

    assert not TaskDetail.objects.exists()


def test_a_committed_queryset_delete_leaves_no_orphan_detail() -> None:
    TaskDetailFactory.create_batch(3)

    _, per_model = Task.objects.all().delete()

    assert per_model["tasks.Task"] == 3
    assert not TaskDetail.objects.exists()
