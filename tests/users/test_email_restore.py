"""Taking an account back: once a change of address is confirmed, the address it
left gets a link (signed, expiring, single use) that gives the account that
address again, voids its password (every session ends) and leads to a new one."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery
from tests.factories import UserFactory, fresh
from tests.links import email_change_link, email_restore_link
from users.accounts import confirm_email_change, request_email_change
from users.models import AddressChange, User
from users.tokens import ADDRESS_RESTORE_SALT

pytestmark = pytest.mark.django_db
PASSWORD = "Secret#123"  # tests.factories.UserFactory's
NEW_PASSWORD = "Brand#New42"
INVALID = "This link is invalid or has already been used"


@pytest.fixture
def user() -> User:
    # Names fixed: a random one (Faker's "Brenda") can be too like NEW_PASSWORD for
    # Django's UserAttributeSimilarityValidator, which would refuse it.
    return UserFactory(
        username="ada", first_name="Ada", last_name="Lovelace", email="ada@old.example"
    )


def move(user: User, address: str) -> AddressChange:
    """Ask for `address` and confirm it from there, as the profile and link do."""
    request_email_change(fresh(user), address)
    assert confirm_email_change(fresh(user)) == "changed"
    return AddressChange.objects.filter(user=user).order_by("-pk").first()


@pytest.fixture
def change(user: User) -> AddressChange:
    return move(user, "thief@evil.example")


def path_of(change: AddressChange) -> str:
    return urlsplit(email_restore_link(change)).path


def signed_in(user: User) -> Client:
    browser = Client()
    browser.force_login(user)
    assert browser.get(reverse("users:profile")).status_code == 200
    return browser


def test_confirming_a_change_keeps_the_address_it_left(user: User) -> None:
    change = move(user, "ada@new.example")
    assert (change.old_email, change.new_email) == (
        "ada@old.example",
        "ada@new.example",
    )
    assert change.spent_at is None


def test_following_the_link_asks_before_changing_anything(
    user: User, change: AddressChange
) -> None:
    response = Client().get(path_of(change))
    assert response.status_code == 200
    assert "Take your account back" in response.text
    assert "ada@old.example" in response.text and "thief@evil.example" in response.text
    assert fresh(user).email == "thief@evil.example"
    assert fresh(user).check_password(PASSWORD)


def test_restoring_gives_the_address_back_and_signs_everyone_out(
    user: User, change: AddressChange
) -> None:
    intruder = signed_in(fresh(user))
    response = Client().post(path_of(change))
    assert response.status_code == 200
    assert "Your account has its address back" in response.text
    restored = fresh(user)
    assert (restored.email, restored.pending_email) == ("ada@old.example", "")
    assert not restored.has_usable_password()
    assert intruder.get(reverse("users:profile")).status_code == 302
    sign_in = Client().post(
        reverse("users:sign-in"), {"username": "ada", "password": PASSWORD}
    )
    assert sign_in.status_code == 200  # the password the intruder knew is void


def test_the_owner_chooses_a_new_password_right_after(
    user: User, change: AddressChange
) -> None:
    owner = Client()
    done = owner.post(path_of(change))
    link = done.context["new_password_link"]
    assert f'href="{link}"' in done.text
    form = owner.get(link, follow=True)
    assert form.status_code == 200
    chosen = owner.post(
        form.redirect_chain[-1][0],
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert chosen.status_code == 302
    assert fresh(user).check_password(NEW_PASSWORD)
    sign_in = Client().post(
        reverse("users:sign-in"), {"username": "ada", "password": NEW_PASSWORD}
    )
    assert sign_in.status_code == 302


def test_a_restored_account_can_ask_for_a_password_reset_later(
    user: User, change: AddressChange
) -> None:
    Client().post(path_of(change))
    Client().post(reverse("users:password-reset"), {"email": "ADA@old.example"})
    resets = Delivery.objects.filter(recipient=user, kind=Delivery.Kind.PASSWORD_RESET)
    assert resets.count() == 1


def test_the_link_works_once(user: User, change: AddressChange) -> None:
    path = path_of(change)
    assert Client().post(path).status_code == 200
    User.objects.filter(pk=user.pk).update(email="ada@later.example")
    again = Client().post(path)
    assert again.status_code == 400
    assert INVALID in again.text
    assert Client().get(path).status_code == 400
    assert fresh(user).email == "ada@later.example"


def test_it_works_after_the_intruder_changed_the_password(
    user: User, change: AddressChange
) -> None:
    intruder = fresh(user)
    intruder.set_password("Intruder#Pass1")
    intruder.save()
    assert Client().post(path_of(change)).status_code == 200
    assert fresh(user).email == "ada@old.example"


def test_a_second_move_cannot_undo_the_owners_restore(
    user: User, change: AddressChange
) -> None:
    onward = move(user, "thief@elsewhere.example")  # its link goes to the thief
    assert Client().post(path_of(change)).status_code == 200
    assert Client().post(path_of(onward)).status_code == 400
    assert fresh(user).email == "ada@old.example"


def test_undoing_the_second_move_leaves_the_first_link_working(
    user: User, change: AddressChange
) -> None:
    onward = move(user, "thief@elsewhere.example")
    assert Client().post(path_of(onward)).status_code == 200
    assert fresh(user).email == "thief@evil.example"
    assert Client().post(path_of(change)).status_code == 200
    assert fresh(user).email == "ada@old.example"


def test_an_expired_link_changes_nothing(user: User, change: AddressChange) -> None:
    class Earlier(signing.TimestampSigner):
        def timestamp(self) -> str:
            issued = int(time.time()) - settings.PASSWORD_RESET_TIMEOUT - 60
            return signing.b62_encode(issued)

    token = Earlier(salt=ADDRESS_RESTORE_SALT).sign_object([change.pk, user.pk])
    response = Client().post(reverse("users:email-restore", args=[token]))
    assert response.status_code == 400
    assert fresh(user).email == "thief@evil.example"


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "W1sxLDJdXQ:1vAbCd:forged",
        signing.dumps([1, 1], salt="another.salt"),
    ],
    # The last token is stamped with the time: named, so every pytest-xdist
    # process collects the same test.
    ids=["garbage", "forged", "another-salt"],
)
def test_a_made_up_or_tampered_link_gets_the_friendly_page(
    user: User, change: AddressChange, token: str
) -> None:
    response = Client().post(reverse("users:email-restore", args=[token]))
    assert response.status_code == 400
    assert INVALID in response.text
    assert fresh(user).email == "thief@evil.example"


def test_a_link_naming_another_account_changes_nothing(
    user: User, change: AddressChange
) -> None:
    other = UserFactory()
    token = signing.dumps([change.pk, other.pk], salt=ADDRESS_RESTORE_SALT)
    assert (
        Client().post(reverse("users:email-restore", args=[token])).status_code == 400
    )
    assert fresh(user).email == "thief@evil.example"


def test_an_address_taken_meanwhile_is_not_given_back(
    user: User, change: AddressChange
) -> None:
    UserFactory(email="Ada@Old.example")  # signed up once the address was free
    response = Client().post(path_of(change))
    assert response.status_code == 409
    assert "belongs to another account" in response.text
    assert fresh(user).email == "thief@evil.example"
    assert fresh(user).check_password(PASSWORD)
    assert fresh(change).spent_at is None  # an Admin may free the address


def test_a_deactivated_account_changes_nothing(
    user: User, change: AddressChange
) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert Client().post(path_of(change)).status_code == 400
    assert fresh(user).email == "thief@evil.example"


def test_restoring_forgets_a_waiting_change_and_voids_its_link(
    user: User, change: AddressChange
) -> None:
    request_email_change(fresh(user), "thief@third.example")
    waiting = urlsplit(email_change_link(fresh(user))).path
    Client().post(path_of(change))
    assert fresh(user).pending_email == ""
    assert Client().post(waiting).status_code == 400
    assert fresh(user).email == "ada@old.example"
