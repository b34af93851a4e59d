"""Due-date reminders: the day before (or N days), on the day and every day
overdue, at each person's hour in their time zone; recorded once per (task,
person, reminder, day), and sent only while they still hold."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications import reminders
from notifications.digests import record_due_digests
from notifications.models import Delivery, DigestSchedule, Preference
from notifications.preferences import modes_of
from notifications.reminders import record_due_reminders
from notifications.sending import send_batch
from tasks.models import Task
from tests.factories import TaskFactory, UserFactory, fresh
from users.models import User
from worker.jobs import send_reminders

pytestmark = pytest.mark.django_db
Kind, Mode, Status = Delivery.Kind, Preference.Mode, Delivery.Status
PARIS = ZoneInfo("Europe/Paris")
DUE = datetime.date(2030, 3, 12)  # a Tuesday; Paris is UTC+1 until 31 March


def paris(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime.datetime:
    return datetime.datetime(2030, month, day, hour, minute, tzinfo=PARIS)


def person(**schedule: object) -> User:
    user = UserFactory(time_zone="Europe/Paris")
    if schedule:
        DigestSchedule.objects.create(user=user, **schedule)
    return user


def task_for(user: User, due: datetime.date = DUE, **fields: object) -> Task:
    return TaskFactory(
        title="Quarterly report", due_date=due, assigned_to=[user], **fields
    )


def recorded(now: datetime.datetime) -> list[tuple[str, str]]:
    """What a run at `now` records: (which reminder, its day) of each row."""
    rows = Delivery.objects.filter(pk__in=record_due_reminders(now))
    return sorted((row.context["reminder"], row.context["day"]) for row in rows)


def reminder_rows() -> list[Delivery]:
    return list(Delivery.objects.filter(kind=Kind.DUE_REMINDER).order_by("pk"))


class TestWhenTheyAreRecorded:
    def test_the_day_before_on_the_day_and_each_day_overdue_at_nine(self) -> None:
        task_for(person())
        assert recorded(paris(11, 8, 59)) == []
        assert recorded(paris(11, 9, 0)) == [("before", "2030-03-11")]
        assert recorded(paris(12, 9, 30)) == [("today", "2030-03-12")]
        assert recorded(paris(13, 10)) == [("overdue", "2030-03-13")]
        assert recorded(paris(14, 23, 59)) == [("overdue", "2030-03-14")]
        assert len(reminder_rows()) == 4

    def test_each_is_recorded_once_however_often_the_job_runs(self) -> None:
        user = person()
        task_for(user)
        assert len(record_due_reminders(paris(11, 9))) == 1
        for minutes in range(1, 200, 7):
            assert (
                record_due_reminders(
                    paris(11, 9, 0) + datetime.timedelta(minutes=minutes)
                )
                == []
            )
        [row] = reminder_rows()
        assert (
            row.event_key
            == f"reminder:{row.context['task_id']}:{user.pk}:before:2030-03-11"
        )

    def test_a_second_insert_of_the_same_reminders_does_nothing(self) -> None:
        """Two beats that both found a reminder missing insert it once: the
        second insert meets the unique key and does nothing."""
        task_for(person())
        [pk] = record_due_reminders(paris(11, 9))
        twin = Delivery.objects.get(pk=pk)
        twin.pk = None  # the same reminder, as the other beat would insert it
        Delivery.objects.bulk_create([twin], ignore_conflicts=True)
        assert [row.pk for row in reminder_rows()] == [pk]

    def test_the_hour_and_the_days_are_each_persons_own(self) -> None:
        early = person(remind_at=datetime.time(7, 0), remind_days_before=3)
        task_for(early)
        task_for(person(remind_at=datetime.time(18, 0)))
        assert recorded(paris(9, 7)) == [("before", "2030-03-09")]
        assert recorded(paris(11, 17, 59)) == []  # early chose 3 days, late 18:00
        assert recorded(paris(11, 18)) == [("before", "2030-03-11")]

    def test_each_reminder_can_be_turned_off(self) -> None:
        off = {"remind_on_due_day": False, "remind_overdue": False}
        task_for(person(remind_days_before=None, **off))
        for day in (11, 12, 13):
            assert recorded(paris(day, 12)) == []

    def test_the_time_zone_is_the_persons(self) -> None:
        """09:00 in Auckland is 20:00 the day before in UTC (NZDT, +13)."""
        user = UserFactory(time_zone="Pacific/Auckland")
        task_for(user)
        utc = datetime.UTC
        assert recorded(datetime.datetime(2030, 3, 10, 19, 59, tzinfo=utc)) == []
        assert recorded(datetime.datetime(2030, 3, 10, 20, 0, tzinfo=utc)) == [
            ("before", "2030-03-11")
        ]

    def test_an_hour_that_does_not_exist_that_day_is_taken_as_the_next(self) -> None:
        """Paris skips 02:00-03:00 on 31 March 2030: a 02:30 reminder comes at
        03:00, once."""
        task_for(person(remind_at=datetime.time(2, 30)), due=datetime.date(2030, 4, 1))
        assert recorded(paris(31, 1, 59)) == []
        after_the_gap = datetime.datetime(2030, 3, 31, 1, 0, tzinfo=datetime.UTC)
        assert after_the_gap.astimezone(PARIS).hour == 3
        assert recorded(after_the_gap) == [("before", "2030-03-31")]
        assert recorded(after_the_gap + datetime.timedelta(hours=2)) == []

    def test_an_hour_that_happens_twice_that_day_reminds_once(self) -> None:
        """Paris lives 02:00-03:00 twice on 27 October 2030."""
        user = person(remind_at=datetime.time(2, 30))
        task_for(user, due=datetime.date(2030, 10, 28))
        first = datetime.datetime(2030, 10, 27, 0, 30, tzinfo=datetime.UTC)
        second = first + datetime.timedelta(hours=1)
        assert first.astimezone(PARIS).time() == second.astimezone(PARIS).time()
        assert recorded(first) == [("before", "2030-10-27")]
        assert recorded(second) == []

    def test_one_missed_while_beat_was_down_is_recorded_later_that_day(self) -> None:
        task_for(person())
        assert recorded(paris(11, 16, 45)) == [("before", "2030-03-11")]

    def test_completed_tasks_and_inactive_people_get_none(self) -> None:
        task_for(person(), status=Task.Status.COMPLETED)
        task_for(UserFactory(time_zone="Europe/Paris", is_active=False))
        assert recorded(paris(11, 12)) == []
        assert recorded(paris(14, 12)) == []

    def test_the_beat_job_records_and_publishes_them(self) -> None:
        task_for(person())
        with time_machine.travel(paris(11, 9, 5), tick=False):
            assert send_reminders.apply().get() == 1
            assert send_reminders.apply().get() == 0
        assert [row.status for row in reminder_rows()] == [Status.QUEUED]


class TestWhenTheyAreSent:
    def reminder(
        self, user: User, task: Task, day: int = 11, hour: int = 9
    ) -> Delivery:
        moment = paris(day, hour)
        with time_machine.travel(moment, tick=False):  # recorded then
            [pk] = record_due_reminders(moment)
        return Delivery.objects.get(pk=pk)

    def test_it_says_when_the_task_is_due_in_the_tasks_thread(self) -> None:
        user = person()
        task = task_for(user)
        row = self.reminder(user, task)
        with time_machine.travel(paris(11, 9, 1), tick=False):
            assert send_batch([row.pk]).sent == 1
        [email] = [m for m in mail.outbox if m.to == [user.email]]
        assert "Reminder: this task is due tomorrow," in email.body
        assert email.subject.endswith(f"Quarterly report (#{task.pk})")
        assert email.extra_headers["X-Tasks-Reason"] == "assigned"
        assert "In-Reply-To" in email.extra_headers

    def test_one_sent_after_a_downtime_goes_while_still_true(self) -> None:
        user = person()
        row = self.reminder(user, task_for(user))
        with time_machine.travel(paris(11, 23, 50), tick=False):
            assert send_batch([row.pk]).sent == 1

    @pytest.mark.parametrize(
        ("change", "why"),
        [
            ({"status": Task.Status.COMPLETED}, reminders.COMPLETED),
            ({"due_date": datetime.date(2030, 3, 20)}, reminders.REDATED),
            ({"due_date": None}, reminders.REDATED),  # no due date any more
        ],
    )
    def test_one_for_a_task_completed_or_redated_since_is_skipped(
        self, change: dict[str, object], why: str
    ) -> None:
        user = person()
        task = task_for(user)
        row = self.reminder(user, task)
        for name, value in change.items():
            setattr(task, name, value)
        task.save()
        with time_machine.travel(paris(11, 9, 1), tick=False):
            assert send_batch([row.pk]).skipped == 1
        assert (fresh(row).status, fresh(row).last_error) == (Status.SKIPPED, why)

    def test_one_a_later_reminder_replaced_is_skipped(self) -> None:
        """The workers were down from the day before to the due day: the
        due day's reminder goes, the day before's is skipped."""
        user = person()
        task = task_for(user)
        day_before = self.reminder(user, task, day=11)
        due_day = self.reminder(user, task, day=12)
        with time_machine.travel(paris(12, 9, 1), tick=False):
            report = send_batch([day_before.pk, due_day.pk])
        assert (report.sent, report.skipped) == (1, 1)
        assert fresh(day_before).last_error == reminders.SUPERSEDED
        assert fresh(due_day).status == Status.SENT

    def test_one_sent_after_its_day_says_what_is_true_then(self) -> None:
        user = person()
        row = self.reminder(user, task_for(user))  # "due tomorrow", on the 11th
        with time_machine.travel(paris(12, 7), tick=False):
            assert send_batch([row.pk]).sent == 1
        [email] = [m for m in mail.outbox if m.to == [user.email]]
        assert email.body.startswith("Reminder: this task is due today.")

    def test_one_held_overnight_by_quiet_hours_leaves_in_the_morning(
        self, smtp: SMTPServer
    ) -> None:
        """Reminders at 23:00, quiet from 22:00 to 07:00: the day before's
        reminder leaves at 07:00 on the due day, and says so."""
        user = person(
            remind_at=datetime.time(23),
            quiet_from=datetime.time(22),
            quiet_until=datetime.time(7),
        )
        row = self.reminder(user, task_for(user), hour=23)
        with time_machine.travel(paris(11, 23, 1), tick=False):
            send_batch([row.pk])
        assert smtp.received == []
        with time_machine.travel(paris(12, 7, 1), tick=False):
            assert send_batch([row.pk]).sent == 1
        [email] = smtp.received
        assert email.body().startswith("Reminder: this task is due today.")

    def test_one_its_reader_turned_off_since_is_skipped(self) -> None:
        user = person(remind_days_before=1)
        row = self.reminder(user, task_for(user))
        DigestSchedule.objects.filter(user=user).update(remind_days_before=None)
        with time_machine.travel(paris(11, 9, 1), tick=False):
            assert send_batch([row.pk]).skipped == 1
        assert fresh(row).last_error == reminders.NOT_WANTED

    def test_many_due_at_once_are_recorded_once_each(
        self, settings: DjangoSettings
    ) -> None:
        """More reminders than one query's worth of keys (the batch size)."""
        settings.NOTIFICATIONS_BATCH_SIZE = 3
        user = person()
        for _ in range(7):
            task_for(user)
        assert len(record_due_reminders(paris(11, 9))) == 7
        assert record_due_reminders(paris(11, 9, 30)) == []
        assert len(reminder_rows()) == 7

    def test_one_for_someone_no_longer_assigned_is_skipped(self) -> None:
        user = person()
        task = task_for(user)
        row = self.reminder(user, task)
        task.assigned_to.remove(user)
        with time_machine.travel(paris(11, 9, 1), tick=False):
            assert send_batch([row.pk]).skipped == 1

    def test_reminders_join_the_digest_of_those_who_chose_it(self) -> None:
        user = person(send_at=datetime.time(8, 0))
        Preference.objects.create(user=user, kind=Kind.DUE_REMINDER, mode=Mode.DIGEST)
        row = self.reminder(user, task_for(user))
        with time_machine.travel(paris(11, 9, 1), tick=False):
            assert send_batch([row.pk]).held == 1
        [digest] = record_due_digests(paris(12, 8))
        mail.outbox.clear()
        with time_machine.travel(paris(12, 8, 1), tick=False):
            assert send_batch([digest]).sent == 1
        [email] = mail.outbox
        assert "Quarterly report" in email.body
        assert "Reminder: due on" in email.body


class TestHeldByQuietTime:
    """A reminder that waits for its reader's quiet days goes when they end,
    saying what is true that day; a reminder never waits for a coalescing
    window."""

    SATURDAY = datetime.date(2030, 3, 16)

    def record_at(self, moment: datetime.datetime) -> int:
        with time_machine.travel(moment, tick=False):
            [pk] = record_due_reminders(moment)
        return pk

    def send_at(self, moment: datetime.datetime, pk: int) -> int:
        with time_machine.travel(moment, tick=False):
            return send_batch([pk]).sent

    def test_one_held_over_a_quiet_weekend_goes_on_monday_as_overdue(self) -> None:
        user = person(quiet_days="56")
        task_for(user, due=self.SATURDAY)
        pk = self.record_at(paris(16, 9))
        assert self.send_at(paris(16, 9, 1), pk) == 0
        assert fresh(Delivery.objects.get(pk=pk)).not_before == paris(18, 0)
        assert self.send_at(paris(18, 0), pk) == 1
        [email] = [m for m in mail.outbox if m.to == [user.email]]
        assert "this task was due on" in email.body
        assert "and is not completed" in email.body

    def test_of_two_held_to_the_same_end_only_the_later_goes(self) -> None:
        user = person(quiet_days="56")
        task_for(user, due=self.SATURDAY)
        saturday = self.record_at(paris(16, 9))
        self.send_at(paris(16, 9, 1), saturday)
        sunday = self.record_at(paris(17, 9))
        self.send_at(paris(17, 9, 1), sunday)
        assert self.send_at(paris(18, 0), saturday) == 0
        assert self.send_at(paris(18, 0), sunday) == 1
        assert fresh(Delivery.objects.get(pk=saturday)).last_error == (
            reminders.SUPERSEDED
        )

    def test_none_waits_for_a_coalescing_window(self, settings: DjangoSettings) -> None:
        settings.NOTIFICATIONS_COALESCE_SECONDS = 120
        user = person(remind_at=datetime.time(23, 59))
        task_for(user)
        pk = self.record_at(paris(11, 23, 59))
        assert self.send_at(paris(11, 23, 59), pk) == 1


class TestTheSettingsPage:
    PAGE = "/notifications/preferences/"

    def test_the_defaults_show(self, client: Client) -> None:
        client.force_login(person())
        page = client.get(self.PAGE).text
        assert "Due-date reminders" in page
        assert '<option value="1" selected>1 day before</option>' in page
        assert 'value="09:00"' in page

    def test_the_choices_are_saved(self, client: Client) -> None:
        user = person()
        client.force_login(user)
        chosen = {"remind_days_before": "3", "remind_overdue": "on"}
        response = client.post(self.PAGE, self.form(user, remind_at="07:15", **chosen))
        assert response.status_code == 302, response.text
        schedule = DigestSchedule.objects.get(user=user)
        assert (schedule.remind_days_before, schedule.remind_on_due_day) == (3, False)
        assert schedule.remind_overdue
        assert schedule.remind_at == datetime.time(7, 15)

    def test_no_reminder_before_is_a_choice(self, client: Client) -> None:
        user = person()
        client.force_login(user)
        client.post(self.PAGE, self.form(user, remind_days_before=""))
        schedule = DigestSchedule.objects.get(user=user)
        assert schedule.remind_days_before is None
        assert schedule.remind_at == datetime.time(9, 0)  # left empty: the default

    def form(self, user: User, **reminders: str) -> dict[str, str]:
        """The page's form as posted: every kind right away, and `reminders`."""
        return {
            "default_level": "participating",
            "digest_time": "08:00",
            **{kind: Mode.IMMEDIATE for kind in modes_of(user)},
            **reminders,
        }
