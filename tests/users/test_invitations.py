"""Invitations: an Admin invites an address from /team/, the worker emails it
a link in the fast lane, and choosing a username and a password there creates
the account, signed in, with the role the invitation gives. Used, revoked,
replaced, expired or tampered links get a friendly page, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.contexts import Skip
from notifications.emails import build_message
from notifications.kinds import ACCOUNT_KINDS, PREFERENCE_KINDS
from notifications.models import Delivery
from notifications.signals import deliveries_due
from tests.factories import UserFactory, fresh
from users.accounts import invite, revoke_invitation, send_invitation_again
from users.models import Invitation, Role, User

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind
FRONTEND = "https://tasks.example.org"
PASSWORD = "Harbour#Lights42"


@pytest.fixture(autouse=True)
def frontend_url(settings: DjangoSettings) -> None:
    settings.FRONTEND_URL = FRONTEND


@pytest.fixture
def admin() -> User:
    return UserFactory(
        username="ada", first_name="Ada", last_name="Admin", role=Role.ADMIN
    )


@pytest.fixture
def announced() -> Iterator[list[bool]]:
    calls: list[bool] = []

    def listen(
        sender: object, delivery_ids: list[int], urgent: bool, **kw: Any
    ) -> None:
        calls.append(urgent)

    deliveries_due.connect(listen, dispatch_uid="tests.invitations.announced")
    yield calls
    deliveries_due.disconnect(dispatch_uid="tests.invitations.announced")


def invitation_email(invitation: Invitation) -> Delivery:
    return Delivery.objects.filter(kind=Kind.INVITATION).latest("pk")


def link_of(delivery: Delivery) -> str:
    message = build_message(delivery)
    found = re.search(rf"{re.escape(FRONTEND)}(/users/invitations/\S+/)", message.body)
    assert found is not None
    return found.group(1)


def accept(
    client: Client, path: str, username: str = "noor", time_zone: str = ""
) -> Any:
    return client.post(
        path,
        {
            "username": username,
            "first_name": "Noor",
            "last_name": "Haddad",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "time_zone": time_zone,  # static/js/time-zone.js: the browser's
        },
    )


def test_an_admin_invites_from_the_team_page_and_the_email_leaves_in_the_fast_lane(
    client: Client,
    admin: User,
    announced: list[bool],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/team/invite/",
            {"email": "Noor@Example.com", "first_name": "Noor", "role": "Manager"},
            follow=True,
        )
    assert "Invitation sent to Noor@example.com." in response.content.decode()
    assert Kind.INVITATION in ACCOUNT_KINDS and Kind.INVITATION not in PREFERENCE_KINDS
    assert announced == [True]
    message = build_message(invitation_email(Invitation.objects.get()))
    assert message.to == ["Noor@example.com"]
    assert message.subject == "Join your team on Tasks: Ada Admin invited you"
    assert "as a Manager." in message.body
    assert "List-Unsubscribe" not in message.extra_headers


def test_choosing_a_password_creates_the_account_signed_in_with_its_role(
    client: Client, admin: User
) -> None:
    invitation = invite("noor@example.com", Role.MANAGER, by=admin)
    path = link_of(invitation_email(invitation))
    page = client.get(path)
    assert page.status_code == 200
    assert 'value="noor"' in page.content.decode()  # a username suggested
    response = accept(client, path)
    assert response.status_code == 302 and response["Location"] == "/users/welcome/"
    noor = User.objects.get(username="noor")
    assert noor.is_active and noor.is_approved and noor.is_manager
    assert noor.email == "noor@example.com"
    assert client.get("/").wsgi_request.user == noor
    assert fresh(invitation).account == noor and not fresh(invitation).is_pending


@pytest.mark.parametrize(
    ("sent", "kept"), [("Asia/Kolkata", "Asia/Kolkata"), ("Nowhere/Else", "")]
)
def test_the_new_account_takes_the_browsers_time_zone(
    client: Client, admin: User, sent: str, kept: str
) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    path = link_of(invitation_email(invitation))
    assert "data-browser-time-zone" in client.get(path).text
    accept(client, path, time_zone=sent)
    assert User.objects.get(username="noor").time_zone == kept


def test_opening_the_link_creates_nothing(client: Client, admin: User) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    client.get(link_of(invitation_email(invitation)))
    client.head(link_of(invitation_email(invitation)))
    assert not User.objects.filter(email="noor@example.com").exists()


def test_a_used_link_gets_the_friendly_page(client: Client, admin: User) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    path = link_of(invitation_email(invitation))
    accept(client, path)
    client.logout()
    again = accept(client, path, username="noor2")
    assert again.status_code == 400
    assert "This invitation link no longer works" in again.content.decode()
    assert User.objects.filter(email="noor@example.com").count() == 1


@pytest.mark.parametrize(
    "how",
    [
        "revoked",
        "sent again",
        "expired",
        "expired, its link written late",
        "its Admin deactivated",
        "tampered",
    ],
)
def test_a_link_that_no_longer_works_gets_the_friendly_page(
    client: Client, admin: User, how: str
) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    written = 2 * 86400 if how == "expired, its link written late" else 0
    with time_machine.travel(invitation.sent_at.timestamp() + written):
        path = link_of(invitation_email(invitation))
    if how == "its Admin deactivated":
        User.objects.filter(pk=admin.pk).update(is_active=False)
    if how == "revoked":
        assert revoke_invitation(invitation)
    elif how == "sent again":
        with time_machine.travel(invitation.sent_at.timestamp() + 5):
            assert send_invitation_again(invitation, by=admin)
        assert link_of(invitation_email(invitation)) != path
    elif how == "tampered":
        path = path[:-3] + "x/"
    later = 3 * 86400 + 60 if how.startswith("expired") else 0
    with time_machine.travel(invitation.sent_at.timestamp() + later):
        response = client.get(path)
        assert response.status_code == 400
        assert "This invitation link no longer works" in response.content.decode()
        assert accept(client, path).status_code == 400
    assert not User.objects.filter(email="noor@example.com").exists()


def test_an_email_no_longer_wanted_is_skipped(admin: User) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    first = invitation_email(invitation)
    revoke_invitation(invitation)
    with pytest.raises(Skip):
        build_message(fresh(first))


def test_an_address_taken_meanwhile_creates_no_second_account(
    client: Client, admin: User
) -> None:
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=admin)
    path = link_of(invitation_email(invitation))
    UserFactory(email="NOOR@example.com")
    response = accept(client, path)
    assert response.status_code == 409
    assert "An account already has this address" in response.content.decode()


def test_an_address_on_the_team_or_invited_already_is_refused(
    client: Client, admin: User
) -> None:
    UserFactory(email="taken@example.com")
    invite("waiting@example.com", Role.EMPLOYEE, by=admin)
    client.force_login(admin)
    for email, error in (
        ("TAKEN@example.com", "Someone on the team already has this address."),
        ("waiting@example.com", "This address is invited already"),
    ):
        response = client.post("/team/invite/", {"email": email, "role": "Employee"})
        assert response.status_code == 400
        assert error in response.content.decode()
    assert Invitation.objects.count() == 1
