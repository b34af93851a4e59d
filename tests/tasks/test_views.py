"""The task and project pages as managers and employees use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from tasks.models import Project, Task, TaskDetail
from tests.factories import (
    EmployeeFactory,
    ProjectFactory,
    TaskDetailFactory,
    TaskFactory,
    UserFactory,
)
from users.models import User

pytestmark = pytest.mark.django_db


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def messages_of(response: Any) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def as_manager(manager: User) -> Client:
    return signed_in(manager)


@pytest.fixture
def as_employee(employee: User) -> Client:
    return signed_in(employee)


# Dashboards -----------------------------------------------------------------


def test_managers_land_on_a_dashboard_with_counts(as_manager: Client) -> None:
    TaskFactory.create_batch(2, status=Task.Status.PENDING)
    TaskFactory(status=Task.Status.IN_PROGRESS)
    TaskFactory(status=Task.Status.COMPLETED)

    response = as_manager.get("/")

    assert response.status_code == 200
    assert "Team dashboard" in response.text
    assert response.context["counts"] == {
        "total": 4,
        "pending": 2,
        "in_progress": 1,
        "completed": 1,
    }


def test_the_manager_dashboard_filters_by_status(as_manager: Client) -> None:
    TaskFactory(title="Waiting", status=Task.Status.PENDING)
    TaskFactory(title="Underway", status=Task.Status.IN_PROGRESS)

    response = as_manager.get("/", {"status": "IN_PROGRESS"})

    assert "Underway" in response.text
    assert "Waiting" not in response.text
    assert response.context["counts"]["total"] == 2


def test_employees_land_on_their_own_tasks(as_employee: Client, employee: User) -> None:
    TaskFactory(title="Mine", assigned_to=[employee], status=Task.Status.PENDING)
    TaskFactory(title="Someone else's", assigned_to=[EmployeeFactory()])

    response = as_employee.get("/")

    assert response.status_code == 200
    assert "My tasks" in response.text
    assert "Mine" in response.text
    assert "Someone else" not in response.text
    assert response.context["counts"]["total"] == 1


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith(reverse("users:sign-in"))


# Task list --------------------------------------------------------------------


def test_the_task_list_searches_titles(as_manager: Client) -> None:
    TaskFactory(title="Fix the printer")
    TaskFactory(title="Order coffee")

    response = as_manager.get("/tasks/", {"q": "printer"})

    assert "Fix the printer" in response.text
    assert "Order coffee" not in response.text


def test_the_task_list_is_paginated(as_manager: Client) -> None:
    TaskFactory.create_batch(25)

    first = as_manager.get("/tasks/")
    second = as_manager.get("/tasks/", {"page": 2})
    nonsense = as_manager.get("/tasks/", {"page": "last-ish"})

    assert len(first.context["page_obj"]) == 20
    assert len(second.context["page_obj"]) == 5
    assert "Page 2 of 2" in second.text
    assert nonsense.status_code == 200


def test_pagination_links_keep_the_filters(as_manager: Client) -> None:
    TaskFactory.create_batch(21, status=Task.Status.PENDING)

    response = as_manager.get("/tasks/", {"status": "PENDING"})

    assert "?status=PENDING&amp;page=2" in response.text


def test_employees_list_only_their_tasks(as_employee: Client, employee: User) -> None:
    TaskFactory(title="Mine", assigned_to=[employee])
    TaskFactory(title="Not mine")

    response = as_employee.get("/")

    assert [task.title for task in response.context["page_obj"]] == ["Mine"]


def test_employees_have_one_list_my_tasks_on_the_home_page(
    as_employee: Client,
) -> None:
    response = as_employee.get("/tasks/", {"status": "PENDING"})

    assert response.status_code == 302
    assert response["Location"] == "/?status=PENDING"
    home = as_employee.get("/")
    assert "My tasks" in home.text
    assert "Dashboard" not in home.text


# Detail ---------------------------------------------------------------------------


def test_the_detail_page_shows_the_task_and_its_detail(as_manager: Client) -> None:
    ann = EmployeeFactory(first_name="Ann", last_name="Lee")
    detail = TaskDetailFactory(
        task__title="Paint the fence", priority="H", notes="Use the blue paint"
    )
    detail.task.assigned_to.add(ann)

    response = as_manager.get(detail.task.get_absolute_url())

    assert response.status_code == 200
    for text in ("Paint the fence", "High priority", "Use the blue paint", "Ann Lee"):
        assert text in response.text
    assert reverse("tasks:edit", args=[detail.task.pk]) in response.text


def test_employees_see_their_task_without_manager_actions(
    as_employee: Client, employee: User
) -> None:
    task = TaskFactory(assigned_to=[employee])

    response = as_employee.get(task.get_absolute_url())

    assert response.status_code == 200
    assert reverse("tasks:edit", args=[task.pk]) not in response.text
    assert reverse("tasks:status", args=[task.pk]) in response.text


def test_a_missing_task_is_not_found(as_manager: Client) -> None:
    assert as_manager.get("/tasks/424242/").status_code == 404


# Create, edit, delete ----------------------------------------------------------------


def test_a_manager_creates_a_task_and_is_told(as_manager: Client) -> None:
    project = ProjectFactory()
    ann, bob = EmployeeFactory.create_batch(2)
    data = {
        "title": "Ship it",
        "description": "",
        "due_date": "2031-01-02",
        "project": project.pk,
        "status": "PENDING",
        "assigned_to": [ann.pk, bob.pk],
        "priority": "M",
        "notes": "",
    }

    response = as_manager.post("/tasks/create/", data)

    task = Task.objects.get(title="Ship it")
    assert response.status_code == 302
    assert response.url == task.get_absolute_url()
    assert set(task.assigned_to.all()) == {ann, bob}
    assert TaskDetail.objects.filter(task=task, priority="M").exists()
    assert messages_of(response) == ["Task “Ship it” created."]


def test_the_create_form_lists_only_active_people(as_manager: Client) -> None:
    ProjectFactory()
    EmployeeFactory(username="present")
    UserFactory(username="departed", is_active=False)

    response = as_manager.get("/tasks/create/")

    assert response.status_code == 200
    assert "present" in response.text
    assert "departed" not in response.text


def test_an_invalid_task_form_shows_errors_and_saves_nothing(
    as_manager: Client,
) -> None:
    response = as_manager.post("/tasks/create/", {"title": ""})

    assert response.status_code == 200
    assert not Task.objects.exists()
    assert "This field is required." in response.text
    # One summary that takes the focus and links to each field, no flash on top.
    assert 'id="error-summary"' in response.text
    assert 'href="#id_title"' in response.text
    assert messages_of(response) == []


def test_the_create_form_can_preselect_a_project(as_manager: Client) -> None:
    project = ProjectFactory()

    response = as_manager.get("/tasks/create/", {"project": project.pk})

    assert response.context["form"]["project"].value() == str(project.pk)


def test_a_manager_edits_a_task(as_manager: Client) -> None:
    detail = TaskDetailFactory(priority="L")
    task = detail.task
    data = {
        "title": "New title",
        "description": "",
        "due_date": task.due_date.isoformat(),
        "project": task.project.pk,
        "status": "IN_PROGRESS",
        "assigned_to": [],
        "priority": "H",
        "notes": "urgent now",
    }

    response = as_manager.post(f"/tasks/{task.pk}/edit/", data)

    task.refresh_from_db()
    detail.refresh_from_db()
    assert response.status_code == 302
    assert (task.title, task.status, detail.priority) == (
        "New title",
        "IN_PROGRESS",
        "H",
    )
    assert messages_of(response) == ["Task “New title” saved."]


def test_the_edit_form_is_filled_in(as_manager: Client) -> None:
    detail = TaskDetailFactory(task__title="Keep me", notes="my notes")

    response = as_manager.get(f"/tasks/{detail.task.pk}/edit/")

    assert 'value="Keep me"' in response.text
    assert "my notes" in response.text


def test_deleting_asks_first_then_deletes_on_post(as_manager: Client) -> None:
    detail = TaskDetailFactory(task__title="Doomed")
    url = f"/tasks/{detail.task.pk}/delete/"

    confirm = as_manager.get(url)
    assert confirm.status_code == 200
    assert "Delete this task?" in confirm.text
    assert Task.objects.exists()

    response = as_manager.post(url)

    assert response.status_code == 302
    assert response.url == reverse("tasks:list")
    assert not Task.objects.exists()
    assert not TaskDetail.objects.exists()
    assert messages_of(response) == ["Task “Doomed” deleted."]


# Status ---------------------------------------------------------------------------


def test_an_assignee_changes_the_status(as_employee: Client, employee: User) -> None:
    task = TaskFactory(title="Mop", assigned_to=[employee])

    response = as_employee.post(f"/tasks/{task.pk}/status/", {"status": "COMPLETED"})

    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert task.completed_at is not None
    assert response.url == task.get_absolute_url()
    assert messages_of(response) == ["“Mop” is now completed."]


def test_a_status_change_returns_to_a_local_next_page_only(
    as_employee: Client, employee: User
) -> None:
    task = TaskFactory(assigned_to=[employee])
    url = f"/tasks/{task.pk}/status/"

    local = as_employee.post(url, {"status": "IN_PROGRESS", "next": "/?status=PENDING"})
    evil = as_employee.post(url, {"status": "PENDING", "next": "https://evil.example/"})

    assert local.url == "/?status=PENDING"
    assert evil.url == task.get_absolute_url()


def test_an_unknown_status_is_refused_with_a_message(
    as_employee: Client, employee: User
) -> None:
    task = TaskFactory(assigned_to=[employee])

    response = as_employee.post(f"/tasks/{task.pk}/status/", {"status": "LOST"})

    task.refresh_from_db()
    assert task.status == Task.Status.PENDING
    assert messages_of(response) == ["Choose one of the listed statuses."]


def test_the_same_status_again_says_nothing_changed(
    as_employee: Client, employee: User
) -> None:
    task = TaskFactory(title="Mop", assigned_to=[employee])

    response = as_employee.post(f"/tasks/{task.pk}/status/", {"status": "PENDING"})

    assert messages_of(response) == ["“Mop” was already Pending."]


# Projects ---------------------------------------------------------------------------


def test_a_manager_creates_a_project(as_manager: Client) -> None:
    data = {"name": "Apollo", "description": "Moon", "start_date": "2030-07-16"}

    response = as_manager.post("/tasks/projects/create/", data)

    assert response.url == reverse("tasks:project-list")
    assert Project.objects.get().name == "Apollo"
    assert messages_of(response) == ["Project “Apollo” created."]


def test_the_project_list_counts_open_tasks(as_manager: Client) -> None:
    project = ProjectFactory(name="Apollo")
    TaskFactory.create_batch(2, project=project)
    TaskFactory(project=project, status=Task.Status.COMPLETED)

    response = as_manager.get("/tasks/projects/")

    row = response.context["page_obj"][0]
    assert (row.task_count, row.open_count) == (3, 2)
    assert "2 open" in response.text


def test_a_manager_renames_a_project(as_manager: Client) -> None:
    project = ProjectFactory(name="Old")
    data = {"name": "New", "description": "", "start_date": "2030-01-01"}

    response = as_manager.post(f"/tasks/projects/{project.pk}/edit/", data)

    project.refresh_from_db()
    assert project.name == "New"
    assert messages_of(response) == ["Project “New” saved."]


def test_deleting_a_project_deletes_its_tasks_and_details(as_manager: Client) -> None:
    detail = TaskDetailFactory(task__project__name="Gone")
    url = f"/tasks/projects/{detail.task.project.pk}/delete/"

    assert "1 task" in as_manager.get(url).text
    response = as_manager.post(url)

    assert not Project.objects.exists()
    assert not TaskDetail.objects.exists()
    assert messages_of(response) == ["Project “Gone” and its tasks deleted."]
