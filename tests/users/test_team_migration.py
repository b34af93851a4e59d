"""The data migration that starts approval: every account activated before it
stays assignable (approved when it was activated); one waiting for its
activation is not approved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("users", "0007_address_change")]
AFTER = [("users", "0008_team")]
# Serialized rollback: the flush after it then leaves the content types to the
# next module's restore instead of writing them again (a duplicate there).
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def old_schema(transactional_db: None) -> Iterator[object]:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    yield executor.loader.project_state(BEFORE).apps
    call_command("migrate", verbosity=0)


def test_activated_accounts_are_approved_and_waiting_ones_are_not(
    old_schema: object,
) -> None:
    User = old_schema.get_model("users", "User")
    activated = timezone.now()
    User.objects.create(username="ann", email="ann@example.com", is_active=True,
                        activated_at=activated)  # fmt: skip
    User.objects.create(username="off", email="off@example.com", is_active=False,
                        activated_at=activated)  # fmt: skip
    User.objects.create(username="new", email="new@example.com", is_active=False)

    MigrationExecutor(connection).migrate(AFTER)

    apps = MigrationExecutor(connection).loader.project_state(AFTER).apps
    approved = dict(
        apps.get_model("users", "User").objects.values_list("username", "approved_at")
    )
    assert approved["ann"] == approved["off"] == activated
    assert approved["new"] is None
