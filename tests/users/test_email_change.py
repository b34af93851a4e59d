"""Changing one's email address: asked on the profile, confirmed from the new
mailbox through a signed, single-use, expiring link; the old address is told."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery
from tests.factories import UserFactory
from tests.links import email_change_link
from users.models import User
from users.tokens import email_change_token_generator

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind
PASSWORD = "Secret#123"  # tests.factories.UserFactory's
ASK = "/users/profile/email/"
INVALID = "This confirmation link is invalid or has already been used"


@pytest.fixture
def user(client: Client) -> User:
    user = UserFactory(username="ada", email="ada@old.example")
    client.force_login(user)
    return user


def ask(client: Client, email: str = "ada@new.example", password: str = PASSWORD):
    return client.post(ASK, {"email": email, "password": password}, follow=True)


def link_path(user: User) -> str:
    user.refresh_from_db()
    return urlsplit(email_change_link(user)).path


def tampered(path: str) -> str:
    prefix, token = path.rstrip("/").rsplit("/", 1)
    return f"{prefix}/{token[:-1]}{'b' if token.endswith('a') else 'a'}/"


def email_of(user: User) -> str:
    return User.objects.get(pk=user.pk).email


def later(settings: DjangoSettings) -> Callable[[], datetime.datetime]:
    moment = datetime.datetime.now() + datetime.timedelta(
        seconds=settings.PASSWORD_RESET_TIMEOUT + 60
    )
    return lambda: moment


class TestAsking:
    def test_the_address_waits_and_both_addresses_get_an_email(
        self, client: Client, user: User, django_capture_on_commit_callbacks: object
    ) -> None:
        with django_capture_on_commit_callbacks() as dispatches:
            response = ask(client)
        assert "We sent a link to ada@new.example" in response.text
        assert email_of(user) == "ada@old.example"  # nothing changes yet
        assert User.objects.get(pk=user.pk).pending_email == "ada@new.example"
        rows = {d.kind: d for d in Delivery.objects.filter(recipient=user)}
        assert rows[Kind.EMAIL_CHANGE].address == "ada@new.example"
        assert rows[Kind.EMAIL_CHANGE_NOTICE].address == "ada@old.example"
        assert len(dispatches) >= 1  # dispatched once committed, by the worker
        assert "ada@new.example" in response.text  # the profile shows it waiting

    def test_the_same_address_asked_twice_is_recorded_once(
        self, client: Client, user: User
    ) -> None:
        ask(client)
        ask(client)
        assert Delivery.objects.filter(kind=Kind.EMAIL_CHANGE).count() == 1

    def test_a_corrected_address_gets_its_own_link(
        self, client: Client, user: User
    ) -> None:
        ask(client, "ada@typo.example")
        ask(client, "ada@new.example")
        addresses = {d.address for d in Delivery.objects.filter(kind=Kind.EMAIL_CHANGE)}
        assert addresses == {"ada@typo.example", "ada@new.example"}

    def test_a_wrong_password_asks_for_nothing(
        self, client: Client, user: User
    ) -> None:
        response = ask(client, password="Wrong#Pass1")
        assert "Your password was entered incorrectly" in response.text
        assert "Wrong#Pass1" not in response.text
        assert User.objects.get(pk=user.pk).pending_email == ""
        assert not Delivery.objects.filter(recipient=user).exists()

    def test_the_current_address_is_refused(self, client: Client, user: User) -> None:
        response = ask(client, "ADA@old.example")
        assert "This is already your email address." in response.text

    def test_an_address_of_another_account_is_refused_whatever_its_case(
        self, client: Client, user: User
    ) -> None:
        UserFactory(email="taken@example.com")
        response = ask(client, "Taken@Example.com")
        assert "An account with this email already exists." in response.text
        assert not Delivery.objects.filter(recipient=user).exists()

    def test_a_right_password_is_kept_when_the_address_is_refused(
        self, client: Client, user: User
    ) -> None:
        response = ask(client, "not-an-address")
        assert f'value="{PASSWORD}"' in response.text
        assert "no-store" in response["Cache-Control"]

    def test_anonymous_visitors_are_sent_to_sign_in(self) -> None:
        response = Client().post(ASK, {"email": "x@example.com", "password": "x"})
        assert response.status_code == 302
        assert response.url.startswith(reverse("users:sign-in"))

    def test_cancelling_forgets_the_address_and_voids_the_link(
        self, client: Client, user: User
    ) -> None:
        ask(client)
        path = link_path(user)
        response = client.post(reverse("users:email-change-cancel"), follow=True)
        assert "cancelled" in response.text
        assert User.objects.get(pk=user.pk).pending_email == ""
        assert Client().get(path).status_code == 400

    def test_asking_is_rate_limited_per_client(
        self, client: Client, user: User, settings: DjangoSettings
    ) -> None:
        settings.RATELIMIT_ENABLE = True
        settings.RATELIMIT_ACCOUNT_EMAILS = "2/h"
        caches["ratelimit"].delete_pattern("*")
        try:
            answers = [
                client.post(ASK, {"email": f"a{i}@new.example", "password": PASSWORD})
                for i in range(3)
            ]
        finally:
            caches["ratelimit"].delete_pattern("*")
        assert [a.status_code for a in answers] == [302, 302, 429]
        assert "Too many requests" in answers[2].text
        assert Delivery.objects.filter(kind=Kind.EMAIL_CHANGE).count() == 2


class TestConfirming:
    @pytest.fixture
    def path(self, client: Client, user: User) -> str:
        ask(client)
        return link_path(user)

    def test_following_the_link_asks_before_changing(
        self, path: str, user: User
    ) -> None:
        response = Client().get(path)
        assert response.status_code == 200
        assert "Confirm your new email address" in response.text
        assert "ada@new.example" in response.text
        assert email_of(user) == "ada@old.example"

    def test_confirming_changes_the_address_once(self, path: str, user: User) -> None:
        browser = Client()
        response = browser.post(path)
        assert "Your email address is changed" in response.text
        changed = User.objects.get(pk=user.pk)
        assert (changed.email, changed.pending_email) == ("ada@new.example", "")
        again = browser.post(path)
        assert again.status_code == 400
        assert INVALID in again.text
        assert Client().get(path).status_code == 400

    def test_the_new_address_signs_in_and_the_old_one_no_longer_does(
        self, path: str, user: User
    ) -> None:
        Client().post(path)
        sign_in = reverse("users:sign-in")
        new = Client().post(
            sign_in, {"username": "ADA@new.example", "password": PASSWORD}
        )
        old = Client().post(
            sign_in, {"username": "ada@old.example", "password": PASSWORD}
        )
        assert new.status_code == 302
        assert old.status_code == 200

    def test_a_tampered_link_changes_nothing(self, path: str, user: User) -> None:
        response = Client().post(tampered(path))
        assert response.status_code == 400
        assert INVALID in response.text
        assert email_of(user) == "ada@old.example"

    @pytest.mark.parametrize("uidb64", ["", "x", "MTIzNDU2Nzg5", "!!"])
    def test_a_mangled_account_id_gets_the_friendly_page(
        self, path: str, uidb64: str
    ) -> None:
        token = path.rstrip("/").rsplit("/", 1)[1]
        response = Client().get(f"/users/email/confirm/{uidb64 or 'AA'}/{token}/")
        assert response.status_code == 400
        assert INVALID in response.text

    def test_an_expired_link_changes_nothing(
        self,
        path: str,
        user: User,
        settings: DjangoSettings,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        monkeypatch.setattr(email_change_token_generator, "_now", later(settings))
        assert Client().post(path).status_code == 400
        assert email_of(user) == "ada@old.example"

    def test_a_newer_request_voids_the_older_link(
        self, client: Client, path: str, user: User
    ) -> None:
        ask(client, "ada@newer.example")
        assert Client().post(path).status_code == 400
        assert email_of(user) == "ada@old.example"
        assert Client().post(link_path(user)).status_code == 200
        assert email_of(user) == "ada@newer.example"

    def test_a_password_change_voids_the_link(self, path: str, user: User) -> None:
        user.set_password("Another#Pass9")
        user.save()
        assert Client().post(path).status_code == 400

    def test_an_address_taken_meanwhile_is_given_up(
        self, path: str, user: User
    ) -> None:
        UserFactory(email="Ada@New.example")
        response = Client().post(path)
        assert response.status_code == 409
        assert "belongs to another account" in response.text
        changed = User.objects.get(pk=user.pk)
        assert (changed.email, changed.pending_email) == ("ada@old.example", "")

    def test_a_deactivated_account_changes_nothing(self, path: str, user: User) -> None:
        User.objects.filter(pk=user.pk).update(is_active=False)
        assert Client().post(path).status_code == 400
        assert email_of(user) == "ada@old.example"
