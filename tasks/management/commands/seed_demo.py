"""Demo data for `make run`: one account per role, a project and a few tasks.

Idempotent: running it again resets the demo passwords and adds nothing twice.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from tasks.activity import add_comment
from tasks.models import Project, Task, TaskDetail
from users.actor import acting_as
from users.models import Role, User

DEMO_USERS = [
    ("admin", "Ada", "Admin", Role.ADMIN),
    ("manager", "Max", "Manager", Role.MANAGER),
    ("alice", "Alice", "Archer", Role.EMPLOYEE),
    ("bob", "Bob", "Baker", Role.EMPLOYEE),
    ("carol", "Carol", "Cooper", Role.EMPLOYEE),
]
DEMO_TASKS = [
    ("Draft the launch checklist", Task.Status.IN_PROGRESS, "H", ["alice", "bob"]),
    ("Review the pricing page copy", Task.Status.PENDING, "M", ["bob"]),
    ("Book the team retrospective", Task.Status.COMPLETED, "L", ["carol"]),
    ("Migrate the support inbox", Task.Status.PENDING, "H", ["alice", "carol"]),
]


PLACEHOLDER_PASSWORD = "change-me"  # noqa: S105 (the .env.example value)
MIN_PASSWORD_LENGTH = 12


def refuse_outside_development() -> None:
    """The demo makes a superuser `admin` with a shared password: development only."""
    if not settings.DEBUG:
        raise CommandError(
            "seed_demo runs only with DEBUG=True: it creates a superuser 'admin' "
            "with a shared password, which a production database must never have."
        )
    password = settings.DEMO_PASSWORD
    if not password or password.startswith(PLACEHOLDER_PASSWORD):
        raise CommandError(
            "Set DEMO_PASSWORD to a password of your own (make run writes a random "
            "one into .env); the placeholder from .env.example is public."
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CommandError(
            f"DEMO_PASSWORD must have at least {MIN_PASSWORD_LENGTH} characters."
        )


class Command(BaseCommand):
    help = "Create demo accounts (password from DEMO_PASSWORD), a project and tasks."

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_outside_development()
        with transaction.atomic():
            users = {
                name: self.demo_user(name, first, last, role)
                for name, first, last, role in DEMO_USERS
            }
            # As the demo manager would, so the tasks' history names who did it.
            as_manager = HttpRequest()
            as_manager.user = users["manager"]
            with acting_as(as_manager):
                self.demo_tasks(users)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))

    def demo_user(self, username: str, first: str, last: str, role: str) -> User:
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_active": True,
            },
        )
        user.set_password(settings.DEMO_PASSWORD)
        user.is_staff = role == Role.ADMIN
        user.is_superuser = role == Role.ADMIN
        user.save()
        user.groups.add(Group.objects.get(name=role))
        return user

    def demo_tasks(self, users: dict[str, User]) -> None:
        project, created = Project.objects.get_or_create(
            name="Website relaunch",
            defaults={
                "description": "Everything for the new website.",
                "start_date": timezone.localdate(),
            },
        )
        if not created:
            return
        for offset, (title, status, priority, assignees) in enumerate(
            DEMO_TASKS, start=3
        ):
            due_date = timezone.localdate() + datetime.timedelta(days=offset)
            task = Task.objects.create(
                project=project, title=title, status=status, due_date=due_date
            )
            TaskDetail.objects.create(task=task, priority=priority)
            task.assigned_to.add(*(users[name] for name in assignees))
        # A conversation: a mention, so the first task has a thread and watchers.
        first = project.tasks.order_by("pk").first()
        if first is not None:
            add_comment(first, users["manager"], "@bob can you review this one?")
