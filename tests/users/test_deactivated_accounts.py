"""An account an Admin deactivated stays off, whatever link or resend is used."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from notifications.contexts import Skip
from notifications.emails import build_message
from notifications.models import Delivery
from tests.factories import UserFactory
from tests.links import activation_link
from users.models import Role, User
from users.tokens import account_activation_token

DEACTIVATED_PAGE = "This account has been deactivated"
INVALID_PAGE = "This activation link is invalid or has already been used"
PASSWORD = "Secret#123"  # the factories' password


def link_path(user: User) -> str:
    return urlsplit(activation_link(user)).path


def sign_up_link_then_activated(user: User) -> str:
    """The link of the sign-up email, and the account activated through it."""
    path = link_path(user)
    assert Client().post(path).status_code == 302
    user.refresh_from_db()
    assert user.is_active and user.activated_at is not None
    return path


def deactivate(user: User) -> None:
    """What an Admin does: untick "active" and save."""
    user.is_active = False
    user.save()


def sign_in_error(username: str, password: str = PASSWORD) -> str:
    response = Client().post(
        reverse("users:sign-in"), {"username": username, "password": password}
    )
    assert response.status_code == 200
    return response.text


@pytest.fixture
def deactivated(db: None) -> tuple[User, str]:
    """A Manager who signed up, activated, was promoted, then deactivated."""
    user = UserFactory(is_active=False, username="former")
    old_link = sign_up_link_then_activated(user)
    user.groups.add(Group.objects.get_or_create(name=Role.MANAGER)[0])
    deactivate(user)
    return user, old_link


@pytest.mark.django_db
class TestActivatedAt:
    def test_it_is_empty_until_the_link_is_followed(self) -> None:
        user = UserFactory(is_active=False)
        assert user.activated_at is None
        sign_up_link_then_activated(user)

    def test_accounts_created_active_count_as_activated(self) -> None:
        assert UserFactory(is_active=True).activated_at is not None

    def test_createsuperuser_counts_as_activated(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "Root#Pass123")
        call_command(
            "createsuperuser", "--noinput", username="root", email="root@example.com"
        )
        assert User.objects.get(username="root").activated_at is not None

    def test_deactivating_keeps_it(self, deactivated: tuple[User, str]) -> None:
        user, _ = deactivated
        user.refresh_from_db()
        assert not user.is_active
        assert user.activated_at is not None


@pytest.mark.django_db
class TestActivationLinksOfADeactivatedAccount:
    def test_the_sign_up_link_says_contact_an_admin_and_leaves_it_off(
        self, client: Client, deactivated: tuple[User, str]
    ) -> None:
        user, old_link = deactivated
        assert client.get(old_link).status_code == 403
        response = client.post(old_link)
        user.refresh_from_db()
        assert response.status_code == 403
        assert DEACTIVATED_PAGE in response.text
        assert "contact an Admin" in response.text
        assert not user.is_active

    def test_a_freshly_made_link_says_the_same_and_leaves_it_off(
        self, client: Client, deactivated: tuple[User, str]
    ) -> None:
        user, _ = deactivated
        response = client.post(link_path(user))
        user.refresh_from_db()
        assert DEACTIVATED_PAGE in response.text
        assert not user.is_active

    def test_an_expired_sign_up_link_still_says_contact_an_admin(
        self, client: Client, deactivated: tuple[User, str], settings: object
    ) -> None:
        _, old_link = deactivated
        settings.PASSWORD_RESET_TIMEOUT = -1
        assert DEACTIVATED_PAGE in client.get(old_link).text

    def test_a_made_up_token_tells_a_stranger_nothing(
        self, client: Client, deactivated: tuple[User, str]
    ) -> None:
        _, old_link = deactivated
        prefix = old_link.rstrip("/").rsplit("/", 1)[0]
        response = client.get(f"{prefix}/c8g1bk-0123456789abcdef0123456789abcdef/")
        assert response.status_code == 400
        assert INVALID_PAGE in response.text
        assert DEACTIVATED_PAGE not in response.text

    def test_its_roles_survive_and_it_is_not_turned_into_an_employee(
        self, client: Client, deactivated: tuple[User, str]
    ) -> None:
        user, old_link = deactivated
        client.post(old_link)
        roles = set(user.groups.values_list("name", flat=True))
        assert roles == {Role.EMPLOYEE, Role.MANAGER}
        assert not User.objects.get(pk=user.pk).is_active


@pytest.mark.django_db
class TestResendForADeactivatedAccount:
    def test_it_asks_for_no_activation_email(
        self, client: Client, deactivated: tuple[User, str], recorded: Callable
    ) -> None:
        user, _ = deactivated
        response = client.post(
            reverse("users:activation-resend"), {"email": user.email.upper()}
        )
        assert response.status_code == 302  # the same answer as for anyone
        assert recorded("activation") == []

    def test_the_worker_skips_an_activation_email_recorded_before(
        self, deactivated: tuple[User, str]
    ) -> None:
        user, _ = deactivated
        delivery = Delivery(kind=Delivery.Kind.ACTIVATION, recipient=user)
        with pytest.raises(Skip, match="activated before"):
            build_message(delivery, {})


@pytest.mark.django_db
class TestSignInOfAnInactiveAccount:
    def test_a_deactivated_account_is_told_to_contact_an_admin(
        self, deactivated: tuple[User, str]
    ) -> None:
        text = sign_in_error("former")
        assert "has been deactivated" in text
        assert "Contact an Admin" in text
        assert "not activated yet" not in text
        assert "Send me a new activation link" not in text

    def test_a_never_activated_account_is_told_to_activate(self) -> None:
        UserFactory(is_active=False, username="newbie")
        text = sign_in_error("newbie")
        assert "not activated yet" in text
        assert "Send me a new activation link" in text

    def test_a_wrong_password_learns_nothing_about_the_account(
        self, deactivated: tuple[User, str]
    ) -> None:
        text = sign_in_error("former", "Wrong#Pass1")
        assert "deactivated" not in text
        assert "Please enter a correct username or email and password" in text


@pytest.mark.django_db
class TestAdminSwitchesItBackOn:
    def test_the_admin_action_reactivates_it_with_its_roles(
        self, deactivated: tuple[User, str], admin_client: Client
    ) -> None:
        user, _ = deactivated
        admin_client.post(
            reverse("admin:users_user_changelist"),
            {"action": "activate_accounts", "_selected_action": [user.pk]},
        )
        user.refresh_from_db()
        assert user.is_active
        assert set(user.groups.values_list("name", flat=True)) == {
            Role.EMPLOYEE,
            Role.MANAGER,
        }

    def test_the_old_link_stays_spent_after_reactivation(
        self, deactivated: tuple[User, str], client: Client
    ) -> None:
        user, old_link = deactivated
        user.is_active = True
        user.save()
        assert not account_activation_token.check_token(
            user, old_link.rstrip("/").rsplit("/", 1)[1]
        )
        assert client.post(old_link).status_code == 400
