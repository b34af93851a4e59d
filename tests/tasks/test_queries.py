"""List pages cost the same number of queries for 1 task as for 50."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tasks.activity import add_comment
from tasks.models import Task
from tests.factories import EmployeeFactory, TaskDetailFactory
from users.models import User

pytestmark = pytest.mark.django_db


def make_tasks(count: int, people: list[User]) -> None:
    for detail in TaskDetailFactory.create_batch(count):
        detail.task.assigned_to.add(*people)


def queries_for(client: Client, url: str) -> list[str]:
    client.get(url)  # warm caches (session, content types) outside the count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/tasks/",
        "/tasks/?q=Task&status=PENDING",
        "/?sort=-priority&priority=M&assignee=none",
        "/tasks/?sort=status&project=1",
    ],
)
def test_manager_lists_do_not_grow_with_the_task_count(
    client: Client, manager: User, url: str
) -> None:
    people = EmployeeFactory.create_batch(2)
    client.force_login(manager)
    make_tasks(1, people)
    one = queries_for(client, url)

    make_tasks(49, people)
    fifty = queries_for(client, url)

    assert Task.objects.count() == 50
    assert len(fifty) == len(one), "\n".join(fifty)


@pytest.mark.parametrize("url", ["/", "/?sort=-title&priority=M&q=Task"])
def test_employee_lists_do_not_grow_with_the_task_count(
    client: Client, employee: User, url: str
) -> None:
    people = [employee, EmployeeFactory()]
    client.force_login(employee)
    make_tasks(1, people)
    one = queries_for(client, url)

    make_tasks(49, people)
    fifty = queries_for(client, url)

    assert len(fifty) == len(one), "\n".join(fifty)


def test_the_project_list_does_not_grow_with_the_project_count(
    client: Client, manager: User
) -> None:
    client.force_login(manager)
    make_tasks(1, [])
    one = queries_for(client, "/tasks/projects/")

    make_tasks(49, [])
    fifty = queries_for(client, "/tasks/projects/")

    assert len(fifty) == len(one), "\n".join(fifty)


def make_conversation(task: Task, people: list[User], rounds: int) -> None:
    """Each person comments, is removed and assigned again, `rounds` times."""
    for _ in range(rounds):
        for person in people:
            add_comment(task, person, f"Update from {person}")
            task.assigned_to.remove(person)
            task.assigned_to.add(person)
        task.status = Task.Status.IN_PROGRESS
        task.save()
        task.status = Task.Status.PENDING
        task.save()


def test_a_task_page_does_not_grow_with_its_comments_and_history(
    client: Client, manager: User
) -> None:
    task = TaskDetailFactory().task
    client.force_login(manager)
    make_conversation(task, EmployeeFactory.create_batch(1), rounds=1)
    one = queries_for(client, task.get_absolute_url())

    make_conversation(task, EmployeeFactory.create_batch(5), rounds=6)
    many = queries_for(client, task.get_absolute_url())

    assert task.comments.count() == 31
    assert task.activity.count() > 100
    assert len(many) == len(one), "\n".join(many)
