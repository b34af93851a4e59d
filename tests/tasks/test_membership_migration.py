"""The data migration that starts project membership: nobody loses sight of a
task, since everyone assigned to one of a project's tasks becomes a member."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import UserFactory

BEFORE = [("tasks", "0003_watchers_and_mentions")]
AFTER = [("tasks", "0004_project_members")]
# Serialized rollback: the flush after it then leaves the content types to the
# next module's restore instead of writing them again (a duplicate there).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def old_schema(transactional_db: None) -> Iterator[object]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


def test_everyone_assigned_a_task_of_a_project_becomes_its_member(
    old_schema: object,
) -> None:
    # Today's User: the historical one predates columns the table has now.
    ann, bob, cid = (UserFactory(username=name).pk for name in ("ann", "bob", "cid"))
    Project = old_schema.get_model("tasks", "Project")
    Task = old_schema.get_model("tasks", "Task")
    day = datetime.date(2030, 1, 1)
    harbour = Project.objects.create(name="Harbour", start_date=day)
    launch = Project.objects.create(name="Launch", start_date=day)
    for title, project, people in (
        ("Paint", harbour, [ann, bob]),
        ("Sand", harbour, [ann]),
        ("Plan", launch, [cid]),
        ("Nobody", launch, []),
    ):
        Task.objects.create(title=title, project=project, due_date=day).assigned_to.add(
            *people
        )

    MigrationExecutor(connection).migrate(AFTER)

    Membership = MigrationExecutor(connection).loader.project_state(AFTER).apps
    members = Membership.get_model("tasks", "Project").members.through.objects
    pairs = set(members.values_list("project__name", "user__username"))
    assert pairs == {("Harbour", "ann"), ("Harbour", "bob"), ("Launch", "cid")}
