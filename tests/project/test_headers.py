"""Content-Security-Policy on every page, and the proxy headers trusted only when
configured."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ProjectFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    "/users/sign-in/", "/users/sign-up/", "/users/password-reset/",
    "/users/activation/resend/", "/users/activate/MQ/bad-token/", "/admin/login/",
    "/no-such-page/", "/healthz",
]  # fmt: skip


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


def assert_strict_policy(response: object) -> None:
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
def test_every_page_for_a_visitor_has_the_policy(path: str) -> None:
    assert_strict_policy(Client().get(path))


def test_every_page_for_an_admin_has_the_policy(client: Client) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True)
    task = TaskFactory(project=ProjectFactory())
    client.force_login(admin)
    paths = [
        "/", "/tasks/", "/tasks/create/", f"/tasks/{task.pk}/",
        f"/tasks/{task.pk}/edit/", f"/tasks/{task.pk}/delete/", "/tasks/projects/",
        "/notifications/", "/admin/", f"/admin/users/user/{admin.pk}/change/",
        "/admin/axes/accessattempt/",
    ]  # fmt: skip
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_strict_policy(response)


def test_a_forbidden_page_has_the_policy(client: Client) -> None:
    client.force_login(UserFactory())
    response = client.get("/tasks/create/")
    assert response.status_code == 403
    assert_strict_policy(response)


class TestForwardedHeaders:
    def test_published_directly_a_claimed_https_is_not_believed(
        self, settings: object
    ) -> None:
        settings.SECURE_SSL_REDIRECT = True
        response = Client().get("/users/sign-in/", HTTP_X_FORWARDED_PROTO="https")
        assert response.status_code == 301
        assert response["Location"].startswith("https://")


class TestHtmx:
    """htmx requests that get a redirect or an error go to a whole page."""

    def test_an_expired_session_sends_the_whole_page_to_sign_in(
        self, client: Client, db: None
    ) -> None:
        response = client.post(
            "/tasks/1/comments/", {"body": "Hi"}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 204
        assert response["HX-Redirect"].startswith("/users/sign-in/?next=")

    def test_a_forbidden_action_reloads_the_page_to_show_why(
        self, client: Client, db: None
    ) -> None:
        from tests.factories import EmployeeFactory, TaskFactory

        client.force_login(EmployeeFactory())
        task = TaskFactory()  # not assigned to this employee
        response = client.post(
            f"/tasks/{task.pk}/comments/",
            {"body": "Hi"},
            headers={"HX-Request": "true"},
        )
        assert (response.status_code, response["HX-Refresh"]) == (403, "true")
