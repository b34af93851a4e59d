"""A request's notifications are announced when Django closes its response,
not at the commit inside it: the person at the screen never waits for the
broker."""

from __future__ import annotations

import pytest
from django.core.signals import request_finished
from django.test import Client

from notifications.models import Delivery
from notifications.receivers import on_request_finished
from notifications.signals import deliveries_due
from tests.factories import EmployeeFactory, ManagerFactory, ProjectFactory
from tests.support.broker import Announcement
from users.models import User


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_new_task_is_published_after_the_response_has_gone(
    announced: list[Announcement],
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
    assert announced == [(recorded, False, 0.0)]
    assert announced_while_closing == [True]


def task_for(people: list[User]) -> dict[str, object]:
    return {
        "title": "Paint the fence",
        "project": ProjectFactory().pk,
        "status": "PENDING",
        "priority": "M",
        "assigned_to": [person.pk for person in people],
    }
