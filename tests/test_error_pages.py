"""Friendly 400, 403, 404 and 500 pages, and what an ordinary 403 leaves in the log."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, RequestFactory
from django.views.defaults import server_error
from pytest_django.fixtures import Settings as DjangoSettings

from tests.factories import TaskFactory
from users.models import User

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_a_styled_404_with_a_way_back(
    client: Client, employee: User
) -> None:
    client.force_login(employee)

    response = client.get("/tasks/987654/")

    assert response.status_code == 404
    assert "find that page" in response.text
    assert 'href="/"' in response.text
    assert "Back to your tasks" in response.text
    assert "My tasks" in response.text  # the product's own navigation


def test_a_deleted_tasks_link_is_the_styled_404_also_with_debug_on(
    client: Client, employee: User, settings: DjangoSettings
) -> None:
    settings.DEBUG = True  # as under `make run`
    client.force_login(employee)

    response = client.get("/tasks/987654/")

    assert response.status_code == 404
    assert "find that page" in response.text
    assert "URLconf" not in response.text  # not Django's technical page


def test_signed_out_visitors_get_the_404_with_a_sign_in_link(client: Client) -> None:
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "find that page" in response.text
    assert "/users/sign-in/" in response.text


def test_a_forbidden_action_is_a_styled_403(client: Client, employee: User) -> None:
    client.force_login(employee)

    response = client.get("/tasks/create/")

    assert response.status_code == 403
    assert "do that here" in response.text
    assert "Back to your tasks" in response.text


def test_an_oversized_recipient_search_is_a_styled_400(
    client: Client, manager: User
) -> None:
    client.force_login(manager)

    response = client.get("/notifications/", {"q": "x" * 50_000})

    assert response.status_code == 400
    assert "make sense of that request" in response.text


def test_the_500_page_needs_neither_a_request_context_nor_the_database() -> None:
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    text = response.content.decode()
    assert "Something went wrong on our side" in text
    assert 'href="/"' in text


def test_an_ordinary_403_leaves_no_traceback_in_the_log(
    client: Client, employee: User, caplog: pytest.LogCaptureFixture
) -> None:
    client.force_login(employee)
    task = TaskFactory()  # not theirs

    assert client.get(f"/tasks/{task.pk}/").status_code == 403

    assert [r for r in caplog.records if r.exc_info] == []
    assert [r for r in caplog.records if r.name == "django.request"] == []


def test_django_records_reach_the_console_once() -> None:
    # Django's own console handler (DEBUG) printed each record a second time
    # beside the root's.
    assert logging.getLogger("django").handlers == []
    assert logging.getLogger("django").propagate
