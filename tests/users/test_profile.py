"""The profile page: name and time zone; the way to the email and password forms."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from users.models import User

pytestmark = pytest.mark.django_db
PROFILE = "/users/profile/"


@pytest.fixture
def user(client: Client) -> User:
    user = UserFactory(first_name="Ada", last_name="Lovelace", time_zone="")
    client.force_login(user)
    return user


def test_it_asks_anonymous_visitors_to_sign_in() -> None:
    response = Client().get(PROFILE)
    assert response.status_code == 302
    assert response.url.startswith(reverse("users:sign-in"))


def test_every_page_links_to_it_from_the_header(client: Client, user: User) -> None:
    page = client.get("/").text
    assert f'href="{PROFILE}"' in page


def test_it_shows_the_name_the_address_and_the_site_time_zone(
    client: Client, user: User, settings: object
) -> None:
    page = client.get(PROFILE).text
    assert 'value="Ada"' in page and 'value="Lovelace"' in page
    assert user.email in page
    assert f'<option value="{settings.TIME_ZONE}" selected>' in page
    assert reverse("users:password-change") in page


def test_it_saves_the_name_and_time_zone(client: Client, user: User) -> None:
    data = {"first_name": "Augusta", "last_name": "King", "time_zone": "Europe/London"}
    response = client.post(PROFILE, data, follow=True)
    user.refresh_from_db()
    assert (user.first_name, user.last_name, user.time_zone) == (
        "Augusta",
        "King",
        "Europe/London",
    )
    assert "Your profile is saved." in response.text
    assert '<option value="Europe/London" selected>' in response.text


def test_the_email_settings_name_the_zone_set_here_and_link_to_it(
    client: Client, user: User
) -> None:
    client.post(
        PROFILE, {"first_name": "A", "last_name": "L", "time_zone": "Asia/Tokyo"}
    )
    page = client.get(reverse("notifications:preferences")).text
    assert "<strong" in page and ">Asia/Tokyo</strong>" in page
    assert f'href="{PROFILE}#id_time_zone"' in page


def test_an_unknown_time_zone_is_refused_beside_the_field(
    client: Client, user: User
) -> None:
    data = {"first_name": "X", "last_name": "Y", "time_zone": "Mars/Olympus"}
    response = client.post(PROFILE, data)
    assert response.status_code == 200
    assert 'id="id_time_zone_error"' in response.text
    user.refresh_from_db()
    assert (user.first_name, user.time_zone) == ("Ada", "")


def test_it_changes_only_the_signed_in_persons_profile(
    client: Client, user: User
) -> None:
    other = UserFactory(first_name="Other")
    client.post(PROFILE, {"first_name": "B", "last_name": "C", "time_zone": "UTC"})
    other.refresh_from_db()
    assert other.first_name == "Other"


def test_the_first_run_page_explains_tasks_emails_and_preferences(
    client: Client, user: User
) -> None:
    page = client.get(reverse("users:welcome")).text
    assert "Welcome to Tasks, Ada" in page
    for link in ("tasks:list", "notifications:preferences", "users:profile"):
        assert f'href="{reverse(link)}"' in page
    assert "Nothing assigned yet is normal" in page


def test_the_time_zones_offered_are_places(client: Client, user: User) -> None:
    client.force_login(user)
    page = client.get("/users/profile/").text
    assert 'value="Europe/Paris"' in page
    assert 'value="Factory"' not in page
    assert 'value="localtime"' not in page
