"""SIGN_UP_OPEN off (production's default): the sign-up page says the team
joins by invitation, shows no form and creates nothing; nothing offers it."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def closed(settings: DjangoSettings) -> None:
    settings.SIGN_UP_OPEN = False


def test_the_page_says_so_without_a_form(client: Client) -> None:
    response = client.get("/users/sign-up/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "This team joins by invitation" in page
    assert 'name="password1"' not in page


def test_a_post_creates_no_account(client: Client) -> None:
    response = client.post(
        "/users/sign-up/",
        {
            "username": "dana",
            "email": "dana@example.com",
            "first_name": "Dana",
            "last_name": "Lopez",
            "password1": "Harbour#Lights42",
            "password2": "Harbour#Lights42",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(username="dana").exists()


def test_no_page_offers_to_sign_up(client: Client) -> None:
    page = client.get("/users/sign-in/").content.decode()
    assert "/users/sign-up/" not in page
    assert "Ask an Admin of your team for an invitation." in page


def test_the_product_default_is_closed() -> None:
    from decouple import Csv  # noqa: F401  (decouple reads SIGN_UP_OPEN)

    import project.settings as product

    assert product.SIGN_UP_OPEN is False or product.DEBUG
