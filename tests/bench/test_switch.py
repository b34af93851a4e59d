"""bench/switch.py: the "notifications off" baseline records no email at all,
and everything is heard again afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.switch import notifications_off
from notifications.levels import set_level
from notifications.models import Delivery, NotificationLevel
from tests.factories import EmployeeFactory, ManagerFactory, ProjectFactory, TaskFactory

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_while_off_a_new_task_tells_neither_its_assignees_nor_the_watchers() -> None:
    project, watcher = ProjectFactory(), ManagerFactory()
    set_level(watcher, project, NotificationLevel.Level.WATCHING)
    assignees = EmployeeFactory.create_batch(2)

    with notifications_off():
        TaskFactory(project=project, assigned_to=assignees)
    assert not Delivery.objects.exists()

    TaskFactory(project=project, assigned_to=assignees)
    told = Delivery.objects.values_list("kind", "recipient")
    assert sorted(told) == sorted(
        [(Delivery.Kind.TASK_CREATED, watcher.pk)]
        + [(Delivery.Kind.TASK_ASSIGNED, person.pk) for person in assignees]
    )


def test_gunicorn_loads_the_baseline_before_django_is_set_up() -> None:
    """bench.quiet:application is what gunicorn imports, Django not set up yet."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"}
    loaded = subprocess.run(
        [sys.executable, "-c", "import bench.quiet"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
