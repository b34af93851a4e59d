from __future__ import annotations

import datetime
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery
from tests.factories import UserFactory
from tests.links import password_reset_link
from users.models import User
from users.tokens import (
    account_activation_token,
    lasts,
    password_reset_token_generator,
)

URL = reverse("users:password-reset")


@pytest.mark.django_db
class TestPasswordResetRequest:
    def test_it_asks_the_outbox_for_the_holder_of_the_address_in_any_case(
        self, client: Client, recorded: Callable
    ) -> None:
        user = UserFactory(email="me@example.com")
        response = client.post(URL, {"email": "ME@example.com"})
        assert response.url == reverse("users:password-reset-done")
        assert recorded("password_reset") == [user]
        assert mail.outbox == []  # the web process never sends mail

    @pytest.mark.parametrize("email", ["nobody@example.com", "waiting@example.com"])
    def test_it_says_the_same_for_unknown_and_inactive_addresses(
        self, client: Client, recorded: Callable, inactive_user: User, email: str
    ) -> None:
        response = client.post(URL, {"email": email})
        assert response.url == reverse("users:password-reset-done")
        assert recorded("password_reset") == []

    def test_it_records_a_reset_email_for_the_worker(
        self, client: Client, db: None
    ) -> None:
        user = UserFactory(email="me@example.com")
        client.post(URL, {"email": "me@example.com"})
        kinds = Delivery.objects.filter(recipient=user).values_list("kind", flat=True)
        assert list(kinds) == [Delivery.Kind.PASSWORD_RESET]


@pytest.mark.django_db
class TestChoosingANewPassword:
    def open_link(self, client: Client, user: User):
        """Django swaps the token for a session key and redirects; follow it."""
        return client.get(urlsplit(password_reset_link(user)).path, follow=True)

    def test_the_emailed_link_lets_the_user_set_a_new_password(
        self, client: Client
    ) -> None:
        user = UserFactory()
        form_page = self.open_link(client, user)
        data = {"new_password1": "Fresh#Start77", "new_password2": "Fresh#Start77"}
        response = client.post(form_page.request["PATH_INFO"], data, follow=True)
        user.refresh_from_db()
        assert user.check_password("Fresh#Start77")
        assert "Your password has been changed" in response.text

    def test_the_new_password_keeps_the_sign_up_rules(self, client: Client) -> None:
        user = UserFactory()
        form_page = self.open_link(client, user)
        data = {"new_password1": "freshstart", "new_password2": "freshstart"}
        response = client.post(form_page.request["PATH_INFO"], data)
        assert 'id="id_new_password1_error"' in response.text
        assert "Add an uppercase letter" in response.text

    def test_a_spent_link_shows_a_clear_page(self, client: Client) -> None:
        user = UserFactory()
        path = urlsplit(password_reset_link(user)).path
        user.set_password("Changed#Since1")
        user.save()
        response = client.get(path, follow=True)
        assert "This reset link is invalid or has already been used" in response.text


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (3600, "1 hour"),
        (7200, "2 hours"),
        (86400, "1 day"),
        (259200, "3 days"),
        (5400, "90 minutes"),
        (100000, "1666 minutes"),  # never more than it is
        (30, "1 minute"),
    ],
)
def test_a_links_lifetime_is_said_in_its_largest_whole_unit(
    seconds: int, said: str
) -> None:
    assert lasts(seconds) == said


@pytest.mark.django_db
def test_the_reset_page_says_how_long_the_link_works(
    client: Client, settings: DjangoSettings
) -> None:
    settings.PASSWORD_RESET_LINK_TIMEOUT = 2 * 3600
    page = client.get(reverse("users:password-reset-done")).text
    assert "The link works once, for 2 hours." in page


@pytest.mark.django_db
def test_an_activation_link_outlives_a_reset_link_of_the_same_age(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = UserFactory(is_active=False)
    activation = account_activation_token.make_token(user)
    reset = password_reset_token_generator.make_token(user)
    moment = datetime.datetime.now() + datetime.timedelta(hours=2)
    for generator in (account_activation_token, password_reset_token_generator):
        monkeypatch.setattr(generator, "_now", lambda: moment)
    assert account_activation_token.check_token(user, activation)
    assert not password_reset_token_generator.check_token(user, reset)
