from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import TaskDetailFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_admin(client: Client) -> Client:
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_admin_lists_tasks_with_priority_and_assignees(as_admin: Client) -> None:
    detail = TaskDetailFactory(task__title="Admin visible", priority="H")
    detail.task.assigned_to.add(UserFactory(first_name="Ann", last_name="Lee"))

    response = as_admin.get("/admin/tasks/task/")

    assert response.status_code == 200
    assert "Admin visible" in response.text
    assert "Ann Lee" in response.text


def test_the_admin_task_page_edits_the_detail_inline(as_admin: Client) -> None:
    detail = TaskDetailFactory(notes="inline notes")

    response = as_admin.get(f"/admin/tasks/task/{detail.task.pk}/change/")

    assert response.status_code == 200
    assert "inline notes" in response.text


def test_the_admin_lists_projects(as_admin: Client) -> None:
    detail = TaskDetailFactory(task__project__name="Admin project")

    response = as_admin.get("/admin/tasks/project/")

    assert response.status_code == 200
    assert "Admin project" in response.text
    assert detail.task.project.name in response.text
