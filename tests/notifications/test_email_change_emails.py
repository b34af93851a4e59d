"""The emails of an email change, built and sent by the worker code: the
confirmation to the new address and the notice to the address the account had,
when it is asked for; once it is done, "your address was changed" to the address
it left, with the link that takes the account back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.mail import EmailMultiAlternatives
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications.contexts import Skip
from notifications.emails import build_message
from notifications.kinds import ACCOUNT_KINDS, PREFERENCE_KINDS
from notifications.models import Delivery, Suppression
from notifications.recording import record_email_changed_email
from notifications.sending import send_batch
from notifications.signals import deliveries_due
from tests.factories import UserFactory, fresh
from users.accounts import (
    cancel_email_change,
    change_from_restore_link,
    confirm_email_change,
    request_email_change,
    user_from_email_change_link,
)
from users.models import AddressChange, User

pytestmark = pytest.mark.django_db
Kind, Status = Delivery.Kind, Delivery.Status
FRONTEND = "https://tasks.example.org"


@pytest.fixture(autouse=True)
def frontend_url(settings: DjangoSettings) -> None:
    settings.FRONTEND_URL = FRONTEND


@pytest.fixture
def user() -> User:
    return UserFactory(username="ada", first_name="Ada", email="ada@old.example")


@pytest.fixture
def announced() -> Iterator[list[tuple[list[int], bool]]]:
    calls: list[tuple[list[int], bool]] = []

    def listen(
        sender: object, delivery_ids: list[int], urgent: bool, **kw: Any
    ) -> None:
        calls.append((list(delivery_ids), urgent))

    deliveries_due.connect(listen, dispatch_uid="tests.email_change.announced")
    yield calls
    deliveries_due.disconnect(dispatch_uid="tests.email_change.announced")


def rows(user: User) -> dict[str, Delivery]:
    return {d.kind: d for d in Delivery.objects.filter(recipient=user)}


def link_in(message: EmailMultiAlternatives) -> str:
    pattern = rf"{re.escape(FRONTEND)}/users/email/confirm/\S+/"
    return re.search(pattern, message.body).group(0)


def test_both_are_account_emails_in_the_fast_lane_whatever_the_preferences(
    user: User,
    announced: list[tuple[list[int], bool]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    assert {Kind.EMAIL_CHANGE, Kind.EMAIL_CHANGE_NOTICE} <= ACCOUNT_KINDS
    assert Kind.EMAIL_CHANGE not in PREFERENCE_KINDS
    with django_capture_on_commit_callbacks(execute=True):
        request_email_change(user, "ada@new.example")
    recorded = rows(user)
    assert sorted(pk for ids, _ in announced for pk in ids) == sorted(
        d.pk for d in recorded.values()
    )
    assert all(urgent for _, urgent in announced)


def test_the_confirmation_goes_to_the_new_address_with_a_working_link(
    user: User,
) -> None:
    request_email_change(user, "ada@new.example")
    message = build_message(rows(user)[Kind.EMAIL_CHANGE])
    assert message.to == ["ada@new.example"]
    assert message.subject == "Confirm your new Tasks email address"
    assert "List-Unsubscribe" not in message.extra_headers
    _, uidb64, token, _ = urlsplit(link_in(message)).path.rsplit("/", 3)
    assert user_from_email_change_link(uidb64, token) == fresh(user)
    [(html, _)] = message.alternatives
    assert "Confirm my new address" in html


def test_the_notice_tells_the_old_address_even_once_the_change_is_made(
    user: User,
) -> None:
    request_email_change(user, "ada@new.example")
    assert confirm_email_change(fresh(user)) == "changed"
    message = build_message(fresh(rows(user)[Kind.EMAIL_CHANGE_NOTICE]))
    assert message.to == ["ada@old.example"]
    assert message.subject == "Someone asked to change your Tasks email address"
    assert "ada@new.example" in message.body
    assert f"{FRONTEND}/users/password-reset/" in message.body
    assert "List-Unsubscribe" not in message.extra_headers


@pytest.mark.parametrize(
    "since",
    ["a newer request", "a cancellation", "the confirmation", "a deactivation"],
)
def test_a_confirmation_no_longer_wanted_is_skipped(user: User, since: str) -> None:
    request_email_change(user, "ada@new.example")
    confirmation = rows(user)[Kind.EMAIL_CHANGE]
    if since == "a newer request":
        request_email_change(fresh(user), "ada@newer.example")
    elif since == "a cancellation":
        cancel_email_change(fresh(user))
    elif since == "the confirmation":
        confirm_email_change(fresh(user))
    else:
        User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(Skip):
        build_message(fresh(confirmation))


def test_the_worker_sends_both_over_smtp_to_their_own_addresses(
    user: User, smtp: SMTPServer
) -> None:
    request_email_change(user, "ada@new.example")
    ids = sorted(d.pk for d in rows(user).values())
    assert send_batch(ids).sent == 2
    received = {tuple(m.rcpt_tos): m for m in smtp.wait_for(2)}
    assert set(received) == {("ada@new.example",), ("ada@old.example",)}
    assert "/users/email/confirm/" in received[("ada@new.example",)].body("plain")
    assert "/users/email/confirm/" not in received[("ada@old.example",)].body("plain")
    assert {fresh(d).status for d in rows(user).values()} == {Status.SENT}


def test_a_suppressed_new_address_is_skipped_not_the_account(
    user: User, smtp: SMTPServer
) -> None:
    Suppression.objects.add("ada@new.example", "550 5.1.1 unknown", None)
    request_email_change(user, "ada@new.example")
    ids = sorted(d.pk for d in rows(user).values())
    report = send_batch(ids)
    assert (report.sent, report.skipped) == (1, 1)
    assert [m.rcpt_tos for m in smtp.wait_for(1)] == [["ada@old.example"]]


def restore_link_in(body: str) -> str:
    return re.search(rf"{re.escape(FRONTEND)}/users/email/restore/\S+/", body).group(0)


def test_once_confirmed_the_old_address_is_told_in_the_fast_lane(
    user: User,
    announced: list[tuple[list[int], bool]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    request_email_change(user, "ada@new.example")
    assert Kind.EMAIL_CHANGED not in rows(user)  # nothing is done yet
    with django_capture_on_commit_callbacks(execute=True):
        assert confirm_email_change(fresh(user)) == "changed"
    changed = rows(user)[Kind.EMAIL_CHANGED]
    assert changed.address == "ada@old.example"
    assert Kind.EMAIL_CHANGED in ACCOUNT_KINDS
    assert announced == [([changed.pk], True)]


def test_the_changed_email_carries_a_link_that_takes_the_account_back(
    user: User,
) -> None:
    request_email_change(user, "ada@new.example")
    confirm_email_change(fresh(user))
    message = build_message(rows(user)[Kind.EMAIL_CHANGED])
    assert message.to == ["ada@old.example"]
    assert message.subject == "Your Tasks email address was changed"
    assert "ada@new.example" in message.body
    assert "List-Unsubscribe" not in message.extra_headers
    token = urlsplit(restore_link_in(message.body)).path.rsplit("/", 2)[1]
    assert change_from_restore_link(token) == AddressChange.objects.get(user=user)
    [(html, _)] = message.alternatives
    assert "Take my account back" in html


def test_one_changed_email_per_change(user: User) -> None:
    request_email_change(user, "ada@new.example")
    confirm_email_change(fresh(user))
    change = AddressChange.objects.get(user=user)
    record_email_changed_email(change)  # a second announcement of the same change
    request_email_change(fresh(user), "ada@newer.example")
    confirm_email_change(fresh(user))
    told = Delivery.objects.filter(kind=Kind.EMAIL_CHANGED).order_by("pk")
    assert [d.address for d in told] == ["ada@old.example", "ada@new.example"]


@pytest.mark.parametrize("outcome", ["taken", "invalid"])
def test_a_change_not_made_tells_nobody_it_was(user: User, outcome: str) -> None:
    request_email_change(user, "ada@new.example")
    if outcome == "taken":
        UserFactory(email="ADA@new.example")
    else:
        User.objects.filter(pk=user.pk).update(email="ada@elsewhere.example")
    assert confirm_email_change(user) == outcome
    assert Kind.EMAIL_CHANGED not in rows(user)
    assert not AddressChange.objects.exists()


def test_the_worker_sends_it_to_the_old_address_over_smtp(
    user: User, smtp: SMTPServer
) -> None:
    request_email_change(user, "ada@new.example")
    confirm_email_change(fresh(user))
    assert send_batch([rows(user)[Kind.EMAIL_CHANGED].pk]).sent == 1
    [received] = smtp.wait_for(1)
    assert received.rcpt_tos == ["ada@old.example"]
    assert "/users/email/restore/" in received.body("plain")
