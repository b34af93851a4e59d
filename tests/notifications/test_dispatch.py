"""A request's jobs are published once its response has gone, one per lane,
each due when the first of its emails may go."""

from __future__ import annotations

import pytest
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.dispatch import announce, hold_announcements, release_announcements
from notifications.models import Delivery, DigestSchedule
from tests.factories import DeliveryFactory, EmployeeFactory
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
