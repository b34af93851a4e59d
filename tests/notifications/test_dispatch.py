"""A request's jobs are published once its response has gone, one per lane."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.signals import request_finished
from django.test import Client

from notifications.dispatch import announce, hold_announcements, release_announcements
from notifications.models import Delivery
from notifications.receivers import on_request_finished
from notifications.signals import deliveries_due
from tests.factories import EmployeeFactory, ManagerFactory, ProjectFactory
from users.models import User

Announced = list[tuple[list[int], bool]]


@pytest.fixture
def announced() -> Iterator[Announced]:
    calls: Announced = []

    def listen(delivery_ids: list[int], urgent: bool, **kwargs: Any) -> None:
        calls.append((list(delivery_ids), urgent))

    deliveries_due.connect(listen, dispatch_uid="test_dispatch.listen")
    yield calls
    deliveries_due.disconnect(dispatch_uid="test_dispatch.listen")


def test_what_a_request_announces_goes_at_its_end_once_per_lane(
    announced: Announced,
) -> None:
    hold_announcements()
    announce([1, 2], urgent=False)
    announce([7], urgent=True)
    announce([3], urgent=False)
    assert announced == []
    release_announcements()
    assert announced == [([7], True), ([1, 2, 3], False)]


def test_outside_a_request_an_announcement_goes_at_once(announced: Announced) -> None:
    announce([4], urgent=False)
    assert announced == [([4], False)]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_task_is_published_after_the_response_has_gone(
    announced: Announced,
) -> None:
    """Assigning three people commits their rows inside the request; the one
    announcement comes when Django closes the response (request_finished),
    not at the commit."""
    closing: list[bool] = []
    request_finished.disconnect(dispatch_uid="notifications.on_request_finished")
    request_finished.connect(
        lambda **kwargs: closing.append(True), weak=False, dispatch_uid="test.closing"
    )
    request_finished.connect(
        on_request_finished, dispatch_uid="notifications.on_request_finished"
    )
    announced_while_closing: list[bool] = []
    deliveries_due.connect(
        lambda **kwargs: announced_while_closing.append(bool(closing)),
        weak=False,
        dispatch_uid="test.while_closing",
    )
    client = Client()
    client.force_login(ManagerFactory())
    people = EmployeeFactory.create_batch(3)
    try:
        response = client.post("/tasks/create/", task_for(people))
    finally:
        request_finished.disconnect(dispatch_uid="test.closing")
        deliveries_due.disconnect(dispatch_uid="test.while_closing")
    assert response.status_code == 302
    recorded = sorted(Delivery.objects.values_list("pk", flat=True))
    assert len(recorded) == 3
    assert announced == [(recorded, False)]
    assert announced_while_closing == [True]


def task_for(people: list[User]) -> dict[str, object]:
    return {
        "title": "Paint the fence",
        "project": ProjectFactory().pk,
        "status": "PENDING",
        "priority": "M",
        "assigned_to": [person.pk for person in people],
    }
