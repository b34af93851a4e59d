"""The board: a person's tasks and a project's, in columns by status; a card
moves to another column by a POST of its "Move to" form (what a drop submits),
answered through htmx with the board, or with a redirect back without it."""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.models import Task
from tests.factories import (
    EmployeeFactory,
    ManagerFactory,
    ProjectFactory,
    TaskFactory,
    fresh,
)
from users.models import User

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def column_of(page: str, title: str) -> str:
    """The status of the column whose section holds the card titled so."""
    before = page[: page.index(f">{title}</a>")]
    return before[before.rindex('data-column="') :].split('"')[1]


def test_my_board_shows_my_tasks_in_their_columns(
    client: Client, employee: User
) -> None:
    TaskFactory(title="Sand", assigned_to=[employee])
    TaskFactory(title="Paint", assigned_to=[employee], status=Task.Status.IN_PROGRESS)
    TaskFactory(title="Not mine")
    client.force_login(employee)
    page = client.get("/tasks/board/").content.decode()
    assert column_of(page, "Sand") == "PENDING"
    assert column_of(page, "Paint") == "IN_PROGRESS"
    assert "Not mine" not in page


def test_moving_a_card_through_htmx_answers_with_the_board(
    client: Client, employee: User
) -> None:
    task = TaskFactory(title="Sand", assigned_to=[employee])
    client.force_login(employee)
    response = client.post(
        f"/tasks/{task.pk}/move/",
        {"status": "COMPLETED", "next": "/tasks/board/"},
        **HTMX,
    )
    page = response.content.decode()
    assert fresh(task).status == Task.Status.COMPLETED
    assert column_of(page, "Sand") == "COMPLETED"
    assert "“Sand” moved to Completed." in page
    assert 'hx-swap-oob="innerHTML"' in page


def test_without_javascript_the_move_comes_back_to_the_board(
    client: Client, manager: User
) -> None:
    project = ProjectFactory()
    task = TaskFactory(project=project)
    client.force_login(manager)
    board = f"/tasks/projects/{project.pk}/board/"
    response = client.post(
        f"/tasks/{task.pk}/move/", {"status": "IN_PROGRESS", "next": board}
    )
    assert response.status_code == 302 and response["Location"] == board
    assert fresh(task).status == Task.Status.IN_PROGRESS


def test_a_member_reads_the_project_board_but_moves_only_their_cards(
    client: Client,
) -> None:
    project = ProjectFactory()
    member = EmployeeFactory()
    project.members.add(member)
    theirs = TaskFactory(project=project, title="Theirs", assigned_to=[member])
    other = TaskFactory(project=project, title="Someone else's")
    client.force_login(member)
    page = client.get(f"/tasks/projects/{project.pk}/board/").content.decode()
    assert "Theirs" in page and "Someone else" in page
    assert f'id="move-{theirs.pk}"' in page and f'id="move-{other.pk}"' not in page
    response = client.post(f"/tasks/{other.pk}/move/", {"status": "COMPLETED"})
    assert response.status_code == 403
    assert fresh(other).status == Task.Status.PENDING


def test_an_outsider_is_refused_the_project_board(client: Client) -> None:
    project = ProjectFactory()
    TaskFactory(project=project)
    client.force_login(EmployeeFactory())
    assert client.get(f"/tasks/projects/{project.pk}/board/").status_code == 403


def test_an_unknown_status_moves_nothing(client: Client) -> None:
    task = TaskFactory()
    client.force_login(ManagerFactory())
    response = client.post(f"/tasks/{task.pk}/move/", {"status": "DONE"}, follow=True)
    assert "Choose one of the board&#x27;s columns." in response.content.decode()
    assert fresh(task).status == Task.Status.PENDING
