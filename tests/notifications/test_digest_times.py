"""The daily digest across daylight-saving changes (Europe/Paris both ways,
Pacific/Auckland), skipped when empty, and capped. Beat is played every five
minutes with the time handed in: nothing waits for a clock."""

from __future__ import annotations

import datetime

import pytest

from devtools.smtp import SMTPServer
from notifications.contexts import DIGEST_LIMIT
from notifications.digests import record_due_digests
from notifications.models import Delivery, DigestSchedule, Preference
from notifications.sending import send_batch
from tests.factories import DeliveryFactory, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db
Kind, Status = Delivery.Kind, Delivery.Status
UTC = datetime.UTC
BEAT = datetime.timedelta(minutes=5)


def reader(zone: str, send_at: datetime.time) -> User:
    user = UserFactory(time_zone=zone)
    Preference.objects.create(
        user=user, kind=Kind.TASK_DELETED, mode=Preference.Mode.DIGEST
    )
    DigestSchedule.objects.create(user=user, send_at=send_at)
    return user


def hold(user: User, count: int = 1) -> None:
    rows = DeliveryFactory.create_batch(
        count, recipient=user, context={"title": "Dock repairs", "by": "Mia"}
    )
    assert send_batch([row.pk for row in rows]).held == count


def beat(
    user: User, start: datetime.datetime, end: datetime.datetime
) -> list[tuple[str, str]]:
    """Beat every five minutes from start to end (UTC); each digest recorded as
    (its day, the reader's local time when it was recorded)."""
    recorded = []
    now = start
    while now <= end:
        for pk in record_due_digests(now):
            day = Delivery.objects.get(pk=pk).context["day"]
            recorded.append((day, now.astimezone(user.zone).strftime("%H:%M %Z")))
        now += BEAT
    return recorded


def utc(*parts: int) -> datetime.datetime:
    return datetime.datetime(*parts, tzinfo=UTC)


def test_an_hour_paris_skips_in_spring_is_taken_as_the_next_that_exists() -> None:
    """31 March 2030: 02:00 CET becomes 03:00 CEST; a digest at 02:30 goes at
    03:00, once."""
    ann = reader("Europe/Paris", datetime.time(2, 30))
    hold(ann)
    midnight = utc(2030, 3, 30, 23)  # 00:00 CET
    assert beat(ann, midnight, utc(2030, 3, 31, 6)) == [("2030-03-31", "03:00 CEST")]


def test_an_hour_paris_lives_twice_in_autumn_sends_one_digest() -> None:
    """27 October 2030: 03:00 CEST becomes 02:00 CET, so 02:30 comes twice; what
    is held between the two waits for the next day's digest."""
    ann = reader("Europe/Paris", datetime.time(2, 30))
    hold(ann)
    first = beat(ann, utc(2030, 10, 26, 22), utc(2030, 10, 27, 0, 55))
    hold(ann)  # between the first 02:30 (00:30 UTC) and the second (01:30 UTC)
    second = beat(ann, utc(2030, 10, 27, 1), utc(2030, 10, 27, 8))
    assert (first, second) == ([("2030-10-27", "02:30 CEST")], [])
    assert Delivery.objects.filter(status=Status.HELD).count() == 1


def test_paris_digests_keep_their_local_hour_across_the_change() -> None:
    ann = reader("Europe/Paris", datetime.time(8))
    recorded = []
    for day in (29, 30, 31):
        hold(ann)
        recorded += beat(ann, utc(2030, 3, day, 0), utc(2030, 3, day, 23, 55))
    assert recorded == [
        ("2030-03-29", "08:00 CET"),
        ("2030-03-30", "08:00 CET"),
        ("2030-03-31", "08:00 CEST"),
    ]


@pytest.mark.parametrize(
    ("send_at", "start", "expected"),
    [
        # 29 September 2030: 02:00 NZST becomes 03:00 NZDT.
        (datetime.time(2, 15), utc(2030, 9, 28, 12), ("2030-09-29", "03:00 NZDT")),
        # 7 April 2030: 03:00 NZDT becomes 02:00 NZST; 02:30 comes twice.
        (datetime.time(2, 30), utc(2030, 4, 6, 11), ("2030-04-07", "02:30 NZDT")),
    ],
)
def test_auckland_s_changes_send_one_digest_at_an_hour_that_exists(
    send_at: datetime.time, start: datetime.datetime, expected: tuple[str, str]
) -> None:
    ann = reader("Pacific/Auckland", send_at)
    hold(ann)
    recorded = beat(ann, start, start + datetime.timedelta(hours=6))
    hold(ann)  # after it: waits for the next day, even in a repeated hour
    recorded += beat(ann, start + datetime.timedelta(hours=6), start + BEAT * 100)
    assert recorded == [expected]


def test_no_digest_when_nothing_is_held() -> None:
    ann = reader("Europe/Paris", datetime.time(8))
    assert beat(ann, utc(2030, 3, 4, 0), utc(2030, 3, 4, 23, 55)) == []
    assert not Delivery.objects.filter(kind=Kind.DIGEST).exists()


def test_a_digest_lists_fifty_items_and_says_how_many_more(smtp: SMTPServer) -> None:
    ann = reader("Europe/Paris", datetime.time(8))
    hold(ann, DIGEST_LIMIT + 12)
    [digest] = record_due_digests(utc(2030, 3, 4, 9))
    send_batch([digest])
    [message] = smtp.wait_for(1)
    assert message.subject.endswith(f": {DIGEST_LIMIT + 12} updates")
    text = message.body("plain")
    assert text.count("Dock repairs:") == DIGEST_LIMIT
    assert "- and 12 more: " in text
    assert "and 12 more</a>" in message.body("html")
