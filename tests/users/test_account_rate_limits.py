"""Per-account rate limits: the password change's current-password check, and
comments and status changes (each may email several people)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as DjangoSettings

from tasks.models import Comment, Task
from tests.factories import EmployeeFactory, TaskFactory
from users.models import User

LIMIT = 3
PASSWORD = "Secret#123"  # tests.factories.UserFactory's
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def rate_limits(settings: DjangoSettings) -> Iterator[None]:
    settings.RATELIMIT_ENABLE = True
    settings.RATELIMIT_PASSWORD_CHANGE = f"{LIMIT}/h"
    settings.RATELIMIT_TASK_UPDATES = f"{LIMIT}/h"
    counters = caches["ratelimit"]
    counters.delete_pattern("*")
    yield
    counters.delete_pattern("*")


@pytest.fixture
def person() -> User:
    return EmployeeFactory()


def signed_in(user: User, address: str = "192.0.2.1") -> Client:
    client = Client(REMOTE_ADDR=address)
    client.force_login(user)
    return client


def change_password(client: Client, current: str) -> int:
    new = "N3w#Password!"
    return client.post(reverse("users:password-change"), {
        "old_password": current, "new_password1": new, "new_password2": new,
    }).status_code  # fmt: skip


def test_guessing_the_current_password_is_throttled(person: User) -> None:
    guesses = [change_password(signed_in(person, f"192.0.2.{n}"), f"Guess#{n}")
               for n in range(LIMIT)]  # fmt: skip
    assert guesses == [200] * LIMIT  # the form, with its error
    assert change_password(signed_in(person, "198.51.100.1"), PASSWORD) == 429
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_comments_and_status_changes_share_one_budget(person: User) -> None:
    task = TaskFactory(assigned_to=[person])
    client = signed_in(person)
    comment = reverse("tasks:comment", args=[task.pk])
    status = reverse("tasks:status", args=[task.pk])
    answers = [
        client.post(comment, {"body": "First"}).status_code,
        client.post(status, {"status": Task.Status.IN_PROGRESS}).status_code,
        client.post(comment, {"body": "Second"}).status_code,
        client.post(comment, {"body": "One too many"}).status_code,
        client.post(status, {"status": Task.Status.COMPLETED}).status_code,
    ]
    assert answers == [302, 302, 302, 429, 429]
    assert Comment.objects.filter(task=task).count() == 2
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS
    # Someone else's budget is their own.
    other = EmployeeFactory()
    task.assigned_to.add(other)
    assert signed_in(other).post(comment, {"body": "Hi"}).status_code == 302
