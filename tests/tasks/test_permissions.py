"""Managers manage; employees see their tasks and change only their status."""

from __future__ import annotations

import random

import pytest
from django.test import Client
from django.urls import reverse

from tasks.models import Project, Task
from tasks.permissions import can_view_task, people_who_can_see, visible_tasks
from tests.factories import TaskFactory
from users.models import User

pytestmark = pytest.mark.django_db

MANAGER_PAGES = [
    ("get", "/tasks/create/"),
    ("post", "/tasks/create/"),
    ("get", "/tasks/{task}/edit/"),
    ("post", "/tasks/{task}/edit/"),
    ("get", "/tasks/{task}/delete/"),
    ("post", "/tasks/{task}/delete/"),
    ("get", "/tasks/projects/create/"),
    ("post", "/tasks/projects/create/"),
    ("get", "/tasks/projects/{project}/edit/"),
    ("post", "/tasks/projects/{project}/edit/"),
    ("get", "/tasks/projects/{project}/delete/"),
    ("post", "/tasks/projects/{project}/delete/"),
]
SIGNED_IN_PAGES = [
    ("get", "/"),
    ("get", "/tasks/"),
    ("get", "/tasks/{task}/"),
    ("post", "/tasks/{task}/status/"),
    ("get", "/tasks/projects/"),
]


def fill(url: str, task: Task) -> str:
    return url.format(task=task.pk, project=task.project_id)


@pytest.mark.parametrize(("method", "url"), MANAGER_PAGES)
def test_employees_get_403_on_manager_pages_even_for_their_own_task(
    client: Client, employee: User, method: str, url: str
) -> None:
    task = TaskFactory(assigned_to=[employee], title="Untouched")
    client.force_login(employee)

    response = getattr(client, method)(fill(url, task), {"title": "Hacked"})

    assert response.status_code == 403
    assert Task.objects.filter(title="Untouched").exists()
    assert Project.objects.count() == 1


@pytest.mark.parametrize(("method", "url"), MANAGER_PAGES + SIGNED_IN_PAGES)
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, method: str, url: str
) -> None:
    task = TaskFactory()

    response = getattr(client, method)(fill(url, task))

    assert response.status_code == 302
    assert response.url.startswith(reverse("users:sign-in") + "?next=")
    assert Task.objects.exists()


def test_employees_cannot_open_a_task_not_assigned_to_them(
    client: Client, employee: User
) -> None:
    task = TaskFactory()
    client.force_login(employee)

    assert client.get(task.get_absolute_url()).status_code == 403


def test_employees_cannot_change_the_status_of_others_tasks(
    client: Client, employee: User
) -> None:
    task = TaskFactory(status=Task.Status.PENDING)
    client.force_login(employee)

    response = client.post(f"/tasks/{task.pk}/status/", {"status": "COMPLETED"})

    task.refresh_from_db()
    assert response.status_code == 403
    assert task.status == Task.Status.PENDING


def test_the_403_page_explains_itself(client: Client, employee: User) -> None:
    client.force_login(employee)

    response = client.get("/tasks/create/")

    assert "Only Managers and Admins can do this." in response.text


def test_the_status_change_is_post_only(client: Client, employee: User) -> None:
    task = TaskFactory(assigned_to=[employee])
    client.force_login(employee)

    assert client.get(f"/tasks/{task.pk}/status/").status_code == 405


@pytest.mark.parametrize("role", ["Admin", "Manager"])
def test_admins_and_managers_may_manage(client: Client, role: str) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory(role=role))

    assert client.get("/tasks/create/").status_code == 200
    assert client.get("/tasks/projects/").status_code == 200


def test_superusers_may_manage_without_a_group(client: Client) -> None:
    from tests.factories import UserFactory

    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    assert client.get("/tasks/create/").status_code == 200


def test_the_batch_rule_agrees_with_the_rule_for_one_person_and_one_task() -> None:
    """people_who_can_see (the audience, mentions, the worker) says what
    can_view_task and visible_tasks say, for every pair of a seeded world."""
    from tests.factories import UserFactory

    rng = random.Random(21)
    people = [
        UserFactory(role=rng.choice(["Admin", "Manager", "Employee", None]))
        for _ in range(8)
    ]
    people.append(UserFactory(role="Manager", is_active=False))
    tasks = TaskFactory.create_batch(6)
    for task in tasks:
        task.assigned_to.add(*rng.sample(people, k=rng.randint(0, 3)))
    expected = {
        (task.pk, person.pk)
        for task in tasks
        for person in people
        if person.is_active
        and can_view_task(person, task, is_manager=person.is_manager)
        and visible_tasks(person, is_manager=person.is_manager)
        .filter(pk=task.pk)
        .exists()
    }
    found = people_who_can_see([t.pk for t in tasks], [p.pk for p in people])
    assert found == expected
    assert 0 < len(found) < len(tasks) * len(people)
