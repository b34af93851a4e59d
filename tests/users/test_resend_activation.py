from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery
from tests.factories import UserFactory
from users.models import User

URL = reverse("users:activation-resend")


def answer(email: str) -> tuple[int, str, list[str]]:
    """What a new visitor sees: status, where they are sent, and the message."""
    response = Client().post(URL, {"email": email})
    shown = [str(message) for message in get_messages(response.wsgi_request)]
    return response.status_code, response.get("Location", ""), shown


@pytest.mark.django_db
class TestResendActivation:
    def test_it_asks_for_an_email_for_an_inactive_account_in_any_case(
        self, client: Client, inactive_user: User, recorded: Callable
    ) -> None:
        client.post(URL, {"email": "WAITING@example.com"})
        assert recorded("activation") == [inactive_user]

    def test_it_asks_for_nothing_for_an_active_account(
        self, client: Client, recorded: Callable
    ) -> None:
        UserFactory(email="done@example.com")
        client.post(URL, {"email": "done@example.com"})
        assert recorded("activation") == []

    def test_it_answers_the_same_whether_or_not_the_address_exists(
        self, inactive_user: User, recorded: Callable
    ) -> None:
        UserFactory(email="done@example.com")
        known = answer("waiting@example.com")
        limited = answer("waiting@example.com")
        active = answer("done@example.com")
        unknown = answer("nobody@example.com")
        assert known == limited == active == unknown
        assert known[0] == 302
        assert len(recorded("activation")) == 2
        assert "a new link is on its way" in known[2][0]

    def test_it_prefills_the_address_from_the_link(self, client: Client) -> None:
        response = client.get(URL, {"email": "me@example.com"})
        assert 'value="me@example.com"' in response.text

    def test_it_asks_for_a_valid_address(
        self, client: Client, recorded: Callable
    ) -> None:
        response = client.post(URL, {"email": "not an address"})
        assert response.status_code == 200
        assert 'id="id_email_error"' in response.text

    def test_it_records_at_most_one_email_per_address_in_a_few_minutes(
        self, client: Client, db: None
    ) -> None:
        user = UserFactory(is_active=False, email="waiting@example.com")
        for _ in range(3):
            client.post(URL, {"email": "waiting@example.com"})
        activations = Delivery.objects.filter(
            recipient=user, kind=Delivery.Kind.ACTIVATION
        )
        assert activations.count() == 1
