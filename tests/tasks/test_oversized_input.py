"""Numbers and strings past what the database takes answer a form error, never 500.

On SQLite an id beyond 64 bits raised OverflowError and a 50,000-character search
"LIKE or GLOB pattern too complex": both were 500s.
"""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.forms import SEARCH_MAX_LENGTH
from tasks.models import Task
from tests.factories import ProjectFactory, TaskFactory
from users.models import User

pytestmark = pytest.mark.django_db
BEYOND_64_BITS = str(2**70)


@pytest.fixture
def as_manager(manager: User) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(manager)
    return client


def task_fields(**overrides: object) -> dict[str, object]:
    fields = {
        "title": "Harmless", "project": ProjectFactory().pk, "status": "PENDING",
        "priority": "M", "due_date": "2031-01-15",
    }  # fmt: skip
    return {**fields, **overrides}


@pytest.mark.parametrize("assignee", [BEYOND_64_BITS, f"-{BEYOND_64_BITS}"])
def test_an_assignee_id_beyond_64_bits_is_a_form_error(
    as_manager: Client, assignee: str
) -> None:
    response = as_manager.post("/tasks/create/", task_fields(assigned_to=[assignee]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Task.objects.exists()


def test_editing_with_an_oversized_assignee_is_a_form_error(as_manager: Client) -> None:
    task = TaskFactory(title="Before")
    response = as_manager.post(
        f"/tasks/{task.pk}/edit/", task_fields(assigned_to=[BEYOND_64_BITS])
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.title == "Before"


def test_an_oversized_project_id_is_a_form_error(as_manager: Client) -> None:
    response = as_manager.post("/tasks/create/", task_fields(project=BEYOND_64_BITS))
    assert response.status_code == 200
    assert not Task.objects.exists()


def test_a_50000_character_search_is_a_form_error(as_manager: Client) -> None:
    TaskFactory(title="Still listed")
    response = as_manager.get("/tasks/", {"q": "x" * 50_000})
    assert response.status_code == 200
    assert f"at most {SEARCH_MAX_LENGTH} characters" in response.text
    assert "Still listed" in response.text


def test_an_oversized_task_id_in_the_address_is_not_found(as_manager: Client) -> None:
    assert as_manager.get(f"/tasks/{BEYOND_64_BITS}/").status_code == 404
