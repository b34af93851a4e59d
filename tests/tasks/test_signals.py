"""Domain receivers: a task's detail goes with it; completed_at follows status."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from tasks.models import Project, Task, TaskDetail
from tests.factories import ProjectFactory, TaskDetailFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_task_deletes_its_detail() -> None:
    detail = TaskDetailFactory()
    other = TaskDetailFactory()

    detail.task.delete()

    assert not TaskDetail.objects.filter(pk=detail.pk).exists()
    assert TaskDetail.objects.filter(pk=other.pk).exists()


def test_deleting_tasks_through_a_queryset_deletes_their_details() -> None:
    kept = TaskDetailFactory(task__title="keep")
    TaskDetailFactory.create_batch(3, task__title="drop")

    Task.objects.filter(title="drop").delete()

    assert list(TaskDetail.objects.all()) == [kept]


def test_deleting_a_project_deletes_its_tasks_and_their_details() -> None:
    project = ProjectFactory()
    TaskDetailFactory.create_batch(2, task__project=project)
    survivor = TaskDetailFactory()

    Project.objects.filter(pk=project.pk).delete()

    assert list(Task.objects.all()) == [survivor.task]
    assert list(TaskDetail.objects.all()) == [survivor]


def test_a_task_without_detail_deletes_cleanly() -> None:
    task = TaskFactory()

    task.delete()

    assert not Task.objects.exists()


def test_completing_a_task_records_when() -> None:
    task = TaskFactory(status=Task.Status.IN_PROGRESS)
    before = timezone.now()

    task.status = Task.Status.COMPLETED
    task.save()

    task.refresh_from_db()
    assert task.completed_at is not None
    assert before <= task.completed_at <= timezone.now()


def test_saving_a_completed_task_again_keeps_the_completion_time() -> None:
    task = TaskFactory(status=Task.Status.COMPLETED)
    first = task.completed_at

    task.title = "Renamed"
    task.save()

    task.refresh_from_db()
    assert task.completed_at == first


def test_reopening_a_task_clears_the_completion_time() -> None:
    task = TaskFactory(status=Task.Status.COMPLETED)
    assert task.completed_at is not None

    task.status = Task.Status.PENDING
    task.save()

    task.refresh_from_db()
    assert task.completed_at is None


def test_a_pending_task_cannot_carry_a_completion_time() -> None:
    stale = timezone.now() - datetime.timedelta(days=3)
    task = TaskFactory(status=Task.Status.PENDING, completed_at=stale)

    task.refresh_from_db()
    assert task.completed_at is None
