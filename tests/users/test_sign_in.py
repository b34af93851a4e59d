from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from users.models import User

PASSWORD = "Secret#123"  # tests.factories.UserFactory's
NOT_ACTIVATED = "This account is not activated yet"
WRONG_PASSWORD = "Please enter a correct username or email and password"


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: str):
    data = {"username": username, "password": password, **extra}
    return client.post(reverse("users:sign-in"), data)


def signed_in_user(client: Client) -> User | None:
    user = client.get(reverse("users:sign-in")).wsgi_request.user
    return user if user.is_authenticated else None


@pytest.mark.django_db
class TestSignIn:
    def test_an_active_account_signs_in_and_lands_on_the_dashboard(
        self, client: Client
    ) -> None:
        user = UserFactory()
        response = sign_in(client, user.username)
        assert response.status_code == 302
        assert response.url == "/"
        assert signed_in_user(client) == user

    def test_an_inactive_account_is_told_to_activate(self, client: Client) -> None:
        user = UserFactory(is_active=False)
        response = sign_in(client, user.username)
        assert response.status_code == 200
        assert NOT_ACTIVATED in response.text
        assert reverse("users:activation-resend") in response.text
        assert response.text.count(reverse("users:activation-resend")) == 1
        assert signed_in_user(client) is None

    def test_a_wrong_password_on_an_inactive_account_reveals_nothing(
        self, client: Client
    ) -> None:
        user = UserFactory(is_active=False)
        response = sign_in(client, user.username, "Wrong#Pass1")
        assert WRONG_PASSWORD in response.text
        assert NOT_ACTIVATED not in response.text

    def test_an_unknown_username_gets_the_generic_error(self, client: Client) -> None:
        response = sign_in(client, "nobody")
        assert WRONG_PASSWORD in response.text

    def test_it_follows_a_safe_next(self, client: Client) -> None:
        user = UserFactory()
        response = sign_in(client, user.username, next="/tasks/?status=PENDING")
        assert response.url == "/tasks/?status=PENDING"

    @pytest.mark.parametrize(
        "next_url",
        ["https://evil.example/", "//evil.example/", "javascript:alert(1)"],
    )
    def test_it_ignores_a_next_pointing_elsewhere(
        self, client: Client, next_url: str
    ) -> None:
        user = UserFactory()
        response = sign_in(client, user.username, next=next_url)
        assert response.url == "/"

    def test_the_page_keeps_next_for_the_form(self, client: Client) -> None:
        response = client.get(reverse("users:sign-in"), {"next": "/tasks/"})
        assert 'name="next" value="/tasks/"' in response.text


@pytest.mark.django_db
class TestSignOut:
    def test_it_signs_out_by_post(self, client: Client) -> None:
        client.force_login(UserFactory())
        response = client.post(reverse("users:sign-out"), follow=True)
        assert response.request["PATH_INFO"] == reverse("users:sign-in")
        assert "You have signed out." in response.text
        assert signed_in_user(client) is None

    def test_it_refuses_get(self, client: Client) -> None:
        user = UserFactory()
        client.force_login(user)
        response = client.get(reverse("users:sign-out"))
        assert response.status_code == 405
        assert signed_in_user(client) == user


@pytest.mark.django_db
class TestSignInByEmail:
    @pytest.mark.parametrize(
        "typed", ["ada@example.com", "ADA@Example.COM", "  ada@example.com  "]
    )
    def test_the_email_address_signs_in_whatever_its_case(
        self, client: Client, typed: str
    ) -> None:
        user = UserFactory(username="ada", email="Ada@example.com")
        response = sign_in(client, typed)
        assert response.status_code == 302
        assert signed_in_user(client) == user

    def test_a_wrong_password_by_email_gets_the_generic_error(
        self, client: Client
    ) -> None:
        UserFactory(email="ada@example.com")
        response = sign_in(client, "ada@example.com", "Wrong#Pass1")
        assert WRONG_PASSWORD in response.text
        assert signed_in_user(client) is None

    def test_an_inactive_account_named_by_email_is_told_to_activate(
        self, client: Client
    ) -> None:
        UserFactory(is_active=False, email="new@example.com")
        response = sign_in(client, "NEW@example.com")
        assert NOT_ACTIVATED in response.text
        assert signed_in_user(client) is None

    def test_a_deactivated_account_named_by_email_is_told_so(
        self, client: Client
    ) -> None:
        user = UserFactory(email="gone@example.com")
        User.objects.filter(pk=user.pk).update(is_active=False)
        response = sign_in(client, "gone@example.com")
        assert "This account has been deactivated" in response.text
        assert signed_in_user(client) is None

    def test_a_username_wins_over_another_accounts_email(self, client: Client) -> None:
        """An account made before "@" was refused in usernames keeps its name."""
        older = UserFactory(username="sam@example.com", password="Older#Pass1")
        UserFactory(email="sam@example.com")
        assert sign_in(client, "sam@example.com", "Older#Pass1").status_code == 302
        assert signed_in_user(client) == older

    def test_the_label_says_either_works(self, client: Client) -> None:
        page = client.get(reverse("users:sign-in")).text
        assert "Username or email" in page
        assert 'maxlength="254"' in page

    def test_the_admin_sign_in_takes_an_email_too(self, client: Client) -> None:
        UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
        client.post(
            reverse("admin:login"),
            {"username": "boss@example.com", "password": PASSWORD, "next": "/admin/"},
        )
        assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_sign_up_refuses_an_at_sign_in_usernames(client: Client) -> None:
    from tests.users.test_sign_up import sign_up_data

    response = client.post(
        reverse("users:sign-up"), sign_up_data(username="nina@example.com")
    )
    assert "Use a username without @" in response.text
    assert not User.objects.filter(username="nina@example.com").exists()
