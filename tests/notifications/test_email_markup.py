"""The HTML part of every email has a title, a main landmark and a heading."""

from __future__ import annotations

import re

import pytest

from notifications.emails import build_message
from notifications.models import Delivery
from tests.factories import DeliveryFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind


def html_of(delivery: Delivery) -> str:
    [(html, mimetype)] = build_message(delivery).alternatives
    assert mimetype == "text/html"
    return html


def deliveries() -> list[Delivery]:
    task = TaskFactory(title="Paint the lighthouse")
    return [
        DeliveryFactory(kind=Kind.TASK_ASSIGNED, context={"task_id": task.pk}),
        DeliveryFactory(kind=Kind.TASK_DELETED),
        DeliveryFactory(
            kind=Kind.ACTIVATION, recipient=UserFactory(is_active=False), context={}
        ),
        DeliveryFactory(kind=Kind.PASSWORD_RESET, context={}),
    ]


def test_every_html_email_has_a_title_a_landmark_and_a_heading() -> None:
    for delivery in deliveries():
        html = html_of(delivery)
        title = re.search(r"<title>(.+?)</title>", html)
        assert title and title.group(1).strip(), delivery.kind
        assert 'role="main"' in html, delivery.kind
        assert re.search(r"<h1[^>]*>\s*\S", html), delivery.kind
        assert '<html lang="en">' in html


def test_the_title_says_what_the_email_is_about() -> None:
    task = TaskFactory(title="Paint the lighthouse")
    delivery = DeliveryFactory(kind=Kind.TASK_ASSIGNED, context={"task_id": task.pk})

    assert "<title>New Task Assigned: Paint the lighthouse</title>" in html_of(delivery)
