"""Due dates in calendars: the .ics event that assignment and due-date emails
carry (read at a real SMTP server), and each person's private, revocable feed."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from icalendar import Calendar, Event

from devtools.smtp import Received, SMTPServer
from notifications import calendars
from notifications.models import CalendarFeed, Delivery
from notifications.sending import send_batch
from tasks.models import Task
from tests.factories import TaskFactory, UserFactory
from users.models import User

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind
PAGE = "/notifications/preferences/"


def events_in(ics: bytes) -> list[Event]:
    return list(Calendar.from_ical(ics).walk("VEVENT"))


def attached_events(message: Received) -> list[Event]:
    """The events of the message's .ics attachment (none without one)."""
    parts = [
        p for p in message.message.walk() if p.get_content_type() == "text/calendar"
    ]
    assert len(parts) <= 1
    return [e for part in parts for e in events_in(part.get_payload(decode=True))]


def send_all_to(user: User, kind: str) -> None:
    rows = Delivery.objects.filter(recipient=user, kind=kind)
    assert send_batch(list(rows.values_list("pk", flat=True))).sent == rows.count() == 1


class TestTheEmailsEvent:
    def test_an_assignment_carries_the_tasks_due_date_as_an_event(
        self, smtp: SMTPServer
    ) -> None:
        ann = UserFactory()
        task = TaskFactory(
            title="Quarterly report",
            due_date=datetime.date(2030, 3, 29),
            assigned_to=[ann],
        )
        send_all_to(ann, Kind.TASK_ASSIGNED)
        [message] = smtp.received
        [event] = attached_events(message)
        assert event.decoded("dtstart") == datetime.date(2030, 3, 29)
        assert event.decoded("dtend") == datetime.date(2030, 3, 30)
        assert str(event["summary"]) == "Due: Quarterly report"
        assert str(event["uid"]) == calendars.event_uid(task.pk)
        assert str(event["url"]).endswith(f"/tasks/{task.pk}/")
        [part] = [p for p in message.message.walk() if p.get_filename()]
        assert part.get_filename() == "due-date.ics"
        assert part.get_param("method") == "PUBLISH"
        assert "Quarterly report" in message.body()  # the body is still there

    def test_a_new_due_date_updates_the_same_event(self, smtp: SMTPServer) -> None:
        ann = UserFactory()
        task = TaskFactory(due_date=datetime.date(2030, 3, 29), assigned_to=[ann])
        send_all_to(ann, Kind.TASK_ASSIGNED)
        task.due_date = datetime.date(2030, 4, 5)
        task.save()
        send_all_to(ann, Kind.DUE_DATE_CHANGED)
        [first], [second] = (attached_events(m) for m in smtp.received)
        assert str(first["uid"]) == str(second["uid"])
        assert second.decoded("dtstart") == datetime.date(2030, 4, 5)
        assert int(second["sequence"]) > int(first["sequence"])

    def test_other_emails_carry_no_event(self, smtp: SMTPServer) -> None:
        ann = UserFactory()
        task = TaskFactory(assigned_to=[ann])
        task.status = Task.Status.IN_PROGRESS
        task.save()
        send_all_to(ann, Kind.STATUS_CHANGED)
        assert attached_events(smtp.received[0]) == []

    def test_a_task_without_a_due_date_carries_no_event(self, smtp: SMTPServer) -> None:
        ann = UserFactory()
        TaskFactory(due_date=None, assigned_to=[ann])
        send_all_to(ann, Kind.TASK_ASSIGNED)
        assert attached_events(smtp.received[0]) == []


class TestTheFeed:
    def feed_url(self, user: User) -> str:
        return calendars.feed_link(calendars.start_feed(user)).removeprefix(
            "http://testserver"
        )

    def path_of(self, link: str) -> str:
        return "/" + link.split("/", 3)[3]

    def test_it_lists_the_persons_open_tasks_due_dates(self, client: Client) -> None:
        ann, bob = UserFactory(), UserFactory()
        mine = TaskFactory(
            title="Mine", due_date=datetime.date(2030, 5, 2), assigned_to=[ann]
        )
        TaskFactory(title="Done", assigned_to=[ann], status=Task.Status.COMPLETED)
        TaskFactory(title="Bob's", assigned_to=[bob])
        TaskFactory(title="Some day", due_date=None, assigned_to=[ann])
        response = client.get(
            self.path_of(calendars.feed_link(calendars.start_feed(ann)))
        )
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        [event] = events_in(response.content)
        assert str(event["summary"]) == "Due: Mine"
        assert event.decoded("dtstart") == datetime.date(2030, 5, 2)
        assert str(event["uid"]) == calendars.event_uid(mine.pk)  # as in the emails

    def test_its_link_names_no_address(self) -> None:
        ann = UserFactory(email="ann.private@example.com")
        link = calendars.feed_link(calendars.start_feed(ann))
        assert "/calendar/" in link and link.endswith(".ics")
        assert "@" not in link and "ann" not in link.lower()

    def test_a_revoked_or_forged_link_answers_404(self, client: Client) -> None:
        ann = UserFactory()
        old = self.path_of(calendars.feed_link(calendars.start_feed(ann)))
        new = self.path_of(calendars.feed_link(calendars.start_feed(ann)))
        assert client.get(new).status_code == 200
        assert client.get(old).status_code == 404  # a new link revokes the old
        forged = new[:-10] + ("A" if new[-10] != "A" else "B") + new[-9:]
        assert client.get(forged).status_code == 404
        assert client.get("/calendar/nonsense.ics").status_code == 404
        calendars.stop_feed(ann)
        assert client.get(new).status_code == 404

    def test_someone_elses_generation_does_not_open_a_feed(
        self, client: Client
    ) -> None:
        """A token is signed over (person, generation): Bob's own valid token
        with Ann's id in it is a forgery."""
        ann, bob = UserFactory(), UserFactory()
        calendars.start_feed(ann)
        bobs = calendars.start_feed(bob)
        token = calendars.feed_token(bobs)
        payload, signature = token.rsplit(":", 1)
        other = calendars.SIGNER.sign_object([ann.pk, 1]).rsplit(":", 1)[0]
        assert client.get(f"/calendar/{other}:{signature}.ics").status_code == 404
        assert client.get(f"/calendar/{payload}:{signature}.ics").status_code == 200

    def test_a_deactivated_account_has_no_feed(self, client: Client) -> None:
        ann = UserFactory()
        path = self.path_of(calendars.feed_link(calendars.start_feed(ann)))
        User.objects.filter(pk=ann.pk).update(is_active=False)
        assert client.get(path).status_code == 404


class TestTheSettings:
    def test_a_person_gets_copies_renews_and_turns_off_their_link(
        self, client: Client
    ) -> None:
        ann = UserFactory()
        client.force_login(ann)
        assert "Get my calendar link" in client.get(PAGE).text
        response = client.post("/notifications/calendar/", {"action": "new"})
        assert response["Location"] == PAGE + "#calendar"
        page = client.get(PAGE).text
        first = calendars.feed_link(CalendarFeed.objects.get(user=ann))
        assert f'value="{first}"' in page and "Copy link" in page
        client.post("/notifications/calendar/", {"action": "new"})
        second = calendars.feed_link(CalendarFeed.objects.get(user=ann))
        assert second != first and f'value="{second}"' in client.get(PAGE).text
        client.post("/notifications/calendar/", {"action": "off"})
        assert "Get my calendar link" in client.get(PAGE).text
        assert calendars.owner_of(second.rsplit("/", 1)[1].removesuffix(".ics")) is None

    def test_changing_it_needs_a_signed_in_post(self, client: Client) -> None:
        assert client.post("/notifications/calendar/").status_code == 302  # sign in
        client.force_login(UserFactory())
        assert client.get("/notifications/calendar/").status_code == 405
