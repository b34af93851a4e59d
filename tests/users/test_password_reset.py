from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery
from tests.factories import UserFactory
from tests.links import password_reset_link
from users.models import User

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
