"""The delivery log at /notifications/ and its re-send action."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notifications.models import Delivery, SendingPause, Suppression
from tests.factories import DeliveryFactory, TaskFactory, UserFactory
from tests.support.broker import published_ids, queued_jobs
from users.models import Role, User

pytestmark = pytest.mark.django_db
Status, Kind = Delivery.Status, Delivery.Kind
LOG = "/notifications/"


def signed_in(client: Client, role: str | None = Role.EMPLOYEE) -> User:
    user = UserFactory(role=role)
    client.force_login(user)
    return user


def shown(response: object) -> list[int]:
    return [delivery.pk for delivery in response.context["page"]]


def resend_url(delivery: Delivery) -> str:
    return reverse("notifications:resend", args=[delivery.pk])


class TestWhoSeesWhat:
    def test_the_url_name_is_the_one_the_base_template_links(self) -> None:
        assert reverse("notifications:list") == LOG

    def test_anonymous_visitors_are_sent_to_sign_in(self, client: Client) -> None:
        response = client.get(LOG)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("users:sign-in"))

    def test_an_employee_sees_only_the_emails_sent_to_them(
        self, client: Client
    ) -> None:
        me = signed_in(client)
        mine = DeliveryFactory(recipient=me)
        DeliveryFactory()  # someone else's
        response = client.get(LOG)
        assert response.status_code == 200
        assert shown(response) == [mine.pk]
        assert "Re-send" not in response.text

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
    def test_managers_and_admins_see_every_delivery_with_attempts_and_errors(
        self, client: Client, role: str
    ) -> None:
        signed_in(client, role)
        failed = DeliveryFactory(
            status=Status.FAILED, attempts=1, last_error="550 5.1.1 no such user"
        )
        other = DeliveryFactory()
        response = client.get(LOG)
        assert sorted(shown(response)) == sorted([failed.pk, other.pk])
        assert "550 5.1.1 no such user" in response.text
        assert failed.recipient.email in response.text
        assert "Re-send" in response.text

    def test_rows_name_their_task_even_once_it_is_deleted(self, client: Client) -> None:
        me = signed_in(client)
        task = TaskFactory(title="Quarterly report", assigned_to=[me])
        task.delete()  # its assignment row now names a task that is gone
        TaskFactory(title="Still here", assigned_to=[me])
        page = client.get(LOG).text
        assert page.count("Quarterly report") == 2  # assigned, then deleted
        assert "Still here" in page

    def test_filters_by_status_and_kind(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        wanted = DeliveryFactory(status=Status.FAILED, kind=Kind.TASK_DELETED)
        DeliveryFactory(status=Status.FAILED, kind=Kind.PASSWORD_RESET, context={})
        DeliveryFactory(status=Status.SENT, kind=Kind.TASK_DELETED)
        response = client.get(LOG, {"status": "failed", "kind": "task_deleted"})
        assert shown(response) == [wanted.pk]

    def test_unknown_filter_values_are_ignored(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        DeliveryFactory.create_batch(2)
        response = client.get(LOG, {"status": "nonsense", "kind": "' OR 1=1"})
        assert len(shown(response)) == 2

    def test_it_is_paginated(self, client: Client) -> None:
        me = signed_in(client)
        DeliveryFactory.create_batch(30, recipient=me)
        first, second = client.get(LOG), client.get(LOG, {"page": 2})
        assert (len(shown(first)), len(shown(second))) == (25, 5)
        assert "page=2" in first.text

    def test_the_page_costs_the_same_queries_for_few_and_many_rows(
        self, client: Client
    ) -> None:
        signed_in(client, Role.MANAGER)
        DeliveryFactory.create_batch(2)
        few = count_queries(lambda: client.get(LOG))
        DeliveryFactory.create_batch(20)
        assert count_queries(lambda: client.get(LOG)) == few


def count_queries(action: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


class TestResend:
    def test_a_manager_resends_a_failed_delivery_through_the_worker(
        self, client: Client, django_capture_on_commit_callbacks: Callable,
        broker_queue: redis.Redis,
    ) -> None:  # fmt: skip
        signed_in(client, Role.MANAGER)
        delivery = DeliveryFactory(
            status=Status.FAILED, attempts=7, last_error="Gave up", claim_token="t"
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                resend_url(delivery), {"next": f"{LOG}?status=failed"}
            )
        assert response.status_code == 302
        assert response["Location"] == f"{LOG}?status=failed"
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == (Status.QUEUED, 0)
        assert len(queued_jobs(broker_queue)) == 1  # published: the worker sends it

    def test_a_delivery_that_has_not_failed_is_left_alone(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        delivery = DeliveryFactory(status=Status.SENT)
        client.post(resend_url(delivery))
        delivery.refresh_from_db()
        assert delivery.status == Status.SENT

    def test_an_employee_gets_403_even_for_their_own_email(
        self, client: Client
    ) -> None:
        me = signed_in(client)
        delivery = DeliveryFactory(recipient=me, status=Status.FAILED)
        assert client.post(resend_url(delivery)).status_code == 403
        delivery.refresh_from_db()
        assert delivery.status == Status.FAILED

    def test_it_answers_only_post(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        delivery = DeliveryFactory(status=Status.FAILED)
        assert client.get(resend_url(delivery)).status_code == 405

    def test_it_needs_the_csrf_token(self) -> None:
        client = Client(enforce_csrf_checks=True)
        signed_in(client, Role.MANAGER)
        delivery = DeliveryFactory(status=Status.FAILED)
        assert client.post(resend_url(delivery)).status_code == 403

    def test_an_offsite_next_is_ignored(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        delivery = DeliveryFactory(status=Status.FAILED)
        response = client.post(resend_url(delivery), {"next": "https://evil.test/"})
        assert response["Location"] == LOG


class TestAdmin:
    def test_the_changelist_and_the_resend_action(
        self, client: Client, django_capture_on_commit_callbacks: Callable,
        broker_queue: redis.Redis,
    ) -> None:  # fmt: skip
        client.force_login(
            User.objects.create_superuser("root", "root@example.com", "Root#Pass123")
        )
        failed = DeliveryFactory(status=Status.FAILED, last_error="554 rejected")
        sent = DeliveryFactory(status=Status.SENT)
        url = reverse("admin:notifications_delivery_changelist")
        page = client.get(url, {"status__exact": "failed"})
        assert page.status_code == 200
        assert "554 rejected" in page.text
        data = {"action": "resend_failed", "_selected_action": [failed.pk, sent.pk]}
        with django_capture_on_commit_callbacks(execute=True):
            client.post(url, data)
        failed.refresh_from_db()
        sent.refresh_from_db()
        assert (failed.status, sent.status) == (Status.QUEUED, Status.SENT)
        assert (
            client.get(
                reverse("admin:django_celery_results_taskresult_changelist")
            ).status_code
            == 200
        )


class TestRunningThePipeline:
    """Admins pause, resume and cancel from the delivery log; nobody else can."""

    @pytest.mark.parametrize("role", [Role.MANAGER, Role.EMPLOYEE])
    def test_only_admins_pause_resume_or_cancel(
        self, client: Client, role: str
    ) -> None:
        signed_in(client, role)
        delivery = DeliveryFactory()
        for url in (
            reverse("notifications:pause"),
            reverse("notifications:resume"),
            reverse("notifications:cancel", args=[delivery.pk]),
        ):
            assert client.post(url).status_code == 403
        assert not SendingPause.objects.exists()
        assert Delivery.objects.get().status == Status.QUEUED

    def test_a_paused_log_says_so_to_everyone_until_resumed(
        self, client: Client, broker_queue: redis.Redis,
        django_capture_on_commit_callbacks: Callable,
    ) -> None:  # fmt: skip
        admin = signed_in(client, Role.ADMIN)
        waiting = DeliveryFactory()
        response = client.post(
            reverse("notifications:pause"), {"next": LOG}, follow=True
        )
        assert 'data-testid="pause-banner"' in response.text
        assert SendingPause.objects.current().paused_by == admin
        other = Client()
        signed_in(other, Role.EMPLOYEE)
        assert "Sending is paused" in other.get(LOG).text
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("notifications:resume"), {"next": LOG})
        assert not SendingPause.objects.exists()
        assert published_ids(broker_queue) == [waiting.pk]  # what waited goes now

    def test_an_admin_cancels_a_queued_email(self, client: Client) -> None:
        signed_in(client, Role.ADMIN)
        queued, sent = DeliveryFactory(), DeliveryFactory(status=Status.SENT)
        client.post(reverse("notifications:cancel", args=[queued.pk]))
        client.post(reverse("notifications:cancel", args=[sent.pk]))
        statuses = dict(Delivery.objects.values_list("pk", "status"))
        assert statuses == {queued.pk: Status.CANCELLED, sent.pk: Status.SENT}

    def test_a_waiting_email_says_what_it_waits_for(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        DeliveryFactory(waiting_for=Delivery.Wait.PACE)
        assert "Waiting for the send rate or daily limit" in client.get(LOG).text


class TestSuppressions:
    def test_managers_see_them_and_only_admins_lift_them(self, client: Client) -> None:
        Suppression.objects.add("Gone@Example.com", "550 5.1.1 no such user", None)
        suppression = Suppression.objects.get()
        manager = Client()
        signed_in(manager, Role.MANAGER)
        page = manager.get(reverse("notifications:suppressions")).text
        assert "gone@example.com" in page and "550 5.1.1 no such user" in page
        lift = reverse("notifications:lift-suppression", args=[suppression.pk])
        assert manager.post(lift).status_code == 403
        signed_in(client, Role.ADMIN)
        client.post(lift)
        assert not Suppression.objects.exists()

    def test_employees_do_not_see_them(self, client: Client) -> None:
        signed_in(client, Role.EMPLOYEE)
        assert client.get(reverse("notifications:suppressions")).status_code == 403


class TestPreviews:
    def test_admins_read_every_email_with_sample_data(self, client: Client) -> None:
        signed_in(client, Role.ADMIN)
        listing = client.get(reverse("notifications:previews")).text
        subject = "Subject: [Finance] Prepare the quarterly report (#42)"
        assert subject in listing
        assert "Preview text: Mia Manager commented on this task." in listing
        for kind in Kind.values:
            page = client.get(reverse("notifications:preview", args=[kind, "html"]))
            text = client.get(reverse("notifications:preview", args=[kind, "text"]))
            assert page.status_code == text.status_code == 200
            assert "<main" in page.text and "Sent by Tasks" in text.text
        assert not Delivery.objects.exists()  # nothing saved, nothing sent

    def test_nobody_else_sees_them(self, client: Client) -> None:
        signed_in(client, Role.MANAGER)
        assert client.get(reverse("notifications:previews")).status_code == 403
        url = reverse("notifications:preview", args=["task_assigned", "html"])
        assert client.get(url).status_code == 403
