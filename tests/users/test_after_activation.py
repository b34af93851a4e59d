"""After activation: the browser that signed up is signed in and sees the
first-run page; any other browser gets the sign-in form, username filled."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests.links import activation_link
from tests.users.test_sign_up import GOOD_PASSWORD, sign_up_data
from users.models import User

pytestmark = pytest.mark.django_db
WELCOME = reverse("users:welcome")


def sign_up(client: Client) -> User:
    client.post(reverse("users:sign-up"), sign_up_data())
    return User.objects.get(username="newcomer")


def link_path(user: User) -> str:
    return urlsplit(activation_link(user)).path


def signed_in_user(client: Client) -> User | None:
    user = client.get(WELCOME).wsgi_request.user
    return user if user.is_authenticated else None


def test_the_browser_that_signed_up_is_signed_in_and_welcomed(
    client: Client,
) -> None:
    user = sign_up(client)
    response = client.post(link_path(user), follow=True)
    assert response.redirect_chain[-1][0] == WELCOME
    assert "Your account is active, and you are signed in." in response.text
    assert "Welcome to Tasks, Nina" in response.text
    assert signed_in_user(client) == user


def test_the_link_is_spent_after_that(client: Client) -> None:
    user = sign_up(client)
    path = link_path(user)
    client.post(path)
    assert client.post(path).status_code == 400
    assert client.get(path).status_code == 400


def test_another_browser_gets_the_sign_in_form_with_the_username(
    client: Client,
) -> None:
    user = sign_up(client)
    elsewhere = Client()
    response = elsewhere.post(link_path(user), follow=True)
    assert signed_in_user(elsewhere) is None
    assert response.request["PATH_INFO"] == reverse("users:sign-in")
    assert "Enter your password to get started" in response.text
    username = re.search(r'<input[^>]*id="id_username"[^>]*>', response.text).group(0)
    password = re.search(r'<input[^>]*id="id_password"[^>]*>', response.text).group(0)
    assert 'value="newcomer"' in username
    assert "autofocus" in password and "autofocus" not in username

    signed_in = elsewhere.post(
        response.request["PATH_INFO"] + "?" + response.request["QUERY_STRING"],
        {"username": "newcomer", "password": GOOD_PASSWORD, "next": WELCOME},
    )
    assert signed_in.url == WELCOME
    assert signed_in_user(elsewhere) == user
    # The filled-in username is not kept once used.
    elsewhere.post(reverse("users:sign-out"))
    page = elsewhere.get(reverse("users:sign-in")).text
    assert 'value="newcomer"' not in page


def test_a_link_scanner_activates_nothing_and_gets_no_session(
    client: Client,
) -> None:
    """A mail scanner opens the link (GET, HEAD, a fresh client): the account
    stays waiting for its owner, and the scanner is not signed in."""
    user = sign_up(client)
    scanner = Client()
    assert scanner.get(link_path(user)).status_code == 200
    assert scanner.head(link_path(user)).status_code == 200
    assert signed_in_user(scanner) is None
    user.refresh_from_db()
    assert not user.is_active
    client.post(link_path(user))
    assert signed_in_user(client) == user


def test_the_first_run_page_needs_a_signed_in_person() -> None:
    response = Client().get(WELCOME)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:sign-in"))
