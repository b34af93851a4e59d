"""Changing one's password while signed in: Django's flow, the sign-up rules."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db
PAGE = "/users/profile/password/"
OLD = "Secret#123"  # tests.factories.UserFactory's
NEW = "Tr0ub4dor-horse-battery"


@pytest.fixture
def user(client: Client) -> User:
    user = UserFactory()
    client.force_login(user)
    return user


def change(client: Client, old: str = OLD, new: str = NEW, again: str = NEW) -> object:
    data = {"old_password": old, "new_password1": new, "new_password2": again}
    return client.post(PAGE, data)


def value_of(page: str, field_id: str) -> str | None:
    tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page).group(0)
    value = re.search(r'value="([^"]*)"', tag)
    return value.group(1) if value else None


def test_it_asks_anonymous_visitors_to_sign_in() -> None:
    assert Client().get(PAGE).status_code == 302


def test_a_hyphenated_passphrase_is_set_and_the_session_kept(
    client: Client, user: User
) -> None:
    response = change(client)
    assert response.status_code == 302
    assert response.url == reverse("users:profile")
    assert User.objects.get(pk=user.pk).check_password(NEW)
    page = client.get(response.url)
    assert page.wsgi_request.user == user  # still signed in here
    assert "Your password has been changed." in page.text


def test_other_browsers_are_signed_out(client: Client, user: User) -> None:
    elsewhere = Client()
    elsewhere.force_login(user)
    change(client)
    assert not elsewhere.get("/").wsgi_request.user.is_authenticated


def test_a_wrong_old_password_changes_nothing_and_is_not_sent_back(
    client: Client, user: User
) -> None:
    response = change(client, old="Wrong#Pass1")
    assert "Your old password was entered incorrectly" in response.text
    assert "Wrong#Pass1" not in response.text
    assert value_of(response.text, "id_new_password1") == NEW  # kept to retry
    assert User.objects.get(pk=user.pk).check_password(OLD)


def test_a_right_old_password_is_kept_when_the_new_one_is_refused(
    client: Client, user: User
) -> None:
    response = change(client, new="weakpass", again="weakpass")
    assert "uppercase letter" in response.text
    assert value_of(response.text, "id_old_password") == OLD
    assert "no-store" in response["Cache-Control"]
    assert User.objects.get(pk=user.pk).check_password(OLD)


def test_the_new_passwords_must_match(client: Client, user: User) -> None:
    response = change(client, again=NEW + "x")
    assert 'id="id_new_password2_error"' in response.text
    assert User.objects.get(pk=user.pk).check_password(OLD)


def test_a_new_password_voids_a_waiting_email_change(
    client: Client, user: User
) -> None:
    User.objects.filter(pk=user.pk).update(pending_email="new@example.com")
    change(client)
    assert User.objects.get(pk=user.pk).pending_email == ""


def test_the_page_links_back_to_the_profile_and_to_a_reset(
    client: Client, user: User
) -> None:
    page = client.get(PAGE).text
    assert reverse("users:profile") in page
    assert reverse("users:password-reset") in page
