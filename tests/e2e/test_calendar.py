"""The calendar event of an assignment email, through the real worker process,
read at the suite's SMTP server."""

from __future__ import annotations

import datetime

import pytest
from icalendar import Calendar

from devtools.processes import Process
from devtools.smtp import SMTPServer
from notifications.calendars import event_uid
from tests.factories import TaskFactory, UserFactory
from tests.support.mail import arrived
from users.models import Role

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_assignment_email_carries_the_tasks_event(
    worker: Process, smtp_server: SMTPServer
) -> None:
    ann = UserFactory(role=Role.EMPLOYEE)
    due = datetime.date(2030, 3, 29)
    task = TaskFactory(title="Quarterly report", due_date=due, assigned_to=[ann])
    [message] = arrived(smtp_server, 1)
    [part] = [p for p in message.message.walk() if p.get_filename() == "due-date.ics"]
    assert part.get_content_type() == "text/calendar"
    [event] = Calendar.from_ical(part.get_payload(decode=True)).walk("VEVENT")
    assert (str(event["uid"]), event.decoded("dtstart")) == (event_uid(task.pk), due)
    assert str(event["summary"]) == "Due: Quarterly report"
