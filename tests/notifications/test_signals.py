"""Receivers record one delivery per recipient in the caller's transaction and
dispatch on commit; nothing is rendered or sent in the web process."""

from __future__ import annotations

import base64
import datetime
import json
import math
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest
import redis
from django.core import mail
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications import recording
from notifications.models import Assignments, Delivery, Entry
from tasks.activity import add_comment
from tasks.models import Task
from tests.factories import ManagerFactory, ProjectFactory, TaskFactory, UserFactory
from tests.support.broker import queued_jobs
from users.actor import acting_as
from users.models import Role, User

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind


def assignments_of(task: Task, users: list[User]) -> Assignments:
    through = Task.assigned_to.through
    return Assignments(through, frozenset([task.pk]), frozenset(u.pk for u in users))


class Boom(Exception):
    pass


def employees(count: int) -> list[User]:
    # ManagerFactory/EmployeeFactory pass role as a model field; role= works.
    return UserFactory.create_batch(count, role=Role.EMPLOYEE)


def recipients(kind: str) -> list[int]:
    rows = Delivery.objects.filter(kind=kind).order_by("recipient_id")
    return list(rows.values_list("recipient_id", flat=True))


def ids(users: list[User]) -> list[int]:
    return sorted(user.pk for user in users)


class TestAssignment:
    def test_it_records_one_delivery_per_new_assignee_and_dispatches_once(
        self, django_capture_on_commit_callbacks: Callable
    ) -> None:
        task, users = TaskFactory(), employees(3)
        with django_capture_on_commit_callbacks() as callbacks:
            task.assigned_to.add(*users)
        assert recipients(Kind.TASK_ASSIGNED) == ids(users)
        assert len(callbacks) == 1
        contexts = Delivery.objects.values_list("context", flat=True)
        expected = {"task_id": task.pk, "title": task.title, "by": ""}
        assert all(context == expected for context in contexts)

    def test_adding_a_fourth_user_records_one_more(self) -> None:
        users = employees(3)
        task = TaskFactory(assigned_to=users)
        fourth = employees(1)[0]
        task.assigned_to.add(*users, fourth)
        assert recipients(Kind.TASK_ASSIGNED) == ids([*users, fourth])

    def test_it_records_from_the_users_side_too(self) -> None:
        user, tasks = employees(1)[0], TaskFactory.create_batch(2)
        user.tasks.add(*tasks)
        rows = Delivery.objects.filter(kind=Kind.TASK_ASSIGNED, recipient=user)
        kept = sorted((row.context["task_id"], row.task_title) for row in rows)
        assert kept == sorted((task.pk, task.title) for task in tasks)

    def test_set_tells_only_the_users_it_adds(self) -> None:
        first, second, third = employees(3)
        task = TaskFactory(assigned_to=[first, second])
        task.assigned_to.set([second, third])
        assert recipients(Kind.TASK_ASSIGNED) == ids([first, second, third])

    def test_saving_the_task_again_records_nothing(self) -> None:
        task = TaskFactory(assigned_to=employees(2))
        task.title = "Renamed"
        task.save()
        assert Delivery.objects.count() == 2

    def test_removing_and_adding_again_makes_a_new_email(self) -> None:
        user = employees(1)[0]
        task = TaskFactory(assigned_to=[user])
        task.assigned_to.remove(user)
        task.assigned_to.add(user)
        assert recipients(Kind.TASK_ASSIGNED) == [user.pk, user.pk]

    def test_a_rolled_back_assignment_records_and_dispatches_nothing(
        self, django_capture_on_commit_callbacks: Callable
    ) -> None:
        task, user = TaskFactory(), employees(1)[0]
        with (
            django_capture_on_commit_callbacks() as callbacks,
            pytest.raises(Boom),
            transaction.atomic(),
        ):
            task.assigned_to.add(user)
            raise Boom
        assert not Delivery.objects.exists()
        assert callbacks == []

    def test_recording_the_same_event_twice_is_a_no_op(self) -> None:
        user = employees(1)[0]
        task = TaskFactory(assigned_to=[user])
        Delivery.objects.update(status=Delivery.Status.SENT, attempts=1)
        recording.record_task_assigned(assignments_of(task, [user]))
        delivery = Delivery.objects.get()  # still one row, left as it was
        assert (delivery.status, delivery.attempts) == (Delivery.Status.SENT, 1)

    def test_an_assignment_of_nobody_records_nothing(self) -> None:
        task = TaskFactory()
        assert recording.record_task_assigned(assignments_of(task, [])) == []
        nobody = Assignments(Task.assigned_to.through, frozenset(), frozenset())
        assert Delivery.objects.record_assignments(nobody, by="").ids == []

    def test_a_backend_that_returns_no_ids_still_dispatches_them(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:  # SQLite before 3.35: recording of the other kinds still works
        features = type(connection.features)
        monkeypatch.setattr(features, "can_return_rows_from_bulk_insert", False)
        users = employees(2)
        entries = [Entry(user.pk, f"test:{user.pk}") for user in users]
        ids = recording.record(Kind.TASK_DELETED, entries)
        assert ids == sorted(Delivery.objects.values_list("pk", flat=True))
        assert len(ids) == 2


class TestQueryCount:
    def queries_to_assign(
        self, count: int, capture: Callable
    ) -> int:  # one request's worth: the add, the record and the dispatch
        task, users = TaskFactory(), employees(count)
        with CaptureQueriesContext(connection) as queries, capture(execute=True):
            task.assigned_to.add(*users)
        assert Delivery.objects.filter(recipient__in=users).count() == count
        return len(queries)

    def test_assigning_100_users_costs_the_queries_of_one(
        self, django_capture_on_commit_callbacks: Callable, broker_queue: redis.Redis
    ) -> None:
        one = self.queries_to_assign(1, django_capture_on_commit_callbacks)
        hundred = self.queries_to_assign(100, django_capture_on_commit_callbacks)
        # The through rows Django inserts come in batches on SQLite; the emails
        # are one INSERT ... SELECT however many people.
        through = Task.assigned_to.through
        fields = [f for f in through._meta.concrete_fields if not f.primary_key]
        size = connection.ops.bulk_batch_size(fields, [through()] * 100)
        assert hundred == one + math.ceil(100 / size) - 1

    def test_the_emails_of_an_assignment_are_one_statement(self) -> None:
        task, users = TaskFactory(), employees(10)
        task.assigned_to.add(*users)  # recorded now, through the receiver
        Delivery.objects.all().delete()
        with CaptureQueriesContext(connection) as queries:
            ids = recording.record_task_assigned(assignments_of(task, users))
        [insert] = queries.captured_queries
        # PostgreSQL runs it prepared (notifications.prepared): the receiver's
        # INSERT above made it.
        assert insert["sql"].startswith(
            ('INSERT INTO "notifications_delivery"', "EXECUTE written_")
        )
        assert ids == sorted(Delivery.objects.values_list("pk", flat=True))
        assert len(ids) == 10

    def test_the_dispatch_carries_only_delivery_ids(
        self, django_capture_on_commit_callbacks: Callable, broker_queue: redis.Redis
    ) -> None:
        task, users = TaskFactory(), employees(60)
        with django_capture_on_commit_callbacks(execute=True):
            task.assigned_to.add(*users)
        messages = queued_jobs(broker_queue, "bulk")
        assert [m["headers"]["task"] for m in messages] == [
            "notifications.deliver_emails"
        ] * 2
        published = [json.loads(base64.b64decode(m["body"]))[0] for m in messages]
        assert sorted(pk for args in published for pk in args[0]) == sorted(
            Delivery.objects.values_list("pk", flat=True)
        )
        assert sorted(len(args[0]) for args in published) == [10, 50]
        raw = b"".join(broker_queue.lrange("bulk", 0, -1))
        assert not any(user.email.encode() in raw for user in users)

    def test_recording_is_one_statement_that_yields_every_id(self) -> None:
        users = employees(60)
        entries = [Entry(user.pk, f"test:{user.pk}") for user in users]
        with CaptureQueriesContext(connection) as queries:
            ids = recording.record(Kind.TASK_DELETED, entries)
        assert len(queries) == 1 + extra_insert_batches(60)
        assert ids == sorted(Delivery.objects.values_list("pk", flat=True))

    def test_nothing_is_written_after_commit(
        self, django_capture_on_commit_callbacks: Callable, broker_queue: redis.Redis
    ) -> None:  # the worker notes its job id on the rows when it claims them
        task, users = TaskFactory(), employees(3)
        with django_capture_on_commit_callbacks() as callbacks:
            task.assigned_to.add(*users)
        with CaptureQueriesContext(connection) as queries:
            for callback in callbacks:
                callback()
        # One read, at most: when the first of them may go (their window).
        sql = [query["sql"] for query in queries.captured_queries]
        assert [s for s in sql if not s.lstrip().upper().startswith("SELECT")] == []
        assert len(sql) <= 1
        assert len(queued_jobs(broker_queue)) == 1


def extra_insert_batches(rows: int) -> int:
    """Django 5.2 assumes SQLite takes 999 parameters a query and splits a bulk
    insert of many wide rows into batches; PostgreSQL takes them in one."""
    fields = [f for f in Delivery._meta.concrete_fields if not f.primary_key]
    size = connection.ops.bulk_batch_size(fields, [Delivery()] * rows)
    return math.ceil(rows / size) - 1


class TestDeletion:
    def test_it_tells_every_assignee_with_a_snapshot(self) -> None:
        users = employees(4)
        project = ProjectFactory(name="Apollo")
        task = TaskFactory(project=project, title="Launch", assigned_to=users)
        task_id, due = task.pk, task.due_date.isoformat()
        started = int(task.created_at.timestamp())
        task.delete()
        deleted = Delivery.objects.filter(kind=Kind.TASK_DELETED)
        assert sorted(d.recipient_id for d in deleted) == ids(users)
        snapshot = {"task_id": task_id, "title": "Launch", "project": "Apollo",
                    "project_id": project.pk, "started": started,
                    "due_date": due, "by": ""}  # fmt: skip
        assert all(d.context == snapshot for d in deleted)
        assert {d.reason for d in deleted} == {Delivery.Reason.ASSIGNED}

    def test_queryset_delete_tells_the_assignees_of_every_task(self) -> None:
        first, second = employees(2)
        TaskFactory(assigned_to=[first])
        TaskFactory(assigned_to=[first, second])
        Task.objects.all().delete()
        assert recipients(Kind.TASK_DELETED) == ids([first, first, second])

    def test_deleting_the_project_tells_the_assignees_of_its_tasks(self) -> None:
        user = employees(1)[0]
        task = TaskFactory(assigned_to=[user], title="Cascaded")
        task.project.delete()
        deleted = Delivery.objects.get(kind=Kind.TASK_DELETED)
        assert deleted.context["title"] == "Cascaded"

    def test_a_task_without_assignees_records_nothing(self) -> None:
        TaskFactory().delete()
        assert not Delivery.objects.filter(kind=Kind.TASK_DELETED).exists()

    def test_a_rolled_back_deletion_records_nothing(self) -> None:
        task = TaskFactory(assigned_to=[employees(1)[0]])
        with pytest.raises(Boom), transaction.atomic():
            task.delete()
            raise Boom
        assert not Delivery.objects.filter(kind=Kind.TASK_DELETED).exists()


class TestActivation:
    def test_a_new_inactive_account_gets_one_activation_email(
        self, django_capture_on_commit_callbacks: Callable
    ) -> None:
        with django_capture_on_commit_callbacks() as callbacks:
            user = UserFactory(is_active=False)
        delivery = Delivery.objects.get()
        assert (delivery.kind, delivery.recipient, delivery.context) == (
            Kind.ACTIVATION,
            user,
            {},
        )  # no token: the worker makes it
        assert len(callbacks) == 1

    def test_active_accounts_and_superusers_get_nothing(self) -> None:
        UserFactory(is_active=True)
        User.objects.create_superuser("root", "root@example.com", "Root#Pass123")
        assert not Delivery.objects.exists()

    def test_saving_an_inactive_account_again_records_nothing(self) -> None:
        user = UserFactory(is_active=False)
        user.first_name = "Changed"
        user.save()
        assert Delivery.objects.count() == 1

    def test_a_resend_within_the_window_is_refused(self) -> None:
        user = UserFactory(is_active=False)
        assert recording.record_activation_email(user) is False
        assert Delivery.objects.count() == 1

    def test_a_resend_after_the_window_is_recorded(self) -> None:
        user = UserFactory(is_active=False)
        # As if recorded in an earlier time bucket, more than a window ago.
        Delivery.objects.update(
            created_at="2020-01-01T00:00:00Z", event_key="activation:old-bucket"
        )
        assert recording.record_activation_email(user) is True
        assert Delivery.objects.filter(kind=Kind.ACTIVATION).count() == 2

    def test_an_active_account_is_never_sent_one(self) -> None:
        assert recording.record_activation_email(UserFactory()) is False
        assert not Delivery.objects.exists()


class TestPasswordReset:
    def test_one_reset_email_per_window(self) -> None:
        user = UserFactory()
        assert recording.record_password_reset_email(user) is True
        assert recording.record_password_reset_email(user) is False
        assert recipients(Kind.PASSWORD_RESET) == [user.pk]


def test_the_web_process_opens_no_smtp_connection(
    settings: DjangoSettings, smtp_settings: SMTPServer,
    django_capture_on_commit_callbacks: Callable, broker_queue: redis.Redis,
) -> None:  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        task = TaskFactory(assigned_to=employees(2))
        UserFactory(is_active=False)
        task.delete()
    assert Delivery.objects.count() == 5
    assert smtp_settings.sink.connections == 0
    assert mail.outbox == []


class TestTaskChanges:
    """What tasks' history records, told to the right people, never the doer."""

    def acting(self, user: User) -> AbstractContextManager[None]:
        request = RequestFactory().post("/")
        request.user = user
        return acting_as(request)

    def test_a_person_removed_is_told_unless_they_removed_themselves(self) -> None:
        manager, ann, bob = ManagerFactory(), *employees(2)
        task = TaskFactory(title="Audit", assigned_to=[ann, bob])
        with self.acting(manager):
            task.assigned_to.remove(ann)
        with self.acting(bob):
            task.assigned_to.remove(bob)
        [told] = Delivery.objects.filter(kind=Kind.TASK_UNASSIGNED)
        assert (told.recipient, told.context["title"], told.context["by"]) == (
            ann, "Audit", manager.get_full_name()
        )  # fmt: skip

    def test_a_new_due_date_tells_the_assignees_but_not_the_one_who_moved_it(
        self,
    ) -> None:
        ann, bob = employees(2)
        task = TaskFactory(assigned_to=[ann, bob], due_date=datetime.date(2030, 1, 1))
        task.due_date = datetime.date(2030, 1, 9)
        with self.acting(bob):
            task.save()
        [told] = Delivery.objects.filter(kind=Kind.DUE_DATE_CHANGED)
        assert told.recipient == ann
        assert (told.context["before"], told.context["after"]) == (
            "2030-01-01", "2030-01-09"
        )  # fmt: skip

    def test_completion_tells_the_creator(self) -> None:
        creator, ann = ManagerFactory(), employees(1)[0]
        task = TaskFactory(created_by=creator, assigned_to=[ann])
        task.status = Task.Status.IN_PROGRESS
        task.save()  # not completed: nobody told
        task.status = Task.Status.COMPLETED
        with self.acting(ann):
            task.save()
        assert recipients(Kind.TASK_COMPLETED) == [creator.pk]

    def test_a_comment_tells_everyone_on_the_task_but_its_author(self) -> None:
        creator, ann, bob = ManagerFactory(), *employees(2)
        task = TaskFactory(created_by=creator, assigned_to=[ann, bob])
        add_comment(task, ann, "Can we ship Friday?")
        comments = Delivery.objects.filter(kind=Kind.TASK_COMMENTED)
        assert sorted(d.recipient_id for d in comments) == sorted([creator.pk, bob.pk])
        assert comments[0].context["excerpt"] == "Can we ship Friday?"

    def test_assigning_yourself_sends_yourself_nothing(self) -> None:
        manager, ann = ManagerFactory(), employees(1)[0]
        task = TaskFactory()
        with self.acting(manager):
            task.assigned_to.add(manager, ann)
        assert recipients(Kind.TASK_ASSIGNED) == [ann.pk]
        assert Delivery.objects.get().context["by"] == manager.get_full_name()
