"""A request's jobs are published once its response has gone, one per lane,
each due when the first of its emails may go."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.dispatch import announce, hold_announcements, release_announcements
from notifications.models import Delivery, DigestSchedule
from tests.factories import DeliveryFactory, EmployeeFactory, TaskFactory
from tests.support.broker import Announcement

pytestmark = pytest.mark.django_db


def test_what_a_request_announces_goes_at_its_end_once_per_lane(
    announced: list[Announcement],
) -> None:
    hold_announcements()
    announce([1, 2], urgent=False)
    announce([7], urgent=True)
    announce([3], urgent=False)
    assert announced == []
    release_announcements()
    assert announced == [([7], True, 0.0), ([1, 2, 3], False, 0.0)]


def test_outside_a_request_an_announcement_goes_at_once(
    announced: list[Announcement],
) -> None:
    announce([4], urgent=False)
    assert announced == [([4], False, 0.0)]


def test_a_change_is_announced_for_when_its_window_ends(
    announced: list[Announcement], settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    change = DeliveryFactory(kind=Delivery.Kind.TASK_ASSIGNED)
    announce([change.pk], urgent=False)
    [(_, _, countdown)] = announced
    assert 119 < countdown <= 120


def test_the_soonest_window_among_the_readers_sets_the_time(
    announced: list[Announcement], settings: DjangoSettings
) -> None:
    """One reader gathers changes for 15 minutes, one for the site's two."""
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    patient, other = EmployeeFactory(), EmployeeFactory()
    DigestSchedule.objects.create(user=patient, coalesce_seconds=900)
    changes = [DeliveryFactory(recipient=person) for person in (patient, other)]
    announce([change.pk for change in changes], urgent=False)
    [(_, _, countdown)] = announced
    assert 119 < countdown <= 120


def test_assigning_people_announces_their_window_without_asking_again(
    announced: list[Announcement],
    settings: DjangoSettings,
    django_capture_on_commit_callbacks: Callable[..., Any],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    """The assignment's INSERT brings back each reader's own window: the
    announcement after the commit asks the database nothing more."""
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    task, quick, patient = TaskFactory(), EmployeeFactory(), EmployeeFactory()
    DigestSchedule.objects.create(user=quick, coalesce_seconds=30)
    DigestSchedule.objects.create(user=patient, coalesce_seconds=900)
    with django_capture_on_commit_callbacks() as callbacks:
        task.assigned_to.add(quick, patient)
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()
    [(ids, urgent, countdown)] = announced
    assert ids == sorted(Delivery.objects.values_list("pk", flat=True))
    assert not urgent
    assert 29 < countdown <= 30


def test_a_request_whose_recordings_all_knew_their_time_asks_nothing(
    announced: list[Announcement],
    django_assert_num_queries: Callable[..., Any],
) -> None:
    soon = timezone.now() + timedelta(seconds=30)
    hold_announcements()
    announce([1], urgent=False, first_due=soon + timedelta(seconds=20))
    announce([2], urgent=False, first_due=soon)
    with django_assert_num_queries(0):
        release_announcements()
    [(ids, _, countdown)] = announced
    assert ids == [1, 2]
    assert 29 < countdown <= 30


def test_a_request_with_any_part_of_unknown_time_asks_for_all_of_it(
    announced: list[Announcement], settings: DjangoSettings
) -> None:
    """One query for the lane's ids, not a guess from the part that knew."""
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    known, unknown = (DeliveryFactory(kind=Delivery.Kind.TASK_ASSIGNED) for _ in "ab")
    hold_announcements()
    announce([known.pk], urgent=False, first_due=timezone.now() + timedelta(hours=2))
    announce([unknown.pk], urgent=False)
    release_announcements()
    [(ids, _, countdown)] = announced
    assert ids == [known.pk, unknown.pk]
    assert 119 < countdown <= 120


@pytest.mark.parametrize(
    ("own_window", "attempts"),
    [(0, 0), (3600, 0), (None, 1)],
    ids=["the reader wants each change at once", "too long to hold", "tried"],
)
def test_rows_announced_for_now(
    announced: list[Announcement],
    settings: DjangoSettings,
    own_window: int | None,
    attempts: int,
) -> None:
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    person = EmployeeFactory()
    if own_window is not None:
        DigestSchedule.objects.create(user=person, coalesce_seconds=own_window)
    change = DeliveryFactory(recipient=person, attempts=attempts)
    announce([change.pk], urgent=False)
    assert announced == [([change.pk], False, 0.0)]


def test_account_emails_never_wait(
    announced: list[Announcement], settings: DjangoSettings
) -> None:
    settings.NOTIFICATIONS_COALESCE_SECONDS = 120
    activation = DeliveryFactory(kind=Delivery.Kind.ACTIVATION, context={})
    announce([activation.pk], urgent=True)
    assert announced == [([activation.pk], True, 0.0)]
