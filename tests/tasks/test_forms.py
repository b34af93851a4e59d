from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import pytest
from django.db.models.signals import m2m_changed

from tasks.forms import ProjectForm, TaskFilterForm, TaskForm, TaskStatusForm
from tasks.listing import matching
from tasks.models import Project, Task, TaskDetail
from tests.factories import (
    EmployeeFactory,
    ProjectFactory,
    TaskDetailFactory,
    TaskFactory,
)
from users.models import User

pytestmark = pytest.mark.django_db


def task_data(where: Project, *people: User, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": "Write the report",
        "description": "Quarterly numbers",
        "due_date": "2031-05-17",
        "project": str(where.pk),
        "status": "PENDING",
        "assigned_to": [str(person.pk) for person in people],
        "priority": "H",
        "notes": "Ask finance first",
    }
    return {**data, **overrides}


@pytest.fixture
def added_user_ids() -> Iterator[list[set[int]]]:
    """The pk_set of every post_add on Task.assigned_to while the test runs."""
    seen: list[set[int]] = []

    def record(action: str, pk_set: set[int], **kwargs: Any) -> None:
        if action == "post_add":
            seen.append(set(pk_set))

    m2m_changed.connect(record, sender=Task.assigned_to.through, weak=False)
    yield seen
    m2m_changed.disconnect(record, sender=Task.assigned_to.through)


def test_one_form_creates_the_task_its_detail_and_assignees() -> None:
    project = ProjectFactory()
    ann, bob = EmployeeFactory.create_batch(2)

    form = TaskForm(task_data(project, ann, bob))
    assert form.is_valid(), form.errors
    task = form.save()

    assert task.title == "Write the report"
    assert task.due_date == datetime.date(2031, 5, 17)
    assert task.project == project
    assert set(task.assigned_to.all()) == {ann, bob}
    assert (task.details.priority, task.details.notes) == ("H", "Ask finance first")


def test_editing_shows_and_updates_the_existing_detail() -> None:
    detail = TaskDetailFactory(priority="L", notes="old notes")
    task = detail.task

    form = TaskForm(instance=task)
    assert form.initial["priority"] == "L"
    assert form.initial["notes"] == "old notes"

    data = task_data(task.project, priority="M", notes="new notes", title="Renamed")
    edit = TaskForm(data, instance=task)
    assert edit.is_valid(), edit.errors
    edit.save()

    detail.refresh_from_db()
    assert (detail.priority, detail.notes) == ("M", "new notes")
    assert TaskDetail.objects.count() == 1


def test_editing_a_task_that_lost_its_detail_creates_one() -> None:
    task = TaskFactory()
    form = TaskForm(task_data(task.project, priority="L"), instance=task)
    assert form.is_valid(), form.errors

    form.save()

    assert TaskDetail.objects.get(task=task).priority == "L"


def test_only_newly_assigned_people_are_announced(
    added_user_ids: list[set[int]],
) -> None:
    ann, bob, cid = EmployeeFactory.create_batch(3)
    task = TaskFactory(assigned_to=[ann, bob])
    added_user_ids.clear()

    form = TaskForm(task_data(task.project, bob, cid), instance=task)
    assert form.is_valid(), form.errors
    form.save()

    assert added_user_ids == [{cid.pk}]
    assert set(task.assigned_to.all()) == {bob, cid}


def test_resaving_the_same_assignees_announces_nobody(
    added_user_ids: list[set[int]],
) -> None:
    ann = EmployeeFactory()
    task = TaskFactory(assigned_to=[ann])
    added_user_ids.clear()

    form = TaskForm(task_data(task.project, ann), instance=task)
    assert form.is_valid(), form.errors
    form.save()

    assert added_user_ids == []


def test_inactive_people_cannot_be_assigned() -> None:
    sleeper = EmployeeFactory(is_active=False)

    form = TaskForm(task_data(ProjectFactory(), sleeper))

    assert not form.is_valid()
    assert "assigned_to" in form.errors
    assert str(sleeper.pk) not in str(form["assigned_to"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "DONE"),
        ("priority", "X"),
        ("due_date", "17/05/2031"),
        ("title", ""),
        ("project", "999999"),
    ],
)
def test_bad_values_are_refused(field: str, value: str) -> None:
    form = TaskForm(task_data(ProjectFactory(), **{field: value}))

    assert not form.is_valid()
    assert field in form.errors


def test_a_failure_saving_the_detail_leaves_no_task(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    form = TaskForm(task_data(ProjectFactory(), EmployeeFactory()))
    assert form.is_valid(), form.errors

    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(TaskDetail.objects, "update_or_create", fail)
    with pytest.raises(RuntimeError):
        form.save()

    assert not Task.objects.exists()


def test_the_status_form_changes_status_and_completion_time_only() -> None:
    task = TaskFactory(title="Original", status=Task.Status.PENDING)

    form = TaskStatusForm({"status": "COMPLETED", "title": "Hacked"}, instance=task)
    assert form.is_valid(), form.errors
    form.save()

    task.refresh_from_db()
    assert task.status == Task.Status.COMPLETED
    assert task.completed_at is not None
    assert task.title == "Original"


def test_a_new_project_starts_today_by_default() -> None:
    form = ProjectForm()

    assert form.initial["start_date"] is not None
    assert 'type="date"' in str(form["start_date"])


def test_the_filter_ignores_invalid_values() -> None:
    TaskFactory.create_batch(2)
    form = TaskFilterForm({"status": "NOPE"}, projects=Project.objects.all())

    assert matching(Task.objects.all(), form.query()).count() == 2


def test_the_filter_combines_status_project_and_search() -> None:
    project = ProjectFactory(name="Apollo")
    wanted = TaskFactory(project=project, title="Launch", status="IN_PROGRESS")
    TaskFactory(project=project, title="Launch party", status="PENDING")
    TaskFactory(title="Launch elsewhere", status="IN_PROGRESS")
    data = {"status": "IN_PROGRESS", "project": str(project.pk), "q": "launch"}

    form = TaskFilterForm(data, projects=Project.objects.all())

    assert list(matching(Task.objects.all(), form.query())) == [wanted]


def test_search_matches_notes_and_project_names() -> None:
    by_notes = TaskDetailFactory(notes="Call the plumber").task
    by_project = TaskFactory(project=ProjectFactory(name="Plumbing"))
    TaskFactory(title="Unrelated")
    form = TaskFilterForm({"q": "plumb"}, projects=Project.objects.all())

    assert set(matching(Task.objects.all(), form.query())) == {by_notes, by_project}


def test_invalid_inputs_are_marked_for_screen_readers_and_styling() -> None:
    form = TaskForm(task_data(ProjectFactory(), title=""))

    assert not form.is_valid()
    assert 'aria-invalid="true"' in str(form["title"])
    # Painted red by the aria-invalid variant of the shared input classes.
    assert "aria-[invalid=true]:border-red-500" in str(form["title"])
    assert "aria-invalid" not in str(form["notes"])
