"""A task's history: every change, with who made it and when."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client

from tasks.activity import add_comment
from tasks.models import Activity, Task
from tests.factories import EmployeeFactory, ManagerFactory, ProjectFactory, TaskFactory
from users.models import User

pytestmark = pytest.mark.django_db
Verb = Activity.Verb


def history(task: Task) -> list[tuple[str, str | None, str | None, str, str]]:
    rows = Activity.objects.filter(task=task).order_by("pk")
    return [
        (a.verb, a.actor and a.actor.username, a.person and a.person.username,
         a.before, a.after)
        for a in rows.select_related("actor", "person")
    ]  # fmt: skip


def create_through_the_page(client: Client, manager: User, people: list[User]) -> Task:
    client.force_login(manager)
    client.post("/tasks/create/", {
        "title": "Write the report", "description": "", "due_date": "2030-01-10",
        "project": ProjectFactory().pk, "status": "PENDING", "priority": "M",
        "notes": "", "assigned_to": [p.pk for p in people],
    })  # fmt: skip
    return Task.objects.get(title="Write the report")


def test_a_task_made_on_its_page_names_its_creator_and_who_assigned_whom(
    client: Client,
) -> None:
    manager, ann = ManagerFactory(username="boss"), EmployeeFactory(username="ann")
    task = create_through_the_page(client, manager, [ann])
    assert task.created_by == manager
    assert history(task) == [
        (Verb.CREATED, "boss", None, "", ""),
        (Verb.ASSIGNED, "boss", "ann", "", ""),
    ]


def test_status_and_due_date_changes_keep_the_old_and_new_value() -> None:
    task = TaskFactory(due_date=datetime.date(2030, 1, 1))
    task.status = Task.Status.COMPLETED
    task.due_date = datetime.date(2030, 2, 1)
    task.save()
    task.save()  # nothing changed: nothing recorded
    assert history(task)[1:] == [
        (Verb.STATUS, None, None, "PENDING", "COMPLETED"),
        (Verb.DUE_DATE, None, None, "2030-01-01", "2030-02-01"),
    ]


def test_unassigning_from_either_side_or_clearing_is_recorded() -> None:
    ann, bob = EmployeeFactory(username="ann"), EmployeeFactory(username="bob")
    task = TaskFactory(assigned_to=[ann, bob])
    task.assigned_to.remove(ann)
    bob.tasks.remove(task)
    task.assigned_to.add(ann)
    task.assigned_to.clear()
    people = [(verb, person) for verb, _, person, _, _ in history(task)[1:]]
    assert people == [
        (Verb.ASSIGNED, "ann"), (Verb.ASSIGNED, "bob"),
        (Verb.UNASSIGNED, "ann"), (Verb.UNASSIGNED, "bob"),
        (Verb.ASSIGNED, "ann"), (Verb.UNASSIGNED, "ann"),
    ]  # fmt: skip


def test_a_comment_is_part_of_the_history() -> None:
    task, ann = TaskFactory(), EmployeeFactory()
    comment = add_comment(task, ann, "Done by Friday?")
    [entry] = Activity.objects.filter(verb=Verb.COMMENTED)
    assert (entry.task, entry.comment, entry.comment.body) == (
        task, comment, "Done by Friday?"
    )  # fmt: skip
