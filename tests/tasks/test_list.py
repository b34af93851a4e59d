"""The task list: sorting, filters the count cards follow, markers, inline status."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tasks.models import Task
from tests.factories import (
    EmployeeFactory,
    ProjectFactory,
    TaskDetailFactory,
    TaskFactory,
)
from users.models import User

pytestmark = pytest.mark.django_db
TOO_BIG_ID = "9" * 25  # beyond 64 bits
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_manager(client: Client, manager: User) -> Client:
    client.force_login(manager)
    return client


def titles(response: Any) -> list[str]:
    return [task.title for task in response.context["page_obj"]]


def task(title: str, **fields: Any) -> Task:
    priority = fields.pop("priority", "M")
    return TaskDetailFactory(task__title=title, priority=priority, **fields).task


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


# Sorting ----------------------------------------------------------------------


@pytest.fixture
def three_tasks() -> None:
    task("Bravo", priority="L", task__due_date=in_days(2), task__status="COMPLETED")
    task("Alpha", priority="H", task__due_date=in_days(3), task__status="PENDING")
    task("Charlie", priority="M", task__due_date=in_days(1), task__status="IN_PROGRESS")


@pytest.mark.usefixtures("three_tasks")
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["Charlie", "Bravo", "Alpha"]),  # due date, soonest first
        ("-due", ["Alpha", "Bravo", "Charlie"]),
        ("title", ["Alpha", "Bravo", "Charlie"]),
        ("-title", ["Charlie", "Bravo", "Alpha"]),
        ("priority", ["Alpha", "Charlie", "Bravo"]),  # high, medium, low
        ("-priority", ["Bravo", "Charlie", "Alpha"]),
        ("status", ["Alpha", "Charlie", "Bravo"]),  # pending, in progress, done
        ("-status", ["Bravo", "Charlie", "Alpha"]),
    ],
)
def test_the_list_sorts_by_each_column(
    as_manager: Client, sort: str, expected: list[str]
) -> None:
    assert titles(as_manager.get("/tasks/", {"sort": sort})) == expected


def test_the_list_sorts_by_project_name(as_manager: Client) -> None:
    task("In Zulu", task__project=ProjectFactory(name="Zulu"))
    task("In Alpha", task__project=ProjectFactory(name="Alpha"))

    assert titles(as_manager.get("/tasks/", {"sort": "project"})) == [
        "In Alpha",
        "In Zulu",
    ]


@pytest.mark.usefixtures("three_tasks")
def test_a_column_header_sorts_by_it_then_the_other_way(as_manager: Client) -> None:
    unsorted = as_manager.get("/tasks/").text
    assert 'href="?sort=title"' in unsorted

    ascending = as_manager.get("/tasks/", {"sort": "title", "status": "PENDING"})
    assert 'aria-sort="ascending"' in ascending.text
    assert 'href="?sort=-title&amp;status=PENDING"' in ascending.text


def test_an_unknown_sort_falls_back_to_the_due_date(as_manager: Client) -> None:
    task("Later", task__due_date=in_days(5))
    task("Sooner", task__due_date=in_days(1))

    response = as_manager.get("/tasks/", {"sort": "password"})

    assert response.status_code == 200
    assert titles(response) == ["Sooner", "Later"]


# Filters and the count cards --------------------------------------------------------


def test_managers_filter_by_assignee_and_the_counts_follow(as_manager: Client) -> None:
    ann, bob = EmployeeFactory(), EmployeeFactory()
    TaskFactory(title="Ann's open", assigned_to=[ann], status="PENDING")
    TaskFactory(title="Ann's done", assigned_to=[ann], status="COMPLETED")
    TaskFactory(title="Bob's", assigned_to=[bob], status="PENDING")

    response = as_manager.get("/", {"assignee": ann.pk})

    assert set(titles(response)) == {"Ann's open", "Ann's done"}
    assert response.context["counts"] == {
        "total": 2,
        "pending": 1,
        "in_progress": 0,
        "completed": 1,
    }


def test_the_count_cards_keep_the_other_filters_and_ignore_their_own(
    as_manager: Client,
) -> None:
    ann = EmployeeFactory()
    TaskFactory(assigned_to=[ann], status="PENDING")
    TaskFactory(assigned_to=[ann], status="COMPLETED")

    response = as_manager.get("/", {"assignee": ann.pk, "status": "COMPLETED"})

    assert len(titles(response)) == 1
    assert response.context["counts"]["total"] == 2  # every status of Ann's tasks
    assert f'href="/?assignee={ann.pk}&amp;status=PENDING"' in response.text


def test_unassigned_tasks_can_be_listed_and_are_marked(as_manager: Client) -> None:
    TaskFactory(title="Nobody's", assigned_to=[])
    TaskFactory(title="Taken", assigned_to=[EmployeeFactory()])

    response = as_manager.get("/tasks/", {"assignee": "none"})

    assert titles(response) == ["Nobody's"]
    assert 'data-testid="unassigned"' in response.text


def test_the_list_filters_by_priority(as_manager: Client) -> None:
    task("Urgent", priority="H")
    task("Someday", priority="L")

    assert titles(as_manager.get("/tasks/", {"priority": "H"})) == ["Urgent"]


def test_completed_tasks_read_as_done(as_manager: Client) -> None:
    done = TaskFactory(title="Shipped", status="COMPLETED")
    TaskFactory(title="Open")

    page = as_manager.get("/tasks/").text

    row = page[page.index(f'id="task-row-{done.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "line-through" in row
    assert "(done)" in row


def test_employees_filter_only_by_what_they_can_see(
    client: Client, employee: User
) -> None:
    client.force_login(employee)
    TaskFactory(title="Mine", assigned_to=[employee])

    response = client.get("/")

    assert "assignee" not in response.context["filter_form"].fields
    assert titles(response) == ["Mine"]


# Oversized input: a form error or a 400, never a 500 -----------------------------


def test_a_50000_character_search_is_a_form_error(as_manager: Client) -> None:
    TaskFactory(title="Still listed")

    response = as_manager.get("/tasks/", {"q": "x" * 50_000})

    assert response.status_code == 200
    assert "Ensure this value has at most 200 characters" in response.text
    assert titles(response) == ["Still listed"]


@pytest.mark.parametrize("field", ["assignee", "project", "status", "priority"])
def test_unknown_or_huge_filter_values_are_ignored_with_a_note(
    as_manager: Client, field: str
) -> None:
    TaskFactory(title="Still listed")

    response = as_manager.get("/", {field: TOO_BIG_ID})

    assert response.status_code == 200
    assert titles(response) == ["Still listed"]
    assert f'id="id_{field}_error"' in response.text


def test_an_assignee_id_beyond_64_bits_is_a_form_error(as_manager: Client) -> None:
    project = ProjectFactory()
    data = {
        "title": "T",
        "due_date": "2031-01-01",
        "project": project.pk,
        "status": "PENDING",
        "priority": "M",
        "assigned_to": [TOO_BIG_ID],
    }

    response = as_manager.post("/tasks/create/", data)

    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    assert not Task.objects.exists()


def test_a_task_id_beyond_64_bits_is_not_found(as_manager: Client) -> None:
    assert as_manager.get(f"/tasks/{TOO_BIG_ID}/").status_code == 404


# Inline status change (htmx) ----------------------------------------------------


def test_an_htmx_status_change_answers_the_row_counts_and_message(
    client: Client, employee: User
) -> None:
    client.force_login(employee)
    mine = TaskFactory(title="Mine", assigned_to=[employee], status="PENDING")
    TaskFactory(title="Also mine", assigned_to=[employee], status="PENDING")

    response = client.post(
        f"/tasks/{mine.pk}/status/",
        {"status": "COMPLETED", "next": "/?sort=title"},
        **HTMX,
    )

    assert response.status_code == 200
    text = response.text
    assert f'<tr id="task-row-{mine.pk}"' in text
    assert "line-through" in text
    assert 'id="messages" hx-swap-oob="innerHTML"' in text
    assert "“Mine” is now completed." in text
    assert 'id="status-counts"' in text
    assert 'hx-swap-oob="true"' in text
    # The counts are those of the list the change came from.
    assert 'href="/?sort=title&amp;status=COMPLETED"' in text
    mine.refresh_from_db()
    assert mine.status == Task.Status.COMPLETED


def test_from_the_managers_full_list_the_answer_swaps_no_count_cards(
    as_manager: Client,
) -> None:
    """That list has none: an out-of-band swap with no target is an error."""
    task = TaskFactory(status="PENDING")
    response = as_manager.post(
        f"/tasks/{task.pk}/status/", {"status": "COMPLETED", "next": "/tasks/"}, **HTMX
    )
    assert f'id="task-row-{task.pk}"' in response.text
    assert 'id="status-counts"' not in response.text
    # The row swapped in can still be ticked for a change of many tasks.
    assert f'id="select-{task.pk}"' in response.text


def test_without_javascript_the_status_form_still_posts_and_returns(
    client: Client, employee: User
) -> None:
    client.force_login(employee)
    mine = TaskFactory(assigned_to=[employee], status="PENDING")

    response = client.post(
        f"/tasks/{mine.pk}/status/", {"status": "IN_PROGRESS", "next": "/?sort=title"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/?sort=title"


def test_an_htmx_status_change_on_someone_elses_task_is_refused(
    client: Client, employee: User
) -> None:
    client.force_login(employee)
    other = TaskFactory(assigned_to=[EmployeeFactory()], status="PENDING")

    response = client.post(
        f"/tasks/{other.pk}/status/", {"status": "COMPLETED"}, **HTMX
    )

    assert response.status_code == 403
    other.refresh_from_db()
    assert other.status == Task.Status.PENDING
