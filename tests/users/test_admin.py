from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from users.models import AddressChange, Role, User


@pytest.fixture
def admin_client(client: Client, db: None) -> Client:
    client.force_login(
        User.objects.create_superuser("boss", "boss@example.com", "Boss#Pass123")
    )
    return client


@pytest.mark.django_db
class TestUserAdmin:
    def test_the_list_shows_each_accounts_roles(self, admin_client: Client) -> None:
        UserFactory(username="mira", role=Role.MANAGER)
        response = admin_client.get(reverse("admin:users_user_changelist"))
        assert "mira" in response.text
        assert "Manager" in response.text

    def test_an_admin_creates_an_active_account_with_a_role(
        self, admin_client: Client
    ) -> None:
        managers = Group.objects.get(name=Role.MANAGER)
        data = {
            "username": "lead",
            "email": "lead@example.com",
            "usable_password": "true",
            "password1": "Lead#Pass123",
            "password2": "Lead#Pass123",
            "is_active": "on",
            "groups": [managers.pk],
        }
        admin_client.post(reverse("admin:users_user_add"), data)
        user = User.objects.get(username="lead")
        assert user.is_active
        assert user.is_manager

    def test_an_admin_changes_a_role(self, admin_client: Client) -> None:
        user = UserFactory(role=Role.EMPLOYEE)
        url = reverse("admin:users_user_change", args=[user.pk])
        form = admin_client.get(url).context["adminform"].form
        data = {
            **{name: value for name, value in form.initial.items() if value},
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "is_active": "on",
            "groups": [Group.objects.get(name=Role.MANAGER).pk],
            "user_permissions": [],
        }
        data.pop("date_joined")
        data.pop("password", None)
        data.pop("last_login", None)
        response = admin_client.post(url, data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        assert User.objects.get(pk=user.pk).is_manager

    def test_the_activate_action_makes_employees(self, admin_client: Client) -> None:
        user = UserFactory(is_active=False)
        data = {"action": "activate_accounts", "_selected_action": [user.pk]}
        admin_client.post(reverse("admin:users_user_changelist"), data)
        user.refresh_from_db()
        assert user.is_active
        assert user.groups.filter(name=Role.EMPLOYEE).exists()

    def test_an_admin_cannot_reuse_an_email_in_other_case(
        self, admin_client: Client
    ) -> None:
        UserFactory(email="lead@example.com")
        data = {
            "username": "lead",
            "email": "LEAD@example.com",
            "usable_password": "true",
            "password1": "Lead#Pass123",
            "password2": "Lead#Pass123",
        }
        response = admin_client.post(reverse("admin:users_user_add"), data)
        assert response.status_code == 200
        assert "An account with this email already exists." in response.text
        assert not User.objects.filter(username="lead").exists()


@pytest.mark.django_db
def test_admins_read_address_changes_and_cannot_alter_them(
    admin_client: Client,
) -> None:
    user = UserFactory(username="ada", email="ada@old.example")
    AddressChange.objects.create(
        user=user, old_email="ada@old.example", new_email="ada@new.example"
    )
    listing = admin_client.get(reverse("admin:users_addresschange_changelist"))
    assert listing.status_code == 200
    assert "ada@old.example" in listing.text and "ada@new.example" in listing.text
    assert admin_client.get(reverse("admin:users_addresschange_add")).status_code == 403
