"""Decided again at send time (notifications/wishes.py): over real SMTP, the
worker's batch skips what the reader may no longer see or no longer wants, and
says why in the delivery log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from devtools.smtp import SMTPServer
from notifications import mutes
from notifications.levels import set_default, set_level
from notifications.models import Delivery, NotificationLevel
from notifications.sending import send_batch
from notifications.wishes import (
    CANNOT_SEE,
    LEVEL_OFF,
    MENTIONS_ONLY,
    MUTED,
    NOT_ASSIGNED,
    NOT_WATCHING_PROJECT,
    STOPPED_WATCHING,
)
from tasks.activity import add_comment
from tasks.models import Task
from tasks.watching import unwatch, watch
from tests.factories import ManagerFactory, ProjectFactory, TaskFactory, UserFactory
from users.actor import acting_as
from users.models import Role, User

pytestmark = pytest.mark.django_db
Kind, Status, Level = Delivery.Kind, Delivery.Status, NotificationLevel.Level


@contextmanager
def acting(user: User) -> Iterator[None]:
    request = RequestFactory().post("/")
    request.user = user
    with acting_as(request):
        yield


def send_queued() -> None:
    queued = Delivery.objects.filter(status=Status.QUEUED).order_by("pk")
    send_batch(list(queued.values_list("pk", flat=True)))


def received_by(smtp: SMTPServer, user: User) -> list[str]:
    """The first lines of what this person received."""
    mine = [m for m in smtp.received if m.rcpt_tos == [user.email]]
    return [m.body().splitlines()[0] for m in mine]


def skipped_for(user: User) -> list[tuple[str, str]]:
    rows = Delivery.objects.filter(recipient=user, status=Status.SKIPPED)
    return list(rows.order_by("pk").values_list("kind", "last_error"))


class TestAccess:
    def test_an_unassignment_before_the_send_sends_no_assignment_email(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), UserFactory()
        task = TaskFactory()
        with acting(mia):
            task.assigned_to.add(ann)
            task.assigned_to.remove(ann)
        send_queued()
        assert received_by(smtp, ann) == ["Mia M removed you from this task."]
        assert skipped_for(ann) == [(Kind.TASK_ASSIGNED, CANNOT_SEE)]

    def test_a_manager_unassigned_before_the_send_still_sees_it_but_gets_nothing(
        self, smtp: SMTPServer
    ) -> None:
        boss = ManagerFactory()
        task = TaskFactory(assigned_to=[boss])
        task.assigned_to.remove(boss)
        send_queued()
        assert skipped_for(boss) == [(Kind.TASK_ASSIGNED, NOT_ASSIGNED)]

    def test_a_follower_who_lost_access_before_the_send_gets_nothing(
        self, smtp: SMTPServer
    ) -> None:
        ann, mia = UserFactory(role=Role.EMPLOYEE), ManagerFactory()
        task = TaskFactory(assigned_to=[ann])
        send_queued()
        add_comment(task, mia, "Status?")
        with acting(mia):
            task.assigned_to.remove(ann)
        smtp.sink.clear()
        send_queued()
        assert received_by(smtp, ann) == [f"{mia} removed you from this task."]
        assert skipped_for(ann) == [(Kind.TASK_COMMENTED, CANNOT_SEE)]


class TestMute:
    def test_a_muted_task_sends_that_person_nothing_more_but_mentions(
        self, smtp: SMTPServer
    ) -> None:
        ann, mia = UserFactory(username="ann"), ManagerFactory()
        task = TaskFactory(assigned_to=[ann])
        send_queued()
        mutes.mute(ann.pk, task.pk)
        add_comment(task, mia, "First.")
        with acting(mia):
            task.status = Task.Status.IN_PROGRESS
            task.save()
        add_comment(task, mia, "@ann this one is for you.")
        smtp.sink.clear()
        send_queued()
        assert received_by(smtp, ann) == [f"{mia} mentioned you in a comment."]
        assert skipped_for(ann) == [
            (Kind.TASK_COMMENTED, MUTED),
            (Kind.STATUS_CHANGED, MUTED),
        ]

    def test_a_mute_counts_for_emails_recorded_before_it(
        self, smtp: SMTPServer
    ) -> None:
        ann = UserFactory()
        task = TaskFactory(assigned_to=[ann])
        mutes.mute(ann.pk, task.pk)
        send_queued()
        assert smtp.received == []

    def test_other_people_still_hear_of_a_task_someone_muted(
        self, smtp: SMTPServer
    ) -> None:
        ann, bob = UserFactory(), UserFactory()
        task = TaskFactory(assigned_to=[ann, bob])
        mutes.mute(ann.pk, task.pk)
        send_queued()
        assert [m.rcpt_tos for m in smtp.received] == [[bob.email]]


class TestLevels:
    def test_off_for_a_project_sends_nothing_of_it_and_says_so(
        self, smtp: SMTPServer
    ) -> None:
        ann, project = UserFactory(), ProjectFactory()
        set_level(ann, project, Level.OFF)
        TaskFactory(project=project, assigned_to=[ann])
        TaskFactory(assigned_to=[ann])  # another project
        send_queued()
        assert len(received_by(smtp, ann)) == 1
        assert skipped_for(ann) == [(Kind.TASK_ASSIGNED, LEVEL_OFF)]

    def test_mentions_only_lets_mentions_through(self, smtp: SMTPServer) -> None:
        ann, mia = UserFactory(username="ann"), ManagerFactory()
        set_default(ann, Level.MENTIONS)
        task = TaskFactory(assigned_to=[ann])
        add_comment(task, mia, "@ann look")
        add_comment(task, mia, "and this")
        send_queued()
        assert received_by(smtp, ann) == [f"{mia} mentioned you in a comment."]
        assert {why for _, why in skipped_for(ann)} == {MENTIONS_ONLY}

    def test_leaving_watching_before_the_send_drops_the_projects_other_tasks(
        self, smtp: SMTPServer
    ) -> None:
        carl, project = ManagerFactory(), ProjectFactory()
        set_level(carl, project, Level.WATCHING)
        TaskFactory(project=project)
        set_level(carl, project, "")  # back to the default: participating
        send_queued()
        assert skipped_for(carl) == [(Kind.TASK_CREATED, NOT_WATCHING_PROJECT)]
        assert smtp.received == []

    def test_stopping_watching_before_the_send_drops_the_watchers_email(
        self, smtp: SMTPServer
    ) -> None:
        bob, mia = ManagerFactory(), ManagerFactory()
        task = TaskFactory()
        watch(task, [bob.pk])
        add_comment(task, mia, "Hello")
        unwatch(task, bob)
        send_queued()
        assert skipped_for(bob) == [(Kind.TASK_COMMENTED, STOPPED_WATCHING)]

    def test_the_delivery_log_shows_why_a_row_was_skipped(
        self, smtp: SMTPServer, client: Client
    ) -> None:
        ann, project = UserFactory(), ProjectFactory()
        set_level(ann, project, Level.OFF)
        TaskFactory(project=project, assigned_to=[ann])
        send_queued()
        client.force_login(ann)
        page = client.get("/notifications/", {"status": "skipped"})
        assert LEVEL_OFF in page.text


def test_the_checks_cost_the_same_queries_for_one_email_or_ten(
    smtp: SMTPServer,
) -> None:
    def cost(count: int) -> int:
        people = UserFactory.create_batch(count)
        task = TaskFactory(assigned_to=people)
        add_comment(task, ManagerFactory(), "Hi all")
        Delivery.objects.filter(kind=Kind.TASK_ASSIGNED).delete()
        ids = list(
            Delivery.objects.filter(status=Status.QUEUED).values_list("pk", flat=True)
        )
        with CaptureQueriesContext(connection) as queries:
            assert send_batch(ids).sent == count
        Delivery.objects.all().delete()
        return len(queries) - count  # one UPDATE per email

    assert cost(1) == cost(10)
