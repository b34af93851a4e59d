"""Project membership: a project's members see all its tasks (Employees
included), comment on them, watch them, can be mentioned and are told of them;
only assignees change a task's status. Managers add and remove members on the
project's page. The one rule lives in tasks.permissions.people_who_can_see."""

from __future__ import annotations

import pytest
from django.test import Client

from notifications.audience import followers
from notifications.levels import set_level
from notifications.models import Delivery, NotificationLevel
from notifications.wishes import CANNOT_SEE, Wishes
from tasks.mentions import mentions_in
from tasks.models import Project, Task
from tasks.permissions import people_who_can_see, visible_tasks
from tests.factories import (
    EmployeeFactory,
    ManagerFactory,
    ProjectFactory,
    TaskFactory,
    fresh,
)
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def project() -> Project:
    return ProjectFactory(name="Harbour")


@pytest.fixture
def member(project: Project) -> User:
    person = EmployeeFactory(username="ann", first_name="Ann", last_name="Lee")
    project.members.add(person)
    return person


@pytest.fixture
def task(project: Project) -> Task:
    return TaskFactory(project=project, title="Paint the hull")


def test_a_member_sees_every_task_of_the_project_and_no_other(
    client: Client, member: User, task: Task
) -> None:
    elsewhere = TaskFactory(title="Elsewhere")
    client.force_login(member)
    page = client.get(f"/tasks/projects/{task.project_id}/").content.decode()
    assert "Paint the hull" in page and "Elsewhere" not in page
    assert client.get(f"/tasks/{task.pk}/").status_code == 200
    assert client.get(f"/tasks/{elsewhere.pk}/").status_code == 403
    assert list(visible_tasks(member, is_manager=False)) == [task]


def test_an_employee_who_is_not_a_member_is_refused_the_project(
    client: Client, task: Task
) -> None:
    outsider = EmployeeFactory()
    client.force_login(outsider)
    assert client.get(f"/tasks/projects/{task.project_id}/").status_code == 403
    assert client.get(f"/tasks/{task.pk}/").status_code == 403
    assert "Harbour" not in client.get("/tasks/projects/").content.decode()


def test_my_tasks_stays_mine_while_the_project_page_lists_them_all(
    client: Client, member: User, task: Task
) -> None:
    TaskFactory(project=task.project, title="Sand the deck", assigned_to=[member])
    client.force_login(member)
    home = client.get("/").content.decode()
    assert "Sand the deck" in home and "Paint the hull" not in home


def test_a_member_comments_but_changes_the_status_only_of_tasks_assigned_to_them(
    client: Client, member: User, task: Task
) -> None:
    client.force_login(member)
    response = client.post(f"/tasks/{task.pk}/comments/", {"body": "On it soon"})
    assert response.status_code == 302
    response = client.post(f"/tasks/{task.pk}/status/", {"status": "COMPLETED"})
    assert response.status_code == 403
    assert fresh(task).status == Task.Status.PENDING
    task.assigned_to.add(member)
    client.post(f"/tasks/{task.pk}/status/", {"status": "COMPLETED"})
    assert fresh(task).status == Task.Status.COMPLETED


def test_members_can_be_mentioned_and_watch_and_outsiders_cannot(
    member: User, task: Task
) -> None:
    outsider = EmployeeFactory(username="otto")
    manager = ManagerFactory()
    found = mentions_in(task, "@ann and @otto", manager)
    assert found.people == [member] and found.refused == ["otto"]
    assert people_who_can_see([task.pk], [member.pk, outsider.pk, manager.pk]) == {
        (task.pk, member.pk),
        (task.pk, manager.pk),
    }


def test_a_member_watching_the_project_hears_of_its_tasks_until_removed(
    member: User, task: Task
) -> None:
    set_level(member, task.project, NotificationLevel.Level.WATCHING)
    assert member.pk in followers(task)
    task.project.members.remove(member)
    assert member.pk not in followers(task)


def test_the_worker_skips_a_member_removed_before_the_send(
    member: User, task: Task
) -> None:
    delivery = Delivery.objects.create(
        kind=Delivery.Kind.TASK_COMMENTED,
        recipient=member,
        event_key="test:member-removed",
        reason=Delivery.Reason.WATCHING,
        context={"task_id": task.pk, "project_id": task.project_id},
    )
    assert Wishes([delivery], {task.pk: task}).why_not(delivery) != CANNOT_SEE
    task.project.members.remove(member)
    assert Wishes([delivery], {task.pk: task}).why_not(delivery) == CANNOT_SEE


def test_a_manager_adds_and_removes_members_on_the_project_page(
    client: Client, project: Project
) -> None:
    person = EmployeeFactory(first_name="Bob", last_name="Stone")
    client.force_login(ManagerFactory())
    page = client.get(f"/tasks/projects/{project.pk}/").content.decode()
    assert "Add a member" in page
    response = client.post(
        f"/tasks/projects/{project.pk}/members/", {"person": person.pk}, follow=True
    )
    assert "Bob Stone is a member of Harbour" in response.content.decode()
    assert list(project.members.all()) == [person]
    client.post(f"/tasks/projects/{project.pk}/members/{person.pk}/remove/")
    assert not project.members.exists()


def test_employees_cannot_change_the_members(
    client: Client, member: User, project: Project
) -> None:
    client.force_login(member)
    other = EmployeeFactory()
    url = f"/tasks/projects/{project.pk}/members/"
    assert client.post(url, {"person": other.pk}).status_code == 403
    remove = f"/tasks/projects/{project.pk}/members/{member.pk}/remove/"
    assert client.post(remove).status_code == 403
    assert list(project.members.all()) == [member]


def test_a_deactivated_member_sees_nothing(member: User, task: Task) -> None:
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert people_who_can_see([task.pk], [member.pk]) == set()


def test_an_employee_assigned_one_task_counts_only_what_they_see(
    client: Client, project: Project
) -> None:
    """Not a member: the projects page counts the one task she has, not the
    project's forty."""
    ann = EmployeeFactory()
    TaskFactory(project=project).assigned_to.add(ann)
    TaskFactory.create_batch(39, project=project)
    client.force_login(ann)
    page = client.get("/tasks/projects/").content.decode()
    assert "1 task<" in page
    assert "40 task" not in page
