"""The inbox's migration: what was emailed before the inbox existed starts read,
so nobody's bell opens on their whole history. It migrates for real (flushing
the database after), so it lives apart from the rolled-back inbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from notifications.models import Delivery
from tests.factories import EmployeeFactory

Kind, Status = Delivery.Kind, Delivery.Status


# Serialized rollback: the flush after it then leaves the content types to the
# next module's restore instead of writing them again (a duplicate there).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
class TestTheMigration:
    BEFORE = [("notifications", "0011_providers_beyond_smtp")]
    AFTER = [("notifications", "0012_inbox")]

    @pytest.fixture
    def old_schema(self, transactional_db: None) -> Iterator[object]:
        executor = MigrationExecutor(connection)
        executor.migrate(self.BEFORE)
        yield executor.loader.project_state(self.BEFORE).apps
        call_command("migrate", verbosity=0)

    def test_what_was_emailed_before_starts_read_and_what_waits_does_not(
        self, old_schema: object
    ) -> None:
        OldDelivery = old_schema.get_model("notifications", "Delivery")
        ann = EmployeeFactory()  # the users app is as it is now
        rows = {
            (kind, status): OldDelivery.objects.create(
                kind=kind, status=status, recipient_id=ann.pk, event_key=kind + status
            ).pk
            for kind, status in [
                (Kind.TASK_ASSIGNED, Status.SENT),
                (Kind.TASK_COMMENTED, Status.BUNDLED),
                (Kind.TASK_ASSIGNED, Status.QUEUED),
                (Kind.TASK_ASSIGNED, Status.HELD),
                (Kind.TASK_ASSIGNED, Status.FAILED),
                (Kind.PASSWORD_RESET, Status.SENT),
            ]
        }

        MigrationExecutor(connection).migrate(self.AFTER)

        read = {
            key
            for key, pk in rows.items()
            if Delivery.objects.filter(pk=pk, read_at__isnull=False).exists()
        }
        assert read == {
            (Kind.TASK_ASSIGNED, Status.SENT),
            (Kind.TASK_COMMENTED, Status.BUNDLED),
        }
