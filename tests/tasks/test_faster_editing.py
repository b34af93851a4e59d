"""Faster editing from the list: Managers change a status, a due date and the
assignees from any row, a due date is optional and one in the past is kept
with a warning, and the list has Today, Upcoming and Overdue views."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import Client

from tasks.models import Activity, Task
from tests.factories import ProjectFactory, TaskFactory, fresh
from users.models import User

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2030, 5, 15)
HTMX = {"HTTP_HX_REQUEST": "true"}


def days(count: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=count)


def test_a_manager_changes_a_status_from_any_row(client: Client, manager: User) -> None:
    task = TaskFactory(title="Paint")
    client.force_login(manager)
    assert f'id="status-{task.pk}"' in client.get("/tasks/").content.decode()
    client.post(f"/tasks/{task.pk}/status/", {"status": "IN_PROGRESS"})
    assert fresh(task).status == Task.Status.IN_PROGRESS


def test_a_task_may_have_no_due_date_and_sorts_last(
    client: Client, manager: User
) -> None:
    project = ProjectFactory()
    client.force_login(manager)
    response = client.post(
        "/tasks/create/",
        {
            "title": "Someday",
            "project": project.pk,
            "status": "PENDING",
            "priority": "M",
        },
    )
    assert response.status_code == 302
    assert Task.objects.get(title="Someday").due_date is None
    TaskFactory(title="Soon", project=project)
    page = client.get("/tasks/").content.decode()
    assert page.index(">Soon<") < page.index(">Someday<")
    assert "no due date" in page


@time_machine.travel(datetime.datetime(2030, 5, 15, 12, tzinfo=datetime.UTC))
def test_a_due_date_in_the_past_is_kept_with_a_warning(
    client: Client, manager: User
) -> None:
    project = ProjectFactory()
    client.force_login(manager)
    response = client.post(
        "/tasks/create/",
        {
            "title": "Late",
            "project": project.pk,
            "status": "PENDING",
            "priority": "M",
            "due_date": "2030-05-01",
        },
        follow=True,
    )
    assert Task.objects.get(title="Late").due_date == datetime.date(2030, 5, 1)
    assert "is in the past: “Late” is overdue." in response.content.decode()


def test_removing_a_due_date_is_history_not_an_error(manager: User) -> None:
    task = TaskFactory(due_date=days(3))
    task.due_date = None
    task.save()
    entry = task.activity.get(verb=Activity.Verb.DUE_DATE)
    assert entry.after == "" and entry.sentence.endswith("to no date")


@time_machine.travel(datetime.datetime(2030, 5, 15, 12, tzinfo=datetime.UTC))
@pytest.mark.parametrize(
    ("when", "listed"),
    [
        ("today", {"Today"}),
        ("upcoming", {"Tomorrow", "Next week"}),
        ("overdue", {"Late"}),
        ("none", {"Someday"}),
    ],
)
def test_today_upcoming_and_overdue_list_the_open_tasks_due_then(
    client: Client, manager: User, when: str, listed: set[str]
) -> None:
    for title, due in (
        ("Today", days(0)),
        ("Tomorrow", days(1)),
        ("Next week", days(7)),
        ("Later", days(8)),
        ("Late", days(-2)),
        ("Someday", None),
    ):
        TaskFactory(title=title, due_date=due)
    TaskFactory(title="Done late", due_date=days(-2), status=Task.Status.COMPLETED)
    client.force_login(manager)
    response = client.get(f"/tasks/?when={when}")
    shown = {task.title for task in response.context["page_obj"]}
    assert shown == listed
    assert 'aria-current="true">' in response.content.decode()


def test_a_manager_changes_the_status_and_assignee_of_many_tasks_at_once(
    client: Client, manager: User, employee: User
) -> None:
    chosen = TaskFactory.create_batch(3)
    other = TaskFactory()
    client.force_login(manager)
    assert 'form="bulk-form"' in client.get("/tasks/").content.decode()
    response = client.post(
        "/tasks/bulk/",
        {
            "tasks": [t.pk for t in chosen],
            "status": "COMPLETED",
            "assignee": employee.pk,
            "next": "/tasks/",
        },
        follow=True,
    )
    assert "3 tasks changed." in response.content.decode()
    for task in chosen:
        assert fresh(task).status == Task.Status.COMPLETED
        assert list(task.assigned_to.all()) == [employee]
        assert task.activity.filter(verb=Activity.Verb.STATUS).exists()
    assert fresh(other).status == Task.Status.PENDING


def test_employees_cannot_change_many_tasks(client: Client, employee: User) -> None:
    task = TaskFactory(assigned_to=[employee])
    client.force_login(employee)
    response = client.post("/tasks/bulk/", {"tasks": [task.pk], "status": "COMPLETED"})
    assert response.status_code == 403
    assert fresh(task).status == Task.Status.PENDING


def test_a_manager_sets_the_due_date_and_the_assignees_from_the_task_page(
    client: Client, manager: User, employee: User
) -> None:
    task = TaskFactory(title="Paint", due_date=days(3))
    client.force_login(manager)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Due date" in page and "Assign someone" in page
    client.post(f"/tasks/{task.pk}/due-date/", {"due_date": ""})
    assert fresh(task).due_date is None
    client.post(f"/tasks/{task.pk}/assign/", {"person": employee.pk})
    assert list(task.assigned_to.all()) == [employee]
    client.post(f"/tasks/{task.pk}/assign/", {"person": employee.pk, "remove": "1"})
    assert not task.assigned_to.exists()


def test_a_member_reads_the_status_without_a_control_to_change_it(
    client: Client, employee: User
) -> None:
    task = TaskFactory()
    task.project.members.add(employee)
    client.force_login(employee)
    page = client.get(f"/tasks/{task.pk}/").content.decode()
    assert "Its assignees change it." in page
    assert f'action="/tasks/{task.pk}/status/"' not in page
    assert (
        client.post(f"/tasks/{task.pk}/due-date/", {"due_date": ""}).status_code == 403
    )


def test_a_manager_sets_a_rows_due_date_in_place(client: Client, manager: User) -> None:
    task = TaskFactory(title="Paint", due_date=days(3))
    client.force_login(manager)
    listed = client.get("/tasks/").text
    assert f'action="/tasks/{task.pk}/due-date/"' in listed
    response = client.post(
        f"/tasks/{task.pk}/due-date/",
        {"due_date": "2031-01-02", "next": "/tasks/?sort=title"},
        **HTMX,
    )
    assert response.status_code == 200
    row = response.text
    assert f'<tr id="task-row-{task.pk}"' in row
    # The row comes back with its edit form open, showing the new date.
    assert 'data-testid="row-edit" open' in row
    assert 'value="2031-01-02"' in row
    assert "Due date of “Paint”: Thu 2 Jan 2031." in row
    assert fresh(task).due_date == datetime.date(2031, 1, 2)


def test_a_manager_assigns_and_unassigns_from_a_row_in_place(
    client: Client, manager: User, employee: User
) -> None:
    task = TaskFactory(title="Paint")
    client.force_login(manager)
    added = client.post(
        f"/tasks/{task.pk}/assign/",
        {"person": employee.pk, "next": "/tasks/"},
        **HTMX,
    ).text
    assert list(task.assigned_to.all()) == [employee]
    assert f"{employee} is assigned to “Paint”." in added
    assert f'id="unassign-{task.pk}-{employee.pk}"' in added
    removed = client.post(
        f"/tasks/{task.pk}/assign/",
        {"person": employee.pk, "remove": "1", "next": "/tasks/"},
        **HTMX,
    ).text
    assert not task.assigned_to.exists()
    assert 'data-testid="unassigned"' in removed
    # Whoever was removed is offered again.
    assert f'<option value="{employee.pk}">' in removed


def test_without_javascript_a_rows_edits_come_back_to_the_list(
    client: Client, manager: User, employee: User
) -> None:
    task = TaskFactory()
    client.force_login(manager)
    response = client.post(
        f"/tasks/{task.pk}/assign/", {"person": employee.pk, "next": "/?sort=title"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/?sort=title"
    response = client.post(
        f"/tasks/{task.pk}/due-date/", {"due_date": "", "next": "/?sort=title"}
    )
    assert response["Location"] == "/?sort=title"
    assert fresh(task).due_date is None


def test_an_assignee_changes_a_rows_status_but_not_its_date_or_people(
    client: Client, employee: User
) -> None:
    task = TaskFactory(assigned_to=[employee], due_date=days(3))
    client.force_login(employee)
    listed = client.get("/").text
    assert f'id="status-{task.pk}"' in listed
    assert 'data-testid="row-edit"' not in listed
    for url, data in (
        (f"/tasks/{task.pk}/due-date/", {"due_date": ""}),
        (f"/tasks/{task.pk}/assign/", {"person": employee.pk, "remove": "1"}),
    ):
        assert client.post(url, data, **HTMX).status_code == 403
    assert fresh(task).due_date == days(3)
    assert list(task.assigned_to.all()) == [employee]
