"""The request's written-out statements, prepared once per connection on
PostgreSQL (notifications/prepared.py): the same rows whether a statement is
sent the first time or the tenth, and a failed one leaves the next working."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from notifications.models import Delivery
from notifications.prepared import MOST_PREPARED, as_prepared, fetch_all, prepared_on
from tests.factories import TaskFactory, UserFactory
from users.models import Role

pytestmark = pytest.mark.django_db


class DriverConnection:
    """Stands for a database driver's connection: only its identity counts."""


def test_a_statement_is_prepared_once_then_only_executed() -> None:
    driver = DriverConnection()
    first = as_prepared(driver, "SELECT id FROM t WHERE id IN (%s, %s)")
    again = as_prepared(driver, "SELECT id FROM t WHERE id IN (%s, %s)")
    name = again.split()[1]
    assert first == (
        f"PREPARE {name} AS SELECT id FROM t WHERE id IN ($1, $2); "  # noqa: S608
        f"EXECUTE {name} (%s, %s)"
    )
    assert again == f"EXECUTE {name} (%s, %s)"
    assert as_prepared(DriverConnection(), "SELECT 1 WHERE 2 = %s").startswith(
        "PREPARE "
    )


def test_after_a_failure_the_connection_starts_again_from_nothing() -> None:
    driver = DriverConnection()
    as_prepared(driver, "SELECT %s")
    prepared_on[driver] = None  # what fetch_all records when a statement fails
    assert as_prepared(driver, "SELECT %s").startswith("DEALLOCATE ALL; PREPARE ")
    assert as_prepared(driver, "SELECT %s").startswith("EXECUTE ")


def test_past_the_most_kept_a_new_statement_runs_as_it_is() -> None:
    driver = DriverConnection()
    for count in range(1, MOST_PREPARED + 1):
        as_prepared(driver, "SELECT %s" + ", %s" * count)
    assert as_prepared(driver, "SELECT 1 WHERE 2 = %s") == "SELECT 1 WHERE 2 = %s"
    assert as_prepared(driver, "SELECT %s, %s").startswith("EXECUTE ")


def test_a_failed_statement_leaves_the_next_one_working() -> None:
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE seen (id INTEGER PRIMARY KEY)")
    insert = "INSERT INTO seen (id) VALUES (%s) RETURNING id"
    assert fetch_all(connection, insert, [1]) == [(1,)]
    with pytest.raises(IntegrityError), transaction.atomic():
        fetch_all(connection, insert, [1])
    assert fetch_all(connection, insert, [2]) == [(2,)]
    assert fetch_all(connection, insert, [3]) == [(3,)]


def test_tasks_assigned_one_after_another_each_tell_their_assignees() -> None:
    people = UserFactory.create_batch(3, role=Role.EMPLOYEE)
    for person in people:
        TaskFactory(assigned_to=[person])
    assigned = Delivery.objects.filter(kind=Delivery.Kind.TASK_ASSIGNED)
    assert sorted(assigned.values_list("recipient_id", flat=True)) == sorted(
        person.pk for person in people
    )
