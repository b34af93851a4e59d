"""Sign-in lockout (django-axes): per account and per client address, both pages."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.db.models import F
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from users.models import User

PASSWORD = "Secret#123"  # tests.factories.UserFactory's
LOCKED = "Too many failed sign-ins"
ATTACKER, VICTIM = "203.0.113.66", "198.51.100.7"

pytestmark = pytest.mark.django_db


def client_from(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def sign_in(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(
        reverse("users:sign-in"), {"username": username, "password": password}
    )


def admin_sign_in(client: Client, username: str, password: str = PASSWORD) -> object:
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
    )


def is_signed_in(client: Client) -> bool:
    return client.get(reverse("users:sign-in")).wsgi_request.user.is_authenticated


def cool_off_passes() -> None:
    """As if SIGN_IN_LOCKOUT_MINUTES went by since the last failure."""
    AccessAttempt.objects.update(
        attempt_time=F("attempt_time") - settings.AXES_COOLOFF_TIME - timedelta(1)
    )


@pytest.fixture
def account(db: None) -> User:
    return UserFactory(username="target")


class TestSignInPage:
    def test_20_wrong_passwords_then_the_right_one_does_not_sign_in(
        self, account: User
    ) -> None:
        client = client_from(ATTACKER)
        for _ in range(20):
            sign_in(client, "target", "Wrong#Guess1")
        response = sign_in(client, "target")
        assert response.status_code == 429
        assert LOCKED in response.text
        assert not is_signed_in(client)

    def test_it_allows_a_few_typos_before_the_right_password(
        self, account: User
    ) -> None:
        client = client_from(VICTIM)
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            assert sign_in(client, "target", "Typo#Pass1").status_code == 200
        assert sign_in(client, "target").status_code == 302
        assert is_signed_in(client)

    def test_a_few_tries_from_elsewhere_lock_nobody_out(self, account: User) -> None:
        for index in range(3):
            stranger = client_from(f"203.0.113.{index + 1}")
            for _ in range(settings.AXES_FAILURE_LIMIT):
                sign_in(stranger, "target", "Wrong#1")
            assert sign_in(stranger, "target").status_code == 429
        assert sign_in(client_from(VICTIM), "target").status_code == 302

    def test_the_account_is_locked_from_every_address_after_many_failures(
        self, account: User
    ) -> None:
        limit = settings.SIGN_IN_ACCOUNT_FAILURE_LIMIT
        assert limit >= 10 * settings.AXES_FAILURE_LIMIT
        for index in range(limit):
            sign_in(client_from(f"203.0.113.{index // 4 + 1}"), "target", "Wrong#1")
        response = sign_in(client_from(VICTIM), "target")
        assert response.status_code == 429
        assert not User.objects.get(pk=account.pk).last_login

    def test_the_address_is_locked_for_every_account(self, account: User) -> None:
        attacker = client_from(ATTACKER)
        for index in range(settings.SIGN_IN_CLIENT_FAILURE_LIMIT):
            sign_in(attacker, f"someone{index}", "Wrong#1")
        assert sign_in(attacker, "target").status_code == 429
        # The account itself was not attacked: its owner signs in from elsewhere.
        assert sign_in(client_from(VICTIM), "target").status_code == 302

    def test_signing_in_to_ones_own_account_gives_back_nothing_spent_on_another(
        self, account: User
    ) -> None:
        """The interleaving attack: 4 wrong for the target, 1 right for oneself."""
        UserFactory(username="mallory")
        attacker = client_from(ATTACKER)
        answers = []
        for _ in range(5):
            answers += [
                sign_in(attacker, "target", "Guess#1").status_code for _ in range(4)
            ]
            sign_in(attacker, "mallory")
            attacker.post(reverse("users:sign-out"))
        assert answers[: settings.AXES_FAILURE_LIMIT - 1] == [200] * 4
        assert set(answers[settings.AXES_FAILURE_LIMIT :]) == {429}
        assert sign_in(attacker, "target").status_code == 429
        assert not User.objects.get(pk=account.pk).last_login
        # Its owner, elsewhere, is not locked out.
        assert sign_in(client_from(VICTIM), "target").status_code == 302

    def test_the_page_says_when_to_retry_and_sign_in_works_after_it(
        self, account: User
    ) -> None:
        client = client_from(ATTACKER)
        for _ in range(settings.AXES_FAILURE_LIMIT):
            sign_in(client, "target", "Wrong#1")
        response = sign_in(client, "target")
        minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
        assert f"Try again in {minutes} minutes" in response.text
        assert response["Retry-After"] == str(minutes * 60)
        cool_off_passes()
        assert sign_in(client, "target").status_code == 302

    def test_the_page_does_not_tell_whether_the_account_exists(
        self, account: User
    ) -> None:
        def locked_page(username: str, address: str) -> str:
            client = client_from(address)
            for _ in range(settings.AXES_FAILURE_LIMIT + 1):
                response = sign_in(client, username, "Wrong#1")
            return response.content.decode().replace(username, "NAME")

        existing = locked_page("target", "203.0.113.1")
        missing = locked_page("nobody-here", "203.0.113.2")
        assert LOCKED in existing
        assert strip_csrf(existing) == strip_csrf(missing)

    def test_failures_are_logged_without_the_password(
        self, account: User, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.INFO):
            sign_in(client_from(ATTACKER), "target", "Wrong#Secret9")
        logged = "\n".join(record.getMessage() for record in caplog.records)
        assert "target" in logged and ATTACKER in logged
        assert "Wrong#Secret9" not in logged
        assert AccessFailureLog.objects.filter(username="target").exists()


class TestAdminSignIn:
    def test_20_wrong_passwords_then_the_right_one_does_not_sign_in(self) -> None:
        UserFactory(username="boss", is_staff=True, is_superuser=True)
        client = client_from(ATTACKER)
        for _ in range(20):
            admin_sign_in(client, "boss", "Wrong#Guess1")
        response = admin_sign_in(client, "boss")
        assert response.status_code == 429
        assert LOCKED in response.text
        assert client.get("/admin/").status_code == 302  # still to the sign-in

    def test_the_right_password_signs_in_before_any_lockout(self) -> None:
        UserFactory(username="boss", is_staff=True, is_superuser=True)
        client = client_from(VICTIM)
        assert admin_sign_in(client, "boss").status_code == 302
        assert client.get("/admin/").status_code == 200


def strip_csrf(page: str) -> str:
    """The page without its per-response CSRF token."""
    import re

    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


class TestOneCountPerAccount:
    """Failures count against the account whichever identifier names it."""

    def test_mixing_username_and_email_cannot_dodge_the_lockout(self) -> None:
        UserFactory(username="target", email="Target@example.com")
        identifiers = ["target", "target@example.com", "TARGET@EXAMPLE.COM"]
        attacker = client_from(ATTACKER)
        for index in range(settings.AXES_FAILURE_LIMIT):
            sign_in(attacker, identifiers[index % 3], "Wrong#1")
        for identifier in identifiers:
            assert sign_in(attacker, identifier).status_code == 429, identifier
        assert not User.objects.get(username="target").last_login

    def test_failures_are_recorded_under_the_username(self) -> None:
        UserFactory(username="target", email="target@example.com")
        sign_in(client_from(ATTACKER), "TARGET@example.com", "Wrong#1")
        assert AccessFailureLog.objects.filter(username="target").exists()

    def test_signing_in_by_email_clears_the_failures_of_the_username(self) -> None:
        UserFactory(username="target", email="target@example.com")
        client = client_from(VICTIM)
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(client, "target", "Typo#Pass1")
        assert sign_in(client, "target@example.com").status_code == 302
        client.post(reverse("users:sign-out"))
        for _ in range(settings.AXES_FAILURE_LIMIT - 1):
            sign_in(client, "target", "Typo#Pass1")
        assert sign_in(client, "target").status_code == 302

    def test_an_unknown_address_counts_once_whatever_its_case(self) -> None:
        for index, typed in enumerate(["ghost@example.com", "GHOST@example.com"]):
            sign_in(client_from(f"203.0.113.{index + 1}"), typed, "Wrong#1")
        counted = AccessAttempt.objects.values_list("username", flat=True)
        assert set(counted) == {"ghost@example.com"}
