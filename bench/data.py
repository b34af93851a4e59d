"""The bench's people, project and tasks, made in this process.

Its functions need Django set up (bench.stack.Stack does it); the models are
imported inside them, so that the entry points can import this module first.
"""

from __future__ import annotations

import datetime
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bench.inbox import Key, expected_keys

if TYPE_CHECKING:
    from tasks.models import Project, Task
    from users.models import User

MANAGER_USERNAME = "bench-manager"
EMAIL_DOMAIN = "example.com"


def throwaway_password() -> str:
    """A fresh password per run for the bench's own accounts: none is in the repo."""
    return "Bench#" + secrets.token_urlsafe(12) + "9"


MANAGER_PASSWORD = throwaway_password()


def create_manager() -> User:
    from django.contrib.auth.models import Group

    from users.models import Role, User

    manager = User.objects.create_user(
        MANAGER_USERNAME,
        f"{MANAGER_USERNAME}@{EMAIL_DOMAIN}",
        MANAGER_PASSWORD,
        is_active=True,
        first_name="Bench",
        last_name="Manager",
    )
    manager.groups.add(Group.objects.get(name=Role.MANAGER))
    return manager


def create_employees(prefix: str, count: int) -> list[User]:
    """Active Employees made in bulk: no signal, so no activation email."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from users.models import Role, User

    password = make_password(None)  # unusable: they never sign in
    now = timezone.now()
    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{i:05d}",
            email=f"{prefix}{i:05d}@{EMAIL_DOMAIN}",
            first_name="Emp",
            last_name=f"{prefix.title()} {i}",
            password=password,
            is_active=True,
            approved_at=now,  # as an Admin's invitation makes them: assignable
        )
        for i in range(count)
    )
    employees = Group.objects.get(name=Role.EMPLOYEE)
    Membership = User.groups.through
    Membership.objects.bulk_create(
        Membership(user_id=user.pk, group_id=employees.pk) for user in users
    )
    return users


def create_project(name: str) -> Project:
    from django.utils import timezone

    from tasks.models import Project

    return Project.objects.create(name=name, start_date=timezone.localdate())


def create_task(project: Project, title: str, assignees: Sequence[User]) -> Task:
    """As TaskForm.save does: task, detail, then the assignees (m2m post_add)."""
    from django.utils import timezone

    from tasks.models import Task, TaskDetail

    due_date = timezone.localdate() + datetime.timedelta(days=7)
    task = Task.objects.create(project=project, title=title, due_date=due_date)
    TaskDetail.objects.create(task=task, priority=TaskDetail.Priority.MEDIUM)
    task.assigned_to.add(*assignees)
    return task


@dataclass
class Commit:
    """Tasks committed in one transaction: the emails they owe, and when."""

    expected: set[Key]
    at: float  # time.monotonic() at COMMIT, before the product's on-commit dispatch
    wall: float  # time.time() at the same moment, to compare with database times


def commit_tasks(
    project: Project,
    tags: Sequence[str],
    assignees: Sequence[User],
    title: str = "Load",
) -> Commit:
    """One task per tag (`title tag`), each assigned to every assignee, in one
    transaction."""
    from django.db import transaction

    committed: list[float] = []
    with transaction.atomic():
        # Registered first, so it runs right after COMMIT, before the dispatch.
        transaction.on_commit(lambda: committed.extend([time.monotonic(), time.time()]))
        for tag in tags:
            create_task(project, f"{title} {tag}", assignees)
    return Commit(expected_keys(tags, assignees), committed[0], committed[1])
