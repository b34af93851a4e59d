from __future__ import annotations

import datetime
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlsafe_base64_encode
from pytest_django.fixtures import Settings as DjangoSettings

from tests.factories import UserFactory
from tests.links import activation_link
from users.models import Role, User
from users.tokens import account_activation_token, encode_uid
from worker.jobs import delete_unactivated_accounts

INVALID_PAGE = "This activation link is invalid or has already been used"


def link_path(user: User) -> str:
    return urlsplit(activation_link(user)).path


def tampered(path: str) -> str:
    """The path with the token's last character changed."""
    prefix, token = path.rstrip("/").rsplit("/", 1)
    last = "b" if token.endswith("a") else "a"
    return f"{prefix}/{token[:-1]}{last}/"


def past_the_timeout(settings: DjangoSettings) -> Callable[[], datetime.datetime]:
    later = datetime.datetime.now() + datetime.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 60
    )
    return lambda: later


@pytest.mark.django_db
class TestActivationLink:
    def test_it_is_built_from_frontend_url(self, settings: DjangoSettings) -> None:
        settings.FRONTEND_URL = "https://tasks.example.org"
        user = UserFactory(is_active=False)
        link = activation_link(user)
        assert link.startswith("https://tasks.example.org/users/activate/")
        assert f"/{encode_uid(user)}/" in link

    def test_its_token_stops_working_once_the_account_is_active(self) -> None:
        user = UserFactory(is_active=False)
        token = account_activation_token.make_token(user)
        user.is_active = True
        assert not account_activation_token.check_token(user, token)

    def test_its_token_expires_after_password_reset_timeout(
        self, settings: DjangoSettings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        user = UserFactory(is_active=False)
        token = account_activation_token.make_token(user)
        monkeypatch.setattr(
            account_activation_token, "_now", past_the_timeout(settings)
        )
        assert not account_activation_token.check_token(user, token)

    def test_a_password_reset_token_does_not_activate(self) -> None:
        user = UserFactory(is_active=False)
        token = default_token_generator.make_token(user)
        assert not account_activation_token.check_token(user, token)


@pytest.mark.django_db
class TestActivationPage:
    def test_opening_the_link_asks_and_activates_nothing(self, client: Client) -> None:
        """Mail scanners open links: only the button (a POST) activates."""
        user = UserFactory(is_active=False, email="nina@example.com")
        response = client.get(link_path(user))
        assert response.status_code == 200
        assert "Activate my account" in response.text
        assert "nina@example.com" in response.text
        assert client.head(link_path(user)).status_code == 200
        user.refresh_from_db()
        assert not user.is_active and not user.groups.exists()

    def test_opening_a_bad_link_says_so_at_once(self, client: Client) -> None:
        user = UserFactory(is_active=False)
        response = client.get(tampered(link_path(user)))
        assert response.status_code == 400
        assert INVALID_PAGE in response.text

    def test_it_activates_the_account_as_an_employee_and_asks_to_sign_in(
        self, client: Client
    ) -> None:
        user = UserFactory(is_active=False)
        response = client.post(link_path(user), follow=True)
        user.refresh_from_db()
        assert user.is_active
        assert list(user.groups.values_list("name", flat=True)) == [Role.EMPLOYEE]
        assert response.request["PATH_INFO"] == reverse("users:sign-in")
        assert "Your account is active" in response.text

    def test_a_second_use_of_the_link_shows_the_invalid_page(
        self, client: Client
    ) -> None:
        user = UserFactory(is_active=False)
        path = link_path(user)
        client.post(path)
        response = client.post(path)
        assert response.status_code == 400
        assert INVALID_PAGE in response.text
        assert reverse("users:activation-resend") in response.text

    def test_a_link_with_one_character_changed_activates_nothing(
        self, client: Client
    ) -> None:
        user = UserFactory(is_active=False)
        response = client.post(tampered(link_path(user)))
        user.refresh_from_db()
        assert response.status_code == 400
        assert INVALID_PAGE in response.text
        assert not user.is_active

    def test_an_expired_link_activates_nothing(
        self, client: Client, settings: DjangoSettings, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        user = UserFactory(is_active=False)
        path = link_path(user)
        monkeypatch.setattr(
            account_activation_token, "_now", past_the_timeout(settings)
        )
        response = client.post(path)
        user.refresh_from_db()
        assert response.status_code == 400
        assert not user.is_active

    @pytest.mark.parametrize(
        "uidb64",
        [
            urlsafe_base64_encode(b"99999"),  # no such user
            urlsafe_base64_encode(b"9" * 30),  # overflows the integer column
            urlsafe_base64_encode(b"\xff\xfe"),  # not UTF-8
            "AAAA" * 30,  # NUL bytes, not a number
            "not-base64!",
        ],
    )
    def test_a_link_naming_no_user_shows_the_invalid_page(
        self, client: Client, uidb64: str
    ) -> None:
        response = client.post(f"/users/activate/{uidb64}/abc-123/")
        assert response.status_code == 400
        assert INVALID_PAGE in response.text

    def test_a_link_for_an_account_an_admin_already_activated_is_spent(
        self, client: Client
    ) -> None:
        user = UserFactory(is_active=False)
        path = link_path(user)
        User.objects.filter(pk=user.pk).update(is_active=True)
        response = client.post(path)
        assert response.status_code == 400
        assert not user.groups.exists()


@pytest.mark.django_db
class TestAccountsNeverActivated:
    """An address someone else signed up with is freed for its owner."""

    def test_they_are_deleted_after_the_documented_period(
        self, settings: DjangoSettings
    ) -> None:
        days = settings.UNACTIVATED_ACCOUNT_DAYS
        now = timezone.now()
        stale = UserFactory(is_active=False, email="owner@example.com")
        recent = UserFactory(is_active=False)
        User.objects.filter(pk=stale.pk).update(
            date_joined=now - datetime.timedelta(days=days, minutes=1)
        )
        User.objects.filter(pk=recent.pk).update(
            date_joined=now - datetime.timedelta(days=days, minutes=-1)
        )
        assert delete_unactivated_accounts.apply().get() == 1
        assert not User.objects.filter(pk=stale.pk).exists()
        assert User.objects.filter(pk=recent.pk).exists()

    def test_the_owner_can_then_sign_up_with_the_address(
        self, client: Client, settings: DjangoSettings
    ) -> None:
        squatter = UserFactory(is_active=False, email="owner@example.com")
        long_ago = timezone.now() - datetime.timedelta(
            days=settings.UNACTIVATED_ACCOUNT_DAYS + 1
        )
        User.objects.filter(pk=squatter.pk).update(date_joined=long_ago)
        delete_unactivated_accounts.apply()
        response = client.post(reverse("users:sign-up"), {
            "username": "owner", "first_name": "Olga", "last_name": "Owner",
            "email": "owner@example.com", "password1": "Str0ng#Pass",
            "password2": "Str0ng#Pass",
        })  # fmt: skip
        assert response.status_code == 302
        assert User.objects.get(email="owner@example.com").username == "owner"

    def test_accounts_activated_once_stay_whatever_their_age(self) -> None:
        long_ago = timezone.now() - datetime.timedelta(days=365)
        deactivated = UserFactory(is_active=True)
        deactivated.is_active = False
        deactivated.save()
        active = UserFactory(is_active=True)
        User.objects.update(date_joined=long_ago)
        assert delete_unactivated_accounts.apply().get() == 0
        assert User.objects.filter(pk__in=[deactivated.pk, active.pk]).count() == 2

    def test_the_period_outlasts_the_activation_link(self) -> None:
        from django.conf import settings

        assert (
            settings.UNACTIVATED_ACCOUNT_DAYS * 86400 >= settings.PASSWORD_RESET_TIMEOUT
        )
        schedule = settings.CELERY_BEAT_SCHEDULE["delete-unactivated-accounts"]
        assert schedule["task"] == delete_unactivated_accounts.name
