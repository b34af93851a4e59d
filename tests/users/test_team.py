"""/team/: Admins set roles, approve people who signed up themselves,
deactivate and reactivate; Managers read it; Employees are refused. The team
never loses its last Admin, and nobody switches themselves off."""

from __future__ import annotations

import pytest
from django.test import Client

from tasks.forms import TaskForm
from tasks.mentions import mentions_in
from tests.factories import (
    EmployeeFactory,
    ManagerFactory,
    TaskFactory,
    UserFactory,
    fresh,
)
from users.accounts import activate_account
from users.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin() -> User:
    return UserFactory(username="ada", first_name="Ada", role=Role.ADMIN)


def signed_up(username: str = "dana") -> User:
    """Someone who signed up and followed their activation link."""
    person = UserFactory(username=username, is_active=False, first_name="Dana")
    assert activate_account(person)
    return fresh(person)


def can_sign_in(username: str) -> bool:
    form = {"username": username, "password": "Secret#123"}
    return Client().post("/users/sign-in/", form).status_code == 302


def test_managers_read_the_team_without_its_controls(client: Client) -> None:
    manager = ManagerFactory(first_name="Mia", last_name="Manager")
    EmployeeFactory(first_name="Ann", last_name="Lee")
    client.force_login(manager)
    page = client.get("/team/").content.decode()
    assert "Ann Lee" in page and "Mia Manager" in page
    assert "Send invitation" not in page and "Deactivate" not in page
    person = EmployeeFactory()
    assert client.post(f"/team/people/{person.pk}/deactivate/").status_code == 403
    assert fresh(person).is_active


def test_employees_are_refused_and_visitors_sent_to_sign_in(client: Client) -> None:
    assert client.get("/team/")["Location"].startswith("/users/sign-in/")
    client.force_login(EmployeeFactory())
    assert client.get("/team/").status_code == 403


def test_an_admin_sets_a_role_and_the_header_says_admin(
    client: Client, admin: User
) -> None:
    person = EmployeeFactory()
    client.force_login(admin)
    response = client.post(
        f"/team/people/{person.pk}/role/", {"role": "Manager"}, follow=True
    )
    assert f"{person} is now a Manager." in response.content.decode()
    assert list(fresh(person).groups.values_list("name", flat=True)) == ["Manager"]
    assert '<span class="badge badge-indigo ml-1">Admin</span>' in (
        response.content.decode()
    )


def test_the_last_admin_keeps_the_role_and_cannot_switch_themselves_off(
    client: Client, admin: User
) -> None:
    client.force_login(admin)
    response = client.post(
        f"/team/people/{admin.pk}/role/", {"role": "Employee"}, follow=True
    )
    assert "is the only Admin" in response.content.decode()
    assert fresh(admin).is_admin
    response = client.post(f"/team/people/{admin.pk}/deactivate/", follow=True)
    assert "You cannot deactivate your own account." in response.content.decode()
    assert fresh(admin).is_active


def test_deactivated_people_cannot_sign_in_until_reactivated_with_their_role(
    client: Client, admin: User
) -> None:
    person = ManagerFactory(username="mia")
    client.force_login(admin)
    client.post(f"/team/people/{person.pk}/deactivate/")
    assert not fresh(person).is_active
    assert person not in TaskForm().fields["assigned_to"].queryset  # type: ignore[attr-defined]
    assert not can_sign_in("mia")
    client.post(f"/team/people/{person.pk}/reactivate/")
    assert fresh(person).is_active and fresh(person).is_manager
    assert can_sign_in("mia")


def test_a_self_sign_up_is_not_assignable_nor_mentionable_until_approved(
    client: Client, admin: User
) -> None:
    dana = signed_up()
    task = TaskFactory(assigned_to=[])
    assignable = TaskForm().fields["assigned_to"].queryset  # type: ignore[attr-defined]
    assert dana not in assignable
    assert mentions_in(task, "@dana look", admin).refused == ["dana"]
    client.force_login(admin)
    page = client.get("/team/").content.decode()
    assert "Waiting for approval" in page and "Dana" in page
    client.post(f"/team/people/{dana.pk}/approve/")
    assert dana in TaskForm().fields["assigned_to"].queryset  # type: ignore[attr-defined]
    assert "Waiting for approval" not in client.get("/team/").content.decode()


def test_the_welcome_page_tells_a_self_sign_up_an_admin_approves_them(
    client: Client,
) -> None:
    client.force_login(signed_up())
    page = client.get("/users/welcome/").content.decode()
    assert "An Admin of the team approves new accounts." in page


def test_accounts_created_active_are_approved_at_once() -> None:
    assert UserFactory().is_approved
    assert User.objects.create_superuser("root", "root@example.com", "x").is_approved
