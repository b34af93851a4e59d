"""Muting a task from its email's link (signed; GET and HEAD change nothing, so
a link scanner never mutes anyone), and from the task's page; unsubscribe links
answer GET and HEAD without changing anything either."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.test import Client

from notifications import mutes
from notifications.emails import build_message
from notifications.models import Delivery, Preference, TaskMute
from notifications.preferences import modes_of
from tasks.models import Task
from tests.factories import ManagerFactory, TaskFactory, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind


def assignment_email_of(
    person: User, title: str = "Rotate the keys"
) -> tuple[Task, str, str]:
    """A task assigned to `person`, and the mute and unsubscribe links of its email."""
    task = TaskFactory(title=title, assigned_to=[person])
    message = build_message(Delivery.objects.get(recipient=person))
    mute = next(word for word in message.body.split() if "/notifications/mute/" in word)
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    return task, urlsplit(mute).path, urlsplit(unsubscribe).path


class TestTheLinkInTheEmail:
    def test_get_and_head_show_the_page_and_change_nothing(
        self, client: Client
    ) -> None:
        ann = UserFactory()
        _, mute, unsubscribe = assignment_email_of(ann)
        page = client.get(mute)
        assert page.status_code == 200
        assert "no more emails about “<strong" in page.text
        assert "Rotate the keys" in page.text
        assert client.head(mute).status_code == 200
        assert client.get(unsubscribe).status_code == 200
        assert client.head(unsubscribe).status_code == 200
        assert not TaskMute.objects.exists()
        assert not Preference.objects.exists()

    def test_post_mutes_that_task_for_that_person_only(self, client: Client) -> None:
        ann, bob = UserFactory(), UserFactory()
        task, mute, _ = assignment_email_of(ann)
        task.assigned_to.add(bob)
        page = client.post(mute)  # no session: from a mail app
        assert page.status_code == 200
        assert "This task is muted" in page.text
        assert list(TaskMute.objects.values_list("user_id", "task_id")) == [
            (ann.pk, task.pk)
        ]
        assert client.post(mute).status_code == 200  # twice: still one mute
        assert TaskMute.objects.count() == 1
        assert modes_of(ann)[Kind.TASK_ASSIGNED] == Preference.Mode.IMMEDIATE

    def test_a_changed_token_mutes_nothing(self, client: Client) -> None:
        _, mute, _ = assignment_email_of(UserFactory())
        forged = mute.replace(":", ":x", 1)
        assert client.get(forged).status_code == 400
        assert client.post(forged).status_code == 400
        assert not TaskMute.objects.exists()

    def test_a_token_for_another_person_cannot_be_made_from_mine(self) -> None:
        token = mutes.mute_token(1, 2)
        assert mutes.read_mute_token(token) == (1, 2)
        value, signature = token.rsplit(":", 1)
        other = mutes.mute_token(3, 2).rsplit(":", 1)[0]
        assert mutes.read_mute_token(f"{other}:{signature}") is None
        assert mutes.read_mute_token(value) is None

    def test_the_link_of_a_deleted_task_answers_and_mutes_nothing(
        self, client: Client
    ) -> None:
        ann = UserFactory()
        task, mute, _ = assignment_email_of(ann)
        task.delete()
        assert client.get(mute).status_code == 200
        assert client.post(mute).status_code == 200
        assert not TaskMute.objects.exists()


class TestOnTheTaskPage:
    def test_an_assignee_mutes_and_unmutes_from_the_task_page(
        self, client: Client
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        task = TaskFactory(assigned_to=[ann])
        client.force_login(ann)
        page = client.get(f"/tasks/{task.pk}/")
        assert "Mute this task" in page.text
        answer = client.post(f"/notifications/tasks/{task.pk}/mute/")
        assert answer["Location"] == f"/tasks/{task.pk}/#watchers"
        assert mutes.is_muted(ann.pk, task.pk)
        page = client.get(f"/tasks/{task.pk}/")
        assert "Unmute" in page.text
        client.post(f"/notifications/tasks/{task.pk}/unmute/")
        assert not mutes.is_muted(ann.pk, task.pk)

    def test_someone_who_cannot_see_the_task_cannot_mute_it(
        self, client: Client
    ) -> None:
        task = TaskFactory()
        client.force_login(UserFactory(role=Role.EMPLOYEE))
        assert client.post(f"/notifications/tasks/{task.pk}/mute/").status_code == 403
        assert client.get(f"/notifications/tasks/{task.pk}/mute/").status_code == 405
        assert not TaskMute.objects.exists()

    def test_signed_out_visitors_are_sent_to_sign_in(self, client: Client) -> None:
        task = TaskFactory()
        answer = client.post(f"/notifications/tasks/{task.pk}/mute/")
        assert answer["Location"].startswith("/users/sign-in/")
        assert ManagerFactory() and not TaskMute.objects.exists()
