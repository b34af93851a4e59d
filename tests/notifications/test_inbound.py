"""Mail that comes back, rule by rule: signed addresses on every email, replies
refused for good reasons (and their person told once an hour), bounces that
suppress, complaints that turn notification emails off, and hostile input
refused with nothing else changed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications.addresses import (
    LOCAL_PART_MAX,
    BounceTo,
    ReplyTo,
    bounce_address,
    read_address,
    reply_address,
)
from notifications.emails import build_message
from notifications.feedback import record_bounce, record_complaint
from notifications.inbound import Verdict, receive
from notifications.models import (
    Bounce,
    Complaint,
    Delivery,
    InboundMessage,
    Suppression,
)
from notifications.sending import send_batch
from tasks.models import Comment, Task
from tests.factories import DeliveryFactory, EmployeeFactory, TaskFactory, fresh
from tests.notifications.inbound_doors import (
    INBOUND_DOMAIN,
    MAILGUN_KEY,
    reply,
    sent_to,
)
from users.models import User

pytestmark = pytest.mark.django_db
Status = Delivery.Status
Kind = Delivery.Kind


@pytest.fixture(autouse=True)
def inbound_settings(settings: DjangoSettings) -> None:
    settings.INBOUND_DOMAIN = INBOUND_DOMAIN
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


@pytest.fixture
def ann() -> User:
    return EmployeeFactory(first_name="Ann", email="ann@example.net")


@pytest.fixture
def task(ann: User) -> Task:
    return TaskFactory(title="Prepare the quarterly report", assigned_to=[ann])


def refusal_notices(user: User) -> int:
    return Delivery.objects.filter(recipient=user, kind=Kind.REPLY_REFUSED).count()


class TestSignedAddresses:
    def test_each_names_what_it_was_made_for_in_any_case(self) -> None:
        bounce, answer = bounce_address(123_456_789), reply_address(42, 987_654)
        assert read_address(bounce.upper()) == BounceTo(123_456_789)
        assert read_address(f"<{answer}>") == ReplyTo(42, 987_654)
        assert all(len(a.split("@")[0]) <= LOCAL_PART_MAX for a in (bounce, answer))
        assert read_address(reply_address(2**53, 2**53)) == ReplyTo(2**53, 2**53)

    def test_a_forged_moved_or_foreign_token_names_nothing(self) -> None:
        genuine = reply_address(42, 7)
        local, domain = genuine.split("@")
        use, token = local.split("+")
        payload, signature = token.split(".")
        flipped = signature[:-1] + ("a" if signature[-1] != "a" else "b")
        assert read_address(f"{use}+{payload}.{flipped}@{domain}") is None
        # Another person's or task's payload under this signature.
        assert read_address(f"{use}+1-7.{signature}@{domain}") is None
        # The bounce address's token is no reply token.
        bounce_token = bounce_address(42).split("+")[1]
        assert read_address(f"reply+{bounce_token}") is None
        assert read_address(genuine.replace(INBOUND_DOMAIN, "example.org")) is None
        with override_settings(SECRET_KEY="another-deployment-" + "k" * 40):
            foreign = bounce_address(42)
        assert read_address(foreign) is None


class TestOutgoingEmails:
    def test_a_task_email_answers_to_its_person_and_bounces_to_its_delivery(
        self, ann: User, task: Task
    ) -> None:
        delivery = DeliveryFactory(
            kind=Kind.TASK_ASSIGNED, recipient=ann, context={"task_id": task.pk}
        )
        message = build_message(delivery)
        assert message.from_email == bounce_address(delivery.pk)
        assert message.message()["From"] == "Tasks <noreply@example.com>"
        assert message.message()["Reply-To"] == reply_address(ann.pk, task.pk)

    def test_an_account_email_bounces_to_its_delivery_and_takes_no_reply(
        self, ann: User
    ) -> None:
        ann.is_active, ann.activated_at = False, None
        ann.save()
        delivery = DeliveryFactory(kind=Kind.ACTIVATION, recipient=ann, context={})
        message = build_message(delivery)
        assert message.from_email == bounce_address(delivery.pk)
        assert message.message()["Reply-To"] is None

    def test_without_an_inbound_domain_the_envelope_is_the_from_address(
        self, ann: User, task: Task, settings: DjangoSettings
    ) -> None:
        settings.INBOUND_DOMAIN = ""
        delivery = DeliveryFactory(
            kind=Kind.TASK_ASSIGNED, recipient=ann, context={"task_id": task.pk}
        )
        message = build_message(delivery)
        assert message.from_email == "Tasks <noreply@example.com>"
        assert message.message()["Reply-To"] is None

    def test_the_smtp_server_sees_the_signed_envelope_sender(
        self, ann: User, task: Task, smtp: SMTPServer, settings: DjangoSettings
    ) -> None:
        settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
        delivery = DeliveryFactory(
            kind=Kind.TASK_ASSIGNED, recipient=ann, context={"task_id": task.pk}
        )
        send_batch([delivery.pk])
        [received] = smtp.received
        assert received.mail_from == bounce_address(delivery.pk)
        assert received.message["From"] == "Tasks <noreply@example.com>"
        assert received.message["Reply-To"] == reply_address(ann.pk, task.pk)


class TestRefusedReplies:
    def test_a_reply_from_another_address_is_refused_and_its_person_told(
        self, ann: User, task: Task
    ) -> None:
        raw = reply(ann, task, "Posting as Ann", From="mallory@example.org")
        assert receive(raw).verdict == Verdict.REFUSED
        assert not Comment.objects.exists()
        kept = InboundMessage.objects.get()
        assert (kept.outcome, kept.user) == ("refused", ann)
        assert "not the one of your account" in kept.reason
        [notice] = Delivery.objects.filter(kind=Kind.REPLY_REFUSED)
        assert notice.recipient == ann and notice.address == ann.email

    def test_a_person_who_can_no_longer_see_the_task_cannot_comment(
        self, ann: User, task: Task
    ) -> None:
        task.assigned_to.remove(ann)
        assert receive(reply(ann, task, "Still here?")).verdict == Verdict.REFUSED
        assert not Comment.objects.exists()
        assert InboundMessage.objects.get().reason == "you can no longer see this task"

    def test_a_reply_of_quoted_text_only_is_refused(
        self, ann: User, task: Task
    ) -> None:
        raw = reply(ann, task, "On Tue, Tasks wrote:\n> Hello Ann,\n> a task")
        assert receive(raw).verdict == Verdict.REFUSED
        assert not Comment.objects.exists()

    def test_our_own_mail_coming_back_is_never_answered(
        self, ann: User, task: Task
    ) -> None:
        raw = reply(ann, task, "Hello Ann", From="Tasks <noreply@example.com>")
        assert receive(raw).verdict == Verdict.IGNORED
        assert not Comment.objects.exists() and refusal_notices(ann) == 0

    def test_a_reply_bomb_posts_the_hours_share_and_tells_its_person_once(
        self, ann: User, task: Task, settings: DjangoSettings
    ) -> None:
        verdicts = [
            receive(reply(ann, task, f"Reply number {n}", number=n)).verdict
            for n in range(100)
        ]
        limit = settings.INBOUND_REPLIES_PER_HOUR
        assert verdicts == [Verdict.TAKEN] * limit + [Verdict.REFUSED] * (100 - limit)
        assert Comment.objects.count() == limit
        assert refusal_notices(ann) == 1

    def test_the_refusal_notice_goes_again_after_an_hour(
        self, ann: User, task: Task
    ) -> None:
        receive(reply(ann, task, "x", number=1, From="m@example.org"))
        # As recorded an hour and a minute ago (in that hour's bucket).
        Delivery.objects.filter(kind=Kind.REPLY_REFUSED).update(
            created_at=timezone.now() - timedelta(minutes=61),
            event_key=f"{Kind.REPLY_REFUSED}:{ann.pk}:an-hour-ago",
        )
        receive(reply(ann, task, "y", number=2, From="m@example.org"))
        assert refusal_notices(ann) == 2


class TestBouncesAndComplaints:
    def test_three_soft_bounces_within_seven_days_suppress_the_address(
        self, ann: User
    ) -> None:
        now = timezone.now()
        old = sent_to(ann)
        record_bounce(old, "soft", "452 4.2.2 Mailbox full", now - timedelta(days=8))
        for days in (2, 1):
            record_bounce(sent_to(ann), "soft", "452 4.2.2 full", now - timedelta(days))
        assert not Suppression.objects.exists()
        record_bounce(sent_to(ann), "soft", "452 4.2.2 Mailbox full", now)
        assert "3 soft bounces within 7 days" in Suppression.objects.get().reason

    def test_a_bounce_heard_twice_counts_once_and_an_unsent_email_never(
        self, ann: User
    ) -> None:
        delivery, queued = sent_to(ann), DeliveryFactory(recipient=ann)
        assert record_bounce(delivery, "hard", "550 5.1.1 unknown", timezone.now())
        assert not record_bounce(delivery, "hard", "550 5.1.1", timezone.now())
        assert not record_bounce(queued, "hard", "550 5.1.1", timezone.now())
        assert Bounce.objects.count() == 1 and fresh(queued).status == Status.QUEUED

    def test_a_complaint_stops_notifications_but_not_account_emails(
        self, ann: User, task: Task
    ) -> None:
        assert record_complaint(ann, "Amazon SES")
        assert not record_complaint(ann, "Amazon SES")  # heard before
        notification = DeliveryFactory(
            kind=Kind.TASK_ASSIGNED, recipient=ann, context={"task_id": task.pk}
        )
        reset = DeliveryFactory(kind=Kind.PASSWORD_RESET, recipient=ann, context={})
        send_batch([notification.pk, reset.pk])
        assert fresh(notification).status == Status.SKIPPED
        assert "reported our email as spam" in fresh(notification).last_error
        assert fresh(reset).status == Status.SENT
        assert [m.to for m in mail.outbox] == [[ann.email]]

    def test_a_complaint_about_an_invitation_touches_only_the_invited_address(
        self, ann: User
    ) -> None:
        """The invitation is its Admin's row, sent to someone else's address:
        the Admin's emails go on; nothing more goes to that address."""
        invitation = DeliveryFactory(
            kind=Kind.INVITATION, recipient=ann, context={"to": "noor@example.com"}
        )
        assert record_complaint(invitation, "ARF abuse report")
        assert not record_complaint(invitation, "ARF abuse report")  # heard before
        assert Complaint.objects.people_among([ann.pk]) == set()
        assert list(Suppression.objects.values_list("address", flat=True)) == [
            "noor@example.com"
        ]

    def test_the_settings_page_says_why_and_turns_them_back_on(
        self, ann: User, client: Client
    ) -> None:
        record_complaint(sent_to(ann), "ARF abuse report from mail.hotmail.com")
        client.force_login(ann)
        page = client.get("/notifications/preferences/").content.decode()
        assert "Notification emails are off" in page
        assert "ARF abuse report from mail.hotmail.com" in page
        client.post("/notifications/preferences/resume/")
        assert Complaint.objects.people_among([ann.pk]) == set()
        page = client.get("/notifications/preferences/").content.decode()
        assert "Notification emails are off" not in page

    def test_the_delivery_log_says_bounced_when_and_why(
        self, ann: User, client: Client
    ) -> None:
        delivery = sent_to(ann)
        record_bounce(delivery, "hard", "550 5.1.1 no such user", timezone.now())
        client.force_login(ann)
        page = client.get("/notifications/").content.decode()
        assert "Bounced <time" in page
        assert "hard bounce: 550 5.1.1 no such user" in page
