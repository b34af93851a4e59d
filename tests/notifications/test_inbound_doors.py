"""Real messages (tests/notifications/inbound/) through each of the three doors
(the pipe, the inbound SMTP listener, an ESP's webhook) give the same comments,
bounces and complaints, and the same message twice is taken once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.addresses import bounce_address, reply_address
from notifications.emails import message_id_for
from notifications.models import (
    Bounce,
    Complaint,
    Delivery,
    InboundMessage,
    Suppression,
)
from tasks.models import Activity, Comment, Task
from tests.factories import (
    DeliveryFactory,
    EmployeeFactory,
    ManagerFactory,
    TaskFactory,
)
from tests.notifications.inbound_doors import (
    INBOUND_DOMAIN,
    MAILGUN_KEY,
    fixture,
    inbound_listener,
    smtp_send,
    via_pipe,
    via_webhook,
)
from users.models import User

# The SMTP listener works in a thread of its own: it must see committed rows.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
Status = Delivery.Status
DOORS = ["pipe", "smtp", "webhook"]
# What each door answers a message it took (or deliberately ignored).
TAKEN = {"pipe": 0, "smtp": "250 taken", "webhook": 200}

BOUNCES = {  # fixture: (kind, suppressed, words of the reason)
    "bounce_gmail.eml": ("hard", True, "550-5.1.1 The email account that you"),
    "bounce_outlook.eml": ("hard", True, "5.1.10 RESOLVER.ADR.RecipientNotFound"),
    "bounce_exim.eml": ("hard", True, "550 5.1.1 <ann@example.net>: Recipient"),
    "bounce_amazon_ses.eml": ("hard", True, "550 5.1.1 user unknown"),
    "bounce_postfix_mailbox_full.eml": ("soft", False, "452 4.2.2"),
}
NOT_BOUNCES = {  # fixture: what it is
    "delay_postfix.eml": InboundMessage.Kind.BOUNCE,
    "out_of_office_exchange.eml": InboundMessage.Kind.AUTO_REPLY,
}
REPLIES = {
    "reply_gmail.eml": "I'll have the figures from every team by Thursday, and the "
    "summary on Friday.",
    "reply_outlook.eml": "The ledger check is done; two figures from May were wrong "
    "and are fixed in the sheet.",
    "reply_apple_mail.eml": "Could we move the review to Monday? Finance closes the "
    "books on Friday.",
    "reply_thunderbird.eml": "Done: the summary is in the shared folder, two pages as "
    "the board asked.",
    "reply_html_only.eml": "The numbers are final now & checked.\n\nSecond paragraph.",
}


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


@pytest.fixture
def sent(ann: User, task: Task) -> Delivery:
    """The assignment email Ann was sent, as the worker left it."""
    delivery = DeliveryFactory(
        kind=Delivery.Kind.TASK_ASSIGNED,
        recipient=ann,
        context={"task_id": task.pk, "title": task.title},
        status=Status.SENT,
        sent_at=timezone.now(),
    )
    delivery.message_id = message_id_for(delivery)
    delivery.save(update_fields=["message_id"])
    return delivery


@pytest.fixture
def listener() -> Iterator[int]:
    with inbound_listener() as port:
        yield port


def knock(door: str, raw: bytes, recipient: str, port: int) -> object:
    if door == "pipe":
        return via_pipe(raw, recipient)
    if door == "smtp":
        return smtp_send(port, raw, recipient)
    return via_webhook(raw, recipient)


def values(delivery: Delivery, ann: User, task: Task) -> dict[str, str]:
    return {
        "BOUNCES": bounce_address(delivery.pk),
        "REPLY": reply_address(ann.pk, task.pk),
        "RECIPIENT": ann.email,
        "MESSAGE_ID": delivery.message_id,
    }


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", sorted(BOUNCES))
def test_a_bounce_report_marks_its_delivery_bounced(
    name: str, door: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    kind, suppressed, reason = BOUNCES[name]
    raw = fixture(name, **values(sent, ann, task))
    assert knock(door, raw, bounce_address(sent.pk), listener) == TAKEN[door]
    sent.refresh_from_db()
    assert sent.status == Status.BOUNCED
    assert reason in sent.last_error and sent.bounced_at is not None
    assert Bounce.objects.get(delivery=sent).kind == kind
    assert Suppression.objects.filter(address=ann.email).exists() is suppressed


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", sorted(NOT_BOUNCES))
def test_a_delay_warning_or_an_out_of_office_is_no_bounce(
    name: str, door: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    raw = fixture(name, TO=bounce_address(sent.pk), **values(sent, ann, task))
    assert knock(door, raw, bounce_address(sent.pk), listener) == TAKEN[door]
    assert Delivery.objects.get(pk=sent.pk).status == Status.SENT
    assert not Bounce.objects.exists() and not Suppression.objects.exists()
    kept = InboundMessage.objects.get()
    assert (kept.kind, kept.outcome) == (NOT_BOUNCES[name], "ignored")


@pytest.mark.parametrize("door", DOORS)
def test_a_complaint_turns_off_the_persons_notification_emails(
    door: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    raw = fixture("complaint_arf.eml", **values(sent, ann, task))
    assert knock(door, raw, bounce_address(sent.pk), listener) == TAKEN[door]
    complaint = Complaint.objects.get()
    assert (complaint.user, complaint.delivery) == (ann, sent)
    assert complaint.source == "ARF abuse report from mail.hotmail.com"
    assert Complaint.objects.people_among([ann.pk]) == {ann.pk}
    assert Delivery.objects.get(pk=sent.pk).status == Status.SENT


@pytest.mark.parametrize("door", DOORS)
@pytest.mark.parametrize("name", sorted(REPLIES))
def test_a_reply_becomes_the_persons_comment_on_the_task(
    name: str, door: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    manager = ManagerFactory()
    task.created_by = manager
    task.save(update_fields=["created_by"])
    raw = fixture(name, **values(sent, ann, task))
    assert knock(door, raw, reply_address(ann.pk, task.pk), listener) == TAKEN[door]
    comment = Comment.objects.get()
    assert (comment.task, comment.author, comment.body) == (task, ann, REPLIES[name])
    # Through tasks' own path: in the history, and the others are told.
    assert Activity.objects.filter(verb="commented", comment=comment).exists()
    told = Delivery.objects.filter(kind=Delivery.Kind.TASK_COMMENTED)
    assert list(told.values_list("recipient", flat=True)) == [manager.pk]


@pytest.mark.parametrize("door", DOORS)
def test_an_out_of_office_to_a_reply_address_is_no_comment(
    door: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    to = reply_address(ann.pk, task.pk)
    raw = fixture("out_of_office_exchange.eml", TO=to, **values(sent, ann, task))
    emails = Delivery.objects.count()
    assert knock(door, raw, to, listener) == TAKEN[door]
    assert not Comment.objects.exists()
    assert Delivery.objects.count() == emails  # nobody was answered


@pytest.mark.parametrize(
    "name", ["reply_gmail.eml", "bounce_gmail.eml", "complaint_arf.eml"]
)
def test_the_same_message_through_all_three_doors_is_taken_once(
    name: str, sent: Delivery, ann: User, task: Task, listener: int
) -> None:
    to = reply_address(ann.pk, task.pk) if "reply" in name else bounce_address(sent.pk)
    raw = fixture(name, **values(sent, ann, task))
    answers = [knock(door, raw, to, listener) for door in DOORS * 2]
    assert answers == [TAKEN[door] for door in DOORS * 2]
    assert InboundMessage.objects.count() == 1
    assert Comment.objects.count() == (1 if "reply" in name else 0)
    assert Bounce.objects.count() == (1 if "bounce" in name else 0)
    assert Complaint.objects.count() == (1 if "complaint" in name else 0)
