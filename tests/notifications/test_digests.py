"""Daily digests: one per person per day at their hour, gathering every held
notification once, and none twice."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from devtools.smtp import SMTPServer
from notifications.contexts import written
from notifications.digests import record_due_digests
from notifications.models import Delivery, DigestSchedule, Preference
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, TaskFactory, UserFactory, fresh, pks
from users.models import User

pytestmark = pytest.mark.django_db
Kind, Mode, Status = Delivery.Kind, Preference.Mode, Delivery.Status
UTC = datetime.UTC


def at(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2030, 3, day, hour, minute, tzinfo=UTC)


def reader(send_at: datetime.time = datetime.time(8, 0)) -> User:
    user = UserFactory()
    for kind in (Kind.TASK_ASSIGNED, Kind.TASK_DELETED):
        Preference.objects.create(user=user, kind=kind, mode=Mode.DIGEST)
    DigestSchedule.objects.create(user=user, send_at=send_at)
    return user


def held(user: User, title: str) -> Delivery:
    delivery = DeliveryFactory(recipient=user, context={"title": title, "by": "Mia"})
    assert send_batch([delivery.pk]).held == 1
    return fresh(delivery)


def test_nothing_before_the_hour_then_one_digest_with_everything_held() -> None:
    user = reader()
    first, second = held(user, "Alpha"), held(user, "Beta")
    assert record_due_digests(at(5, 7, 59)) == []
    [digest_id] = record_due_digests(at(5, 8, 1))
    digest = Delivery.objects.get(pk=digest_id)
    assert (digest.kind, digest.recipient, digest.status) == (
        Kind.DIGEST, user, Status.QUEUED
    )  # fmt: skip
    assert {fresh(first).digest, fresh(second).digest} == {digest}
    assert {first.status, second.status} == {Status.BUNDLED}


def test_one_digest_a_day_and_later_events_wait_for_the_next() -> None:
    user = reader()
    held(user, "Alpha")
    [monday] = record_due_digests(at(5, 9))
    late = held(user, "Arrived after the digest was built")
    assert record_due_digests(at(5, 23)) == []  # the day's digest exists
    assert fresh(late).status == Status.HELD  # not lost: waiting
    [tuesday] = record_due_digests(at(6, 8))
    assert fresh(late).digest_id == tuesday != monday


def test_the_hour_is_the_persons_own() -> None:
    early, late = reader(datetime.time(6, 0)), reader(datetime.time(20, 0))
    held(early, "A"), held(late, "B")
    assert [
        Delivery.objects.get(pk=pk).recipient for pk in record_due_digests(at(5, 7))
    ] == [early]


def test_the_digest_email_lists_every_event_once(smtp: SMTPServer) -> None:
    user = reader(datetime.time(0, 0))
    held(user, "Gone task")
    TaskFactory(title="Quarterly report", assigned_to=[user])
    assigned = Delivery.objects.get(recipient=user, kind=Kind.TASK_ASSIGNED)
    Delivery.objects.filter(pk=assigned.pk).update(
        context={**assigned.context, "by": "Mia"}
    )
    send_batch([assigned.pk])
    ids = record_due_digests(timezone.now())
    assert send_batch(ids).sent == 1
    [message] = smtp.received
    day = Delivery.objects.get(pk__in=ids).context["day"]  # the reader's today
    assert message.subject == f"Your daily digest for {written(day)}: 2 updates"
    body = message.body()
    assert "Gone task: Mia deleted this task." in body
    assert "Quarterly report: Mia assigned you this task." in body
    assert "/notifications/unsubscribe/" in message.message["List-Unsubscribe"]
    assert not Delivery.objects.filter(status=Status.HELD).exists()
    assert send_batch(pks([assigned])).sent == 0  # bundled rows are never sent alone


def test_a_digest_says_the_new_kinds_in_their_own_words(smtp: SMTPServer) -> None:
    user = reader(datetime.time(0, 0))
    for kind in (Kind.MENTIONED, Kind.STATUS_CHANGED, Kind.TASK_CREATED):
        Preference.objects.create(user=user, kind=kind, mode=Preference.Mode.DIGEST)
    DeliveryFactory(
        recipient=user, kind=Kind.STATUS_CHANGED, status=Status.HELD,
        context={"title": "Audit", "by": "Mia", "before": "PENDING",
                 "after": "IN_PROGRESS"},
    )  # fmt: skip
    DeliveryFactory(
        recipient=user, kind=Kind.MENTIONED, status=Status.HELD,
        context={"title": "Audit", "by": "Bob", "excerpt": "@you look"},
    )  # fmt: skip
    assert send_batch(record_due_digests(timezone.now())).sent == 1
    body = smtp.received[0].body()
    assert "Audit: Mia changed the status from Pending to In progress." in body
    assert "Audit: Bob mentioned you: “@you look”" in body
