"""The data migration that marks accounts activated before activated_at existed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("users", "0003_activated_at")]
AFTER = [("users", "0004_mark_activated_accounts")]
# Serialized rollback: the flush after it then leaves the content types to the
# next module's restore instead of writing them again (a duplicate there).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def old_schema(transactional_db: None) -> Iterator[object]:
    """The users app as it was just before the data migration; the apps registry."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


def test_accounts_activated_before_are_marked_and_new_ones_are_not(
    old_schema: object,
) -> None:
    User = old_schema.get_model("users", "User")
    Group = old_schema.get_model("auth", "Group")
    employees, _ = Group.objects.get_or_create(name="Employee")

    def account(name: str, **fields: object) -> object:
        return User.objects.create(username=name, email=f"{name}@example.com", **fields)

    account("active", is_active=True)
    account("signed_in_then_off", is_active=False, last_login=timezone.now())
    account("employee_then_off", is_active=False).groups.add(employees)
    account("waiting", is_active=False)

    MigrationExecutor(connection).migrate(AFTER)

    marked = dict(User.objects.values_list("username", "activated_at"))
    assert marked["waiting"] is None
    assert all(marked[name] for name in marked if name != "waiting")
