"""Who is told of an event on a task (notifications/audience.py), as recorded:
one row per person and event, for the strongest reason, only people who may
see the task, never the person who acted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from notifications.levels import set_default, set_level
from notifications.models import Delivery, NotificationLevel
from tasks.activity import add_comment
from tasks.models import Project, Task
from tasks.watching import unwatch, watch
from tests.factories import ManagerFactory, ProjectFactory, TaskFactory, UserFactory
from users.actor import acting_as
from users.models import Role, User

pytestmark = pytest.mark.django_db
Kind, Reason, Level = Delivery.Kind, Delivery.Reason, NotificationLevel.Level


@contextmanager
def acting(user: User) -> Iterator[None]:
    request = RequestFactory().post("/")
    request.user = user
    with acting_as(request):
        yield


def employee(**fields: object) -> User:
    return UserFactory(role=Role.EMPLOYEE, **fields)


def told(kind: str | None = None) -> dict[int, str]:
    """recipient id -> reason, of the rows of this kind (or of any)."""
    rows = (
        Delivery.objects.all() if kind is None else Delivery.objects.filter(kind=kind)
    )
    pairs = list(rows.values_list("recipient_id", "reason"))
    assert len(pairs) == len({uid for uid, _ in pairs}), "someone told twice"
    return dict(pairs)


def task_with_people() -> tuple[Task, User, User, User]:
    """A task Mia created and assigned to Ann; Bob (a Manager) watches it."""
    mia, ann, bob = ManagerFactory(), employee(), ManagerFactory()
    with acting(mia):
        task = TaskFactory(assigned_to=[ann])
    watch(task, [bob.pk])
    Delivery.objects.all().delete()
    return task, mia, ann, bob


class TestFollowers:
    def test_a_comment_tells_creator_assignee_and_watcher_each_for_their_part(
        self,
    ) -> None:
        task, mia, ann, bob = task_with_people()
        carl = ManagerFactory()
        add_comment(task, carl, "Looks done to me.")
        assert told(Kind.TASK_COMMENTED) == {
            mia.pk: Reason.CREATED,
            ann.pk: Reason.ASSIGNED,
            bob.pk: Reason.WATCHING,
        }

    def test_someone_who_stopped_watching_is_not_told_even_as_creator(self) -> None:
        task, mia, ann, bob = task_with_people()
        unwatch(task, mia)
        with acting(bob):
            task.status = Task.Status.IN_PROGRESS
            task.save()
        assert told(Kind.STATUS_CHANGED) == {ann.pk: Reason.ASSIGNED}

    def test_a_follower_who_can_no_longer_see_the_task_is_not_told(self) -> None:
        task, mia, ann, bob = task_with_people()
        add_comment(task, ann, "I will do it.")  # Ann watches now too
        with acting(mia):
            task.assigned_to.remove(ann)
        Delivery.objects.all().delete()
        with acting(mia):
            task.due_date = task.due_date.replace(year=2031)
            task.save()
        assert told(Kind.DUE_DATE_CHANGED) == {bob.pk: Reason.WATCHING}

    def test_the_person_removed_is_told_though_they_no_longer_see_it(self) -> None:
        task, mia, ann, _ = task_with_people()
        with acting(mia):
            task.assigned_to.remove(ann)
        assert told() == {ann.pk: Reason.ASSIGNED}
        assert Delivery.objects.get().kind == Kind.TASK_UNASSIGNED

    def test_deleting_tells_every_follower_with_the_assignees_named(self) -> None:
        task, mia, ann, bob = task_with_people()
        with acting(ManagerFactory()):
            task.delete()
        assert told(Kind.TASK_DELETED) == {
            mia.pk: Reason.CREATED,
            ann.pk: Reason.ASSIGNED,
            bob.pk: Reason.WATCHING,
        }


class TestMentions:
    def test_a_mention_reaches_a_non_assignee_once_who_then_watches(self) -> None:
        task, mia, ann, bob = task_with_people()
        dana = ManagerFactory(username="dana")
        add_comment(task, ann, "@dana can you check? @dana please.")
        assert Delivery.objects.filter(recipient=dana).count() == 1
        assert told(Kind.MENTIONED) == {dana.pk: Reason.MENTIONED}
        assert told(Kind.TASK_COMMENTED) == {
            mia.pk: Reason.CREATED,
            bob.pk: Reason.WATCHING,
        }
        Delivery.objects.all().delete()
        add_comment(task, mia, "Thanks.")  # Dana watches the task now
        assert told(Kind.TASK_COMMENTED)[dana.pk] == Reason.WATCHING

    def test_creator_assignee_watcher_and_mentioned_get_one_email_per_event(
        self,
    ) -> None:
        everything = ManagerFactory(username="eve")
        with acting(everything):
            task = TaskFactory(assigned_to=[everything])
        watch(task, [everything.pk])
        writer = ManagerFactory()
        add_comment(task, writer, "@eve over to you.")
        add_comment(task, writer, "And one more thing.")
        with acting(writer):
            task.status = Task.Status.COMPLETED
            task.save()
        rows = Delivery.objects.filter(recipient=everything).order_by("pk")
        assert [(row.kind, row.reason) for row in rows] == [
            (Kind.MENTIONED, Reason.MENTIONED),
            (Kind.TASK_COMMENTED, Reason.ASSIGNED),
            (Kind.TASK_COMPLETED, Reason.ASSIGNED),
        ]

    def test_a_mention_of_someone_who_cannot_see_the_task_notifies_nobody(
        self,
    ) -> None:
        task, _, ann, _ = task_with_people()
        zoe = employee(username="zoe")
        comment = add_comment(task, ann, "@zoe have a look")
        assert not Delivery.objects.filter(recipient=zoe).exists()
        assert list(comment.mentioned.all()) == []


class TestProjectWatchers:
    def test_a_new_tasks_email_names_its_project_however_the_task_was_made(
        self,
    ) -> None:
        carl, project = ManagerFactory(), ProjectFactory(name="Harbour refit")
        set_level(carl, project, Level.WATCHING)
        Task.objects.create(project=project, title="With its project read")
        Task.objects.create(project=Project(pk=project.pk), title="By its id only")
        told_of = Delivery.objects.filter(kind=Kind.TASK_CREATED)
        assert sorted(row.context["project"] for row in told_of) == [
            "Harbour refit",
            "Harbour refit",
        ]

    def test_a_task_made_by_its_only_follower_is_not_read_again(self) -> None:
        """The request that made it holds the task and its project, and its
        creator is the one who acted: neither is asked of the database."""
        mia, project = ManagerFactory(), ProjectFactory()
        with acting(mia), CaptureQueriesContext(connection) as made:
            Task.objects.create(project=project, title="Kick-off")
        asked = [query["sql"] for query in made.captured_queries]
        assert not [sql for sql in asked if '"tasks_project"' in sql]
        assert not [sql for sql in asked if '"users_user_groups"' in sql]
        assert told() == {}

    def test_watching_a_project_tells_of_its_new_tasks_and_their_changes(
        self,
    ) -> None:
        carl, mia = ManagerFactory(), ManagerFactory()
        project = ProjectFactory()
        set_level(carl, project, Level.WATCHING)
        with acting(mia):
            task = TaskFactory(project=project)
        assert told(Kind.TASK_CREATED) == {carl.pk: Reason.MANAGER}
        add_comment(task, mia, "Kick-off on Monday.")
        assert told(Kind.TASK_COMMENTED) == {carl.pk: Reason.MANAGER}

    def test_a_default_of_watching_counts_for_projects_not_chosen_otherwise(
        self,
    ) -> None:
        carl, quiet = ManagerFactory(), ProjectFactory()
        set_default(carl, Level.WATCHING)
        set_level(carl, quiet, Level.PARTICIPATING)
        TaskFactory(project=quiet)
        TaskFactory()
        assert Delivery.objects.filter(recipient=carl).count() == 1

    def test_an_employee_watching_a_project_hears_only_of_tasks_they_see(
        self,
    ) -> None:
        ann, project = employee(), ProjectFactory()
        set_level(ann, project, Level.WATCHING)
        TaskFactory(project=project)
        assert not Delivery.objects.exists()

    def test_stopping_watching_one_task_wins_over_watching_its_project(
        self,
    ) -> None:
        carl, project = ManagerFactory(), ProjectFactory()
        set_level(carl, project, Level.WATCHING)
        task = TaskFactory(project=project)
        unwatch(task, carl)
        Delivery.objects.all().delete()
        add_comment(task, ManagerFactory(), "Anyone?")
        assert told() == {}


def test_the_actor_is_never_told_whatever_their_parts() -> None:
    mia = ManagerFactory()
    set_default(mia, Level.WATCHING)
    with acting(mia):
        task = TaskFactory(assigned_to=[mia])
    watch(task, [mia.pk])
    add_comment(task, mia, f"@{mia.username} note to self")
    with acting(mia):
        task.status = Task.Status.COMPLETED
        task.save()
    assert not Delivery.objects.exists()
