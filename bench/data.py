"""People, projects and bursts of tasks made in this process, and email counting.

Needs Django set up (bench.stack.Stack does it). Every task title carries a marker
such as `tp-00012`; an email is identified by (recipient, marker), so a message
sent twice is a duplicate whatever its Message-ID.
"""

from __future__ import annotations

import datetime
import re
import secrets
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from devtools.smtp import Received
from tasks.models import Project, Task, TaskDetail
from users.models import Role, User

MANAGER_USERNAME = "bench-manager"


def throwaway_password() -> str:
    """A fresh password per run for the bench's own accounts: none is in the repo."""
    return "Bench#" + secrets.token_urlsafe(12) + "9"


MANAGER_PASSWORD = throwaway_password()
MARKER = re.compile(r"\b([a-z]{2,12}-\d{5})\b")
EMAIL_DOMAIN = "example.com"

Key = tuple[str, str]


def marker(prefix: str, index: int) -> str:
    return f"{prefix}-{index:05d}"


def create_manager() -> User:
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
    password = make_password(None)  # unusable: they never sign in
    users = User.objects.bulk_create(
        User(
            username=f"{prefix}{i:05d}",
            email=f"{prefix}{i:05d}@{EMAIL_DOMAIN}",
            first_name="Emp",
            last_name=f"{prefix.title()} {i}",
            password=password,
            is_active=True,
        )
        for i in range(count)
    )
    employees = Group.objects.get(name=Role.EMPLOYEE)
    Membership = User.groups.through
    Membership.objects.bulk_create(
        Membership(user_id=user.pk, group_id=employees.pk) for user in users
    )
    return users


def create_project(name: str = "Benchmark") -> Project:
    return Project.objects.create(name=name, start_date=timezone.localdate())


def due_date() -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=7)


def create_task(project: Project, title: str, assignees: Sequence[User]) -> Task:
    """As TaskForm.save does: task, detail, then the assignees (m2m post_add)."""
    task = Task.objects.create(project=project, title=title, due_date=due_date())
    TaskDetail.objects.create(task=task, priority=TaskDetail.Priority.MEDIUM)
    task.assigned_to.add(*assignees)
    return task


def commit_burst(
    project: Project, prefix: str, tasks: int, assignees: Sequence[User]
) -> tuple[set[Key], float]:
    """Create `tasks` tasks each assigned to all `assignees`, in one transaction.

    Returns the expected email keys and the monotonic time of the commit, taken
    when the block has committed and run its on-commit dispatches.
    """
    expected: set[Key] = set()
    with transaction.atomic():
        for i in range(tasks):
            tag = marker(prefix, i)
            create_task(project, f"Load {tag}", assignees)
            expected.update((user.email.lower(), tag) for user in assignees)
    return expected, time.monotonic()


def expected_keys(tags: Iterable[str], users: Iterable[User]) -> set[Key]:
    emails = [user.email.lower() for user in users]
    return {(email, tag) for tag in tags for email in emails}


# Counting what the SMTP server accepted ------------------------------------------


def message_marker(item: Received) -> str:
    """The marker in the Subject header, read off the raw message (no parse)."""
    found = MARKER.search(item.content.decode("latin-1"))
    return found.group(1) if found else ""


def keys_of(item: Received) -> list[Key]:
    tag = message_marker(item)
    return [(address.lower(), tag) for address in item.rcpt_tos]


@dataclass
class Tally:
    expected: int
    accepted: int  # distinct expected emails that arrived
    lost: int
    duplicated: int  # extra copies of expected emails
    unexpected: int  # arrived, carrying this phase's marker, but never expected
    max_copies: int


class Inbox:
    """Counts the SMTP server's accepted messages by key, reading each one once."""

    def __init__(self, received: list[Received]) -> None:
        self._received = received
        self._seen = 0
        self.copies: Counter[Key] = Counter()
        self.first_at: dict[Key, float] = {}
        self.last_at = 0.0

    def refresh(self) -> None:
        new = self._received[self._seen :]
        self._seen += len(new)
        for item in new:
            self.last_at = max(self.last_at, item.accepted_at)
            for key in keys_of(item):
                self.copies[key] += 1
                self.first_at.setdefault(key, item.accepted_at)

    def arrived(self, expected: set[Key]) -> int:
        self.refresh()
        return sum(1 for key in expected if key in self.copies)

    def tally(self, expected: set[Key], prefix: str) -> Tally:
        self.refresh()
        mine = {k: n for k, n in self.copies.items() if k[1].startswith(prefix + "-")}
        arrived = {key for key in mine if key in expected}
        return Tally(
            expected=len(expected),
            accepted=len(arrived),
            lost=len(expected - arrived),
            duplicated=sum(mine[key] - 1 for key in arrived),
            unexpected=sum(n for key, n in mine.items() if key not in expected),
            max_copies=max(mine.values(), default=0),
        )


def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.05
) -> bool:
    """Poll condition until true or timeout; bounded in time by construction."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
