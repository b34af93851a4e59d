"""Preferences: the page, the worker honouring them, and one-click unsubscribe."""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse

from devtools.smtp import SMTPServer
from notifications.models import Delivery, DigestSchedule, Preference
from notifications.preferences import modes_of, unsubscribe_token
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, UserFactory, fresh
from users.models import User

pytestmark = pytest.mark.django_db
Kind, Mode, Status = Delivery.Kind, Preference.Mode, Delivery.Status
PAGE = "/notifications/preferences/"


def unsubscribe_url(user: User, kind: str) -> str:
    return reverse("notifications:unsubscribe", args=[unsubscribe_token(user.pk, kind)])


def retarget(token: str, user_id: int) -> str:
    """The same signature over a payload naming someone else."""
    payload = json.dumps([user_id, Kind.TASK_ASSIGNED], separators=(",", ":"))
    encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{encoded}:{token.rsplit(':', 1)[1]}"


class TestThePage:
    def test_it_lists_every_kind_right_away_by_default(self, client: Client) -> None:
        client.force_login(UserFactory())
        page = client.get(PAGE).text
        assert reverse("notifications:preferences") == PAGE
        for label in ("Task assigned", "Removed from a task", "Due date changed",
                      "Task completed", "New comment", "Task deleted"):  # fmt: skip
            assert label in page
        assert "Account emails" in page and "are always sent" in page
        assert "confirming a change of email address" in page

    def test_choices_and_the_digest_time_are_saved(self, client: Client) -> None:
        user = UserFactory()
        client.force_login(user)
        choices = {kind: Mode.IMMEDIATE for kind in modes_of(user)}
        choices |= {Kind.TASK_ASSIGNED: Mode.DIGEST, Kind.TASK_COMMENTED: Mode.OFF}
        response = client.post(PAGE, {
            **choices, "digest_time": "17:30", "default_level": "participating",
        })  # fmt: skip
        assert response.status_code == 302
        assert modes_of(user)[Kind.TASK_ASSIGNED] == Mode.DIGEST
        assert modes_of(user)[Kind.TASK_COMMENTED] == Mode.OFF
        assert DigestSchedule.objects.get(user=user).send_at == datetime.time(17, 30)

    def test_the_time_zone_is_said_and_changed_on_the_profile_only(
        self, client: Client
    ) -> None:
        user = UserFactory(time_zone="America/New_York")
        client.force_login(user)
        page = client.get(PAGE).text
        assert "follow your time zone" in page and "America/New York" in page
        assert f'href="{reverse("users:profile")}#id_time_zone"' in page
        assert 'name="time_zone"' not in page
        choices = dict.fromkeys(modes_of(user), Mode.IMMEDIATE)
        client.post(PAGE, {
            **choices, "digest_time": "08:00", "default_level": "participating",
            "time_zone": "Asia/Tokyo",
        })  # fmt: skip
        assert fresh(user).time_zone == "America/New_York"

    def test_a_bad_choice_is_a_field_error(self, client: Client) -> None:
        client.force_login(UserFactory())
        response = client.post(PAGE, {"task_assigned": "sometimes", "digest_time": "x"})
        assert response.status_code == 200
        assert "Select a valid choice" in response.text
        assert not Preference.objects.exists()

    def test_anonymous_visitors_are_sent_to_sign_in(self, client: Client) -> None:
        assert client.get(PAGE)["Location"].startswith("/users/sign-in/")


class TestTheWorkerHonoursThem:
    def test_off_is_skipped_and_digest_is_held_without_sending(
        self, smtp: SMTPServer
    ) -> None:
        quiet, reader = UserFactory(), UserFactory()
        Preference.objects.create(user=quiet, kind=Kind.TASK_DELETED, mode=Mode.OFF)
        Preference.objects.create(user=reader, kind=Kind.TASK_DELETED, mode=Mode.DIGEST)
        off, held = DeliveryFactory(recipient=quiet), DeliveryFactory(recipient=reader)
        report = send_batch([off.pk, held.pk])
        assert (report.skipped, report.held, report.sent) == (1, 1, 0)
        assert fresh(off).status == Status.SKIPPED
        assert "turned off" in off.last_error
        assert (fresh(held).status, held.attempts) == (Status.HELD, 0)
        assert smtp.received == []

    def test_account_emails_ignore_preferences(self, smtp: SMTPServer) -> None:
        user = UserFactory(is_active=False)
        Preference.objects.create(user=user, kind=Kind.TASK_ASSIGNED, mode=Mode.OFF)
        delivery = Delivery.objects.get(recipient=user, kind=Kind.ACTIVATION)
        assert send_batch([delivery.pk]).sent == 1


class TestOneClickUnsubscribe:
    def test_a_post_without_a_session_or_csrf_token_turns_that_kind_off(self) -> None:
        user, other = UserFactory(), UserFactory()
        mail_client = Client(enforce_csrf_checks=True)
        response = mail_client.post(
            unsubscribe_url(user, Kind.TASK_ASSIGNED),
            {"List-Unsubscribe": "One-Click"},
        )
        assert response.status_code == 200
        assert modes_of(user)[Kind.TASK_ASSIGNED] == Mode.OFF
        assert modes_of(user)[Kind.TASK_DELETED] == Mode.IMMEDIATE
        assert modes_of(other)[Kind.TASK_ASSIGNED] == Mode.IMMEDIATE

    def test_an_old_link_of_a_deleted_account_answers_without_an_error(
        self,
    ) -> None:
        user = UserFactory()
        url = unsubscribe_url(user, Kind.TASK_ASSIGNED)
        user.delete()
        mail_client = Client(enforce_csrf_checks=True, raise_request_exception=True)
        assert mail_client.get(url).status_code == 200
        assert (
            mail_client.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200
        )
        assert not Preference.objects.exists()

    def test_a_get_only_asks_to_confirm(self, client: Client) -> None:
        user = UserFactory()
        page = client.get(unsubscribe_url(user, Kind.TASK_COMMENTED)).text
        assert "Stop these emails?" in page and "New comment" in page
        assert PAGE in page
        assert modes_of(user)[Kind.TASK_COMMENTED] == Mode.IMMEDIATE

    def test_a_forged_or_altered_token_changes_nothing(self, client: Client) -> None:
        user, victim = UserFactory(), UserFactory()
        token = unsubscribe_token(user.pk, Kind.TASK_ASSIGNED)
        for bad in ("nonsense", token[:-2] + "xx", retarget(token, victim.pk)):
            response = client.post(f"/notifications/unsubscribe/{bad}/")
            assert response.status_code == 400
        assert not Preference.objects.exists()

    def test_a_digest_link_turns_off_everything_it_gathers(
        self, client: Client
    ) -> None:
        user = UserFactory()
        for kind in (Kind.TASK_ASSIGNED, Kind.TASK_COMMENTED):
            Preference.objects.create(user=user, kind=kind, mode=Mode.DIGEST)
        client.post(unsubscribe_url(user, Kind.DIGEST))
        modes = modes_of(user)
        assert (modes[Kind.TASK_ASSIGNED], modes[Kind.TASK_COMMENTED]) == (
            Mode.OFF, Mode.OFF
        )  # fmt: skip
        assert modes[Kind.TASK_DELETED] == Mode.IMMEDIATE
