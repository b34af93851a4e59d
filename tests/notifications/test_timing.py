"""When emails leave (notifications/timing.py): coalescing windows and quiet
hours, through the real batch run and a real SMTP server, with time injected
(time-machine): nothing here waits for a clock."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils.timezone import now as timezone_now
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import SMTPServer
from notifications import timing
from notifications.contexts import written
from notifications.models import Delivery, DigestSchedule
from notifications.sending import send_batch
from notifications.timing import Timing
from tasks.models import Task
from tests.factories import ManagerFactory, TaskFactory, UserFactory
from users.models import Role, User

pytestmark = pytest.mark.django_db
Status, Kind = Delivery.Status, Delivery.Kind
UTC = datetime.UTC
PARIS = ZoneInfo("Europe/Paris")
START = datetime.datetime(2030, 3, 4, 10, 0, tzinfo=UTC)  # a Monday
WINDOW = 120


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def window(settings: DjangoSettings) -> int:
    settings.NOTIFICATIONS_COALESCE_SECONDS = WINDOW
    return WINDOW


def send_queued() -> None:
    """What the worker does with every queued row: its jobs, run here."""
    send_batch(
        list(Delivery.objects.filter(status=Status.QUEUED).values_list("pk", flat=True))
    )


def later(clock: time_machine.Traveller, seconds: float) -> None:
    clock.shift(datetime.timedelta(seconds=seconds))


def assigned_task(*people: User, due: datetime.date | None = None) -> Task:
    return TaskFactory(
        title="Harbour survey",
        assigned_to=list(people),
        due_date=due or datetime.date(2030, 4, 1),
    )


def redate(task: Task, *days: int) -> None:
    for day in days:
        task.due_date = datetime.date(2030, 4, day)
        task.save()


def status_of(kind: str) -> list[tuple[str, str]]:
    rows = Delivery.objects.filter(kind=kind).order_by("pk")
    return list(rows.values_list("status", "last_error"))


class TestCoalescing:
    def test_three_new_due_dates_in_the_window_make_one_email_with_the_last(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann, bob = UserFactory.create_batch(2, role=Role.EMPLOYEE)
        task = assigned_task(ann, bob)
        later(clock, window + 1)
        send_queued()
        smtp.wait_for(2)  # the assignments, once their window ended
        smtp.sink.clear()

        redate(task, 5)
        later(clock, 30)
        redate(task, 9, 12)
        send_queued()
        assert smtp.received == []  # the window of the first change is open
        later(clock, window - 30)
        send_queued()

        messages = smtp.wait_for(2)
        assert sorted(m.rcpt_tos[0] for m in messages) == sorted([ann.email, bob.email])
        body = messages[0].body()
        assert body.startswith("3 changes to this task")
        assert f"Due: {written(datetime.date(2030, 4, 12))}" in body
        assert (
            messages[0].subject == f"[{task.project.name}] Harbour survey (#{task.pk})"
        )
        assert sorted(s for s, _ in status_of(Kind.DUE_DATE_CHANGED)) == [
            Status.BUNDLED] * 4 + [Status.SENT] * 2  # fmt: skip

    def test_an_assignment_undone_within_the_window_sends_nothing(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task()
        task.assigned_to.add(ann)
        later(clock, 20)
        task.assigned_to.remove(ann)
        send_queued()
        later(clock, window)
        send_queued()
        assert smtp.received == []
        assert (
            status_of(Kind.TASK_ASSIGNED) + status_of(Kind.TASK_UNASSIGNED)
            == [(Status.SKIPPED, timing.ASSIGNED_THEN_REMOVED)] * 2
        )

    def test_a_due_date_moved_and_moved_back_sends_nothing(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann, due=datetime.date(2030, 4, 1))
        later(clock, window + 1)
        send_queued()
        smtp.wait_for(1)
        redate(task, 8, 1)
        later(clock, window + 1)
        send_queued()
        assert len(smtp.received) == 1  # the assignment alone
        assert (
            status_of(Kind.DUE_DATE_CHANGED)
            == [(Status.SKIPPED, timing.DATE_MOVED_BACK)] * 2
        )

    def test_a_comment_and_a_new_date_in_one_window_are_one_email_telling_both(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        from tasks.activity import add_comment

        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        later(clock, window + 1)
        send_queued()
        smtp.wait_for(1)
        add_comment(task, ManagerFactory(), "The quay is flooded, let us wait.")
        redate(task, 20)
        later(clock, window)
        send_queued()
        smtp.wait_for(3)  # the commenter, now watching, hears of the new date
        [_, told] = [m for m in smtp.received if m.rcpt_tos == [ann.email]]
        body = told.body()
        assert "Someone moved the due date from" in body
        assert "The quay is flooded" in body
        assert told.message["X-Tasks-Reason"] == "assigned"

    def test_following_the_link_of_one_email_of_changes_reads_them_all(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        from notifications.inbox import read_from_email
        from notifications.links import read_token

        ann, bob = UserFactory.create_batch(2, role=Role.EMPLOYEE)
        task = assigned_task(ann, bob)
        later(clock, window + 1)
        send_queued()
        redate(task, 5, 9)
        later(clock, window)
        send_queued()
        changes = Delivery.objects.filter(kind=Kind.DUE_DATE_CHANGED)
        [lead] = changes.filter(recipient=ann, status=Status.SENT)
        assert read_from_email(ann.pk, read_token(lead.pk))
        read = changes.filter(read_via=Delivery.ReadVia.EMAIL)
        told = [(ann.pk, Status.BUNDLED), (ann.pk, Status.SENT)]
        assert sorted(read.values_list("recipient_id", "status")) == told

    def test_the_first_change_opens_the_window_and_later_ones_join_it(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        later(clock, window + 1)
        send_queued()
        redate(task, 5)
        send_queued()
        later(clock, window - 10)
        redate(task, 6)
        send_queued()
        waiting = Delivery.objects.filter(kind=Kind.DUE_DATE_CHANGED)
        first_change = START + datetime.timedelta(seconds=window + 1)
        expected = first_change + datetime.timedelta(seconds=window)
        assert {row.not_before for row in waiting} == {expected}
        assert {row.waiting_for for row in waiting} == {Delivery.Wait.WINDOW}

    def test_a_row_given_a_later_time_is_not_gathered_before_it(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        """A scheduled email about the task (a reminder for tomorrow) keeps
        its time when the window's changes go."""
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        send_queued()
        redate(task, 9)
        tomorrow = START + datetime.timedelta(days=1)
        scheduled = Delivery.objects.filter(kind=Kind.DUE_DATE_CHANGED)
        scheduled.update(not_before=tomorrow, next_attempt_at=tomorrow)
        later(clock, window)
        send_queued()
        [message] = smtp.wait_for(1)
        assert not message.body().startswith("2 changes")
        assert scheduled.get().status == Status.QUEUED

    def test_changes_timed_a_moment_apart_by_two_workers_still_go_as_one(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        redate(task, 9)
        send_queued()
        ends = START + datetime.timedelta(seconds=window)
        raced = Delivery.objects.filter(kind=Kind.DUE_DATE_CHANGED)
        raced.update(not_before=ends + datetime.timedelta(seconds=1))
        later(clock, window)
        send_queued()
        [message] = smtp.wait_for(1)
        assert message.body().startswith("2 changes to this task")

    def test_the_job_hands_waiting_rows_to_a_job_due_when_their_window_ends(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        assigned_task(ann)
        [row] = Delivery.objects.all()
        report = send_batch([row.pk])
        assert (report.waiting, dict(report.later)) == (1, {window: [row.pk]})

    def test_only_the_window_s_first_change_gets_a_job_for_its_end(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        """Two jobs at the window's end would each lead a part of it (an
        assignment and its undoing told apart): the rows that join the
        window wait for the first one's job, which gathers them."""
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task()
        task.assigned_to.add(ann)
        [first] = Delivery.objects.all()
        assert dict(send_batch([first.pk]).later) == {window: [first.pk]}
        later(clock, 30)
        task.assigned_to.remove(ann)
        [joined] = Delivery.objects.filter(kind=Kind.TASK_UNASSIGNED)
        report = send_batch([joined.pk])
        assert (report.waiting, dict(report.later)) == (1, {})
        later(clock, window - 30)
        assert send_batch([first.pk]).skipped == 2

    def test_a_row_another_run_timed_and_joined_gets_no_job_of_its_own(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        """Its own first job finds it waiting: the run that took it along
        (claim_companions) joined it to the window its task's first change
        opened, whose run gathers it; a job of its own would end the window
        twice."""
        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        task.assigned_to.remove(ann)
        first, removal = Delivery.objects.order_by("pk")
        assert dict(send_batch([first.pk], fill_to=50).later) == {window: [first.pk]}
        later(clock, window - 2)
        assert dict(send_batch([removal.pk]).later) == {}

    def test_a_claim_takes_no_row_before_its_time(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        assigned_task(UserFactory(role=Role.EMPLOYEE))
        send_queued()
        ids = list(Delivery.objects.values_list("pk", flat=True))
        later(clock, window - 1)
        assert Delivery.objects.claim(ids) == []
        later(clock, 1)
        assert len(Delivery.objects.claim(ids)) == 1

    def test_account_emails_never_wait(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        UserFactory(is_active=False, email="new@example.com")
        send_queued()
        [message] = smtp.wait_for(1)
        assert message.rcpt_tos == ["new@example.com"]

    def test_a_person_who_chose_at_once_gets_one_email_per_change(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE)
        DigestSchedule.objects.create(
            user=ann, coalesce_seconds=DigestSchedule.Window.AT_ONCE
        )
        task = assigned_task(ann)
        send_queued()
        redate(task, 5)
        send_queued()
        redate(task, 6)
        send_queued()
        assert len(smtp.wait_for(3)) == 3

    def test_a_person_s_longer_window_holds_their_emails_longer(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        ann, bob = UserFactory.create_batch(2, role=Role.EMPLOYEE)
        DigestSchedule.objects.create(user=ann, coalesce_seconds=3600)
        assigned_task(ann, bob)
        send_queued()
        waits = dict(Delivery.objects.values_list("recipient_id", "not_before"))
        assert waits[ann.pk] == START + datetime.timedelta(hours=1)
        assert waits[bob.pk] == START + datetime.timedelta(seconds=window)

    def test_the_delivery_log_shows_until_when_a_row_waits(
        self, client: Client, clock: time_machine.Traveller, window: int
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE, time_zone="Europe/Paris")
        assigned_task(ann)
        send_queued()
        client.force_login(ann)
        page = client.get("/notifications/").text
        assert "not before" in page
        assert "11:02" in page  # 10:02 UTC, in Paris


class TestWhatWasMergedIsNeverLost:
    """Changes merged into a lead (bundled) before the lead went: told with
    it whatever happens to it after, or skipped with the reason."""

    def merged(self, clock: time_machine.Traveller, window: int) -> tuple[User, Task]:
        """Ann's assignment sent; then a new date (the lead, handed back, its
        window ending in `window` s) and a comment merged into it."""
        from tasks.activity import add_comment

        ann = UserFactory(role=Role.EMPLOYEE)
        task = assigned_task(ann)
        later(clock, window + 1)
        send_queued()
        redate(task, 8)
        add_comment(task, ManagerFactory(), "The quay is flooded.")
        queued = Delivery.objects.filter(recipient=ann, status=Status.QUEUED)
        lead, comment = queued.order_by("pk")
        ends = timezone_now() + datetime.timedelta(seconds=window)
        Delivery.objects.filter(pk=lead.pk).update(
            not_before=ends, next_attempt_at=ends, waiting_for=Delivery.Wait.WINDOW
        )
        Delivery.objects.filter(pk=comment.pk).update(
            status=Status.BUNDLED, digest=lead
        )
        return ann, task

    def test_a_lead_that_now_goes_alone_still_tells_them(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann, _ = self.merged(clock, window)
        DigestSchedule.objects.create(
            user=ann, coalesce_seconds=DigestSchedule.Window.AT_ONCE
        )
        smtp.sink.clear()
        later(clock, window)
        send_queued()
        [told] = [m for m in smtp.wait_for(1) if m.rcpt_tos == [ann.email]]
        assert told.body().startswith("2 changes to this task")
        assert "The quay is flooded." in told.body()

    def test_a_lead_that_cancels_out_hands_them_to_another_change(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        from tasks.activity import add_comment

        ann, task = self.merged(clock, window)
        redate(task, 1)  # back where it was: the lead cancels out
        add_comment(task, ManagerFactory(), "Moved back, sorry.")
        smtp.sink.clear()
        send_queued()
        later(clock, window)
        send_queued()
        [told] = [m for m in smtp.wait_for(1) if m.rcpt_tos == [ann.email]]
        assert told.body().startswith("2 changes to this task")
        assert "The quay is flooded." in told.body()
        assert "Moved back, sorry." in told.body()

    def test_a_lead_its_reader_now_reads_in_the_digest_takes_them_there(
        self, clock: time_machine.Traveller, window: int
    ) -> None:
        from notifications.models import Preference

        ann, _ = self.merged(clock, window)
        Preference.objects.create(
            user=ann, kind=Kind.DUE_DATE_CHANGED, mode=Preference.Mode.DIGEST
        )
        later(clock, window)
        send_queued()
        held = Delivery.objects.filter(recipient=ann, status=Status.HELD)
        assert sorted(held.values_list("kind", flat=True)) == [
            Kind.DUE_DATE_CHANGED,
            Kind.TASK_COMMENTED,
        ]

    def test_with_no_change_left_to_tell_them_they_are_skipped_with_why(
        self, smtp: SMTPServer, clock: time_machine.Traveller, window: int
    ) -> None:
        ann, task = self.merged(clock, window)
        redate(task, 1)
        smtp.sink.clear()
        send_queued()
        later(clock, window)
        send_queued()
        [comment] = Delivery.objects.filter(recipient=ann, kind=Kind.TASK_COMMENTED)
        assert comment.status == Status.SKIPPED
        assert comment.last_error.startswith("not told: the email of #")
        assert [m for m in smtp.received if m.rcpt_tos == [ann.email]] == []


class TestQuietHours:
    NIGHTS = Timing(PARIS, 0, datetime.time(22), datetime.time(7))

    @pytest.mark.parametrize(
        ("local", "until"),
        [
            ((2030, 3, 4, 23, 30), (2030, 3, 5, 7, 0)),
            ((2030, 3, 5, 6, 59), (2030, 3, 5, 7, 0)),
            ((2030, 3, 4, 21, 59), None),
            ((2030, 3, 5, 7, 0), None),
        ],
    )
    def test_quiet_hours_across_midnight_end_in_the_morning(
        self, local: tuple[int, ...], until: tuple[int, ...] | None
    ) -> None:
        moment = datetime.datetime(*local, tzinfo=PARIS)
        expected = datetime.datetime(*until, tzinfo=PARIS) if until else None
        assert self.NIGHTS.quiet_end(moment) == expected

    def test_a_weekend_and_the_night_after_it_are_quiet_until_monday_morning(
        self,
    ) -> None:
        weekends = Timing(
            PARIS, 0, datetime.time(22), datetime.time(7), frozenset({5, 6})
        )
        friday_night = datetime.datetime(2030, 3, 8, 23, 0, tzinfo=PARIS)
        monday = datetime.datetime(2030, 3, 11, 7, 0, tzinfo=PARIS)
        assert weekends.quiet_end(friday_night) == monday

    def test_quiet_hours_ending_in_the_hour_a_clock_change_skips_end_after_it(
        self,
    ) -> None:
        """Paris skips 02:00-03:00 on 31 March 2030: a quiet time until 02:30
        ends at 03:30 local, as the clock reads after the change."""
        nights = Timing(PARIS, 0, datetime.time(22), datetime.time(2, 30))
        end = nights.quiet_end(datetime.datetime(2030, 3, 30, 23, 0, tzinfo=PARIS))
        assert end is not None
        assert end.astimezone(UTC) == datetime.datetime(2030, 3, 31, 1, 30, tzinfo=UTC)

    def test_a_notification_in_quiet_hours_waits_until_they_end(
        self, smtp: SMTPServer, clock: time_machine.Traveller
    ) -> None:
        """10:00 UTC is 11:00 in Paris: quiet from 10:30 to 12:00 local."""
        ann = UserFactory(role=Role.EMPLOYEE, time_zone="Europe/Paris")
        DigestSchedule.objects.create(
            user=ann, quiet_from=datetime.time(10, 30), quiet_until=datetime.time(12)
        )
        assigned_task(ann)
        send_queued()
        [row] = Delivery.objects.all()
        assert row.not_before == datetime.datetime(2030, 3, 4, 12, tzinfo=PARIS)
        assert row.waiting_for == Delivery.Wait.QUIET
        later(clock, 3599)
        send_queued()
        assert smtp.received == []
        later(clock, 1)
        send_queued()
        assert smtp.wait_for(1)[0].rcpt_tos == [ann.email]

    @pytest.mark.parametrize("timed", [False, True])
    def test_a_retry_in_quiet_hours_waits_until_they_end(
        self, smtp: SMTPServer, clock: time_machine.Traveller, timed: bool
    ) -> None:
        """A row tried before (a retry, one the sweep requeued), or timed
        before, comes back in its reader's quiet time: it waits again."""
        ann = UserFactory(role=Role.EMPLOYEE, time_zone="Europe/Paris")
        DigestSchedule.objects.create(
            user=ann, quiet_from=datetime.time(10, 30), quiet_until=datetime.time(12)
        )
        assigned_task(ann)
        rows = Delivery.objects.all()
        if timed:
            rows.update(not_before=START - datetime.timedelta(hours=1))
        else:
            rows.update(attempts=1, last_error="421 try again later")
        assert send_batch(list(rows.values_list("pk", flat=True))).waiting == 1
        [row] = rows
        assert row.not_before == datetime.datetime(2030, 3, 4, 12, tzinfo=PARIS)
        assert (row.waiting_for, row.attempts) == (Delivery.Wait.QUIET, int(not timed))
        assert smtp.received == []

    def test_metrics_count_what_waits_for_quiet_hours_and_for_a_window(
        self, client: Client, clock: time_machine.Traveller, settings: DjangoSettings
    ) -> None:
        settings.METRICS_TOKEN = "scrape-token"
        settings.NOTIFICATIONS_COALESCE_SECONDS = WINDOW
        ann, bob = UserFactory.create_batch(2, role=Role.EMPLOYEE)
        DigestSchedule.objects.create(user=ann, quiet_days="0123456")
        assigned_task(ann, bob)
        send_queued()
        auth = {"Authorization": "Bearer scrape-token"}
        text = client.get("/metrics", headers=auth).text
        assert 'notifications_waiting{waiting_for="quiet"} 1.0' in text
        assert 'notifications_waiting{waiting_for="window"} 1.0' in text

    def test_account_emails_pass_in_quiet_hours(
        self, smtp: SMTPServer, clock: time_machine.Traveller
    ) -> None:
        ann = UserFactory(role=Role.EMPLOYEE, is_active=False)
        DigestSchedule.objects.create(user=ann, quiet_days="0123456")
        send_queued()
        assert smtp.wait_for(1)[0].rcpt_tos == [ann.email]


class TestTheSettingsPage:
    PAGE = "/notifications/preferences/"

    def post(self, client: Client, user: User, **timing: object) -> int:
        from notifications.preferences import modes_of

        client.force_login(user)
        choices = dict.fromkeys(modes_of(user), "immediate")
        response = client.post(self.PAGE, {
            **choices, "digest_time": "08:00",
            "default_level": "participating", **timing,
        })  # fmt: skip
        return response.status_code

    def test_a_window_quiet_hours_and_days_are_saved(self, client: Client) -> None:
        ann = UserFactory()
        status = self.post(
            client, ann, coalesce="3600", quiet_from="22:00", quiet_until="07:00",
            quiet_days=["5", "6"],
        )  # fmt: skip
        assert status == 302
        schedule = DigestSchedule.objects.get(user=ann)
        assert (schedule.coalesce_seconds, schedule.quiet_days) == (3600, "56")
        assert (schedule.quiet_from, schedule.quiet_until) == (
            datetime.time(22), datetime.time(7)
        )  # fmt: skip
        form = client.get(self.PAGE).context["form"]
        assert form["coalesce"].value() == "3600"
        assert form["quiet_days"].value() == ["5", "6"]

    def test_the_default_window_is_named_and_kept_as_no_choice(
        self, client: Client, window: int
    ) -> None:
        ann = UserFactory()
        client.force_login(ann)
        assert (
            "The default: changes of 2 minutes in one email"
            in client.get(self.PAGE).text
        )
        assert self.post(client, ann, coalesce="") == 302
        assert DigestSchedule.objects.get(user=ann).coalesce_seconds is None

    def test_quiet_hours_need_both_ends(self, client: Client) -> None:
        ann = UserFactory()
        assert self.post(client, ann, quiet_from="22:00") == 200
        assert not DigestSchedule.objects.filter(user=ann, quiet_from__isnull=False)


def test_admins_preview_the_email_of_a_task_s_changes(client: Client) -> None:
    client.force_login(UserFactory(role=Role.ADMIN))
    assert (
        "Several changes to a task, in one email"
        in client.get("/notifications/preview/").text
    )
    text = client.get("/notifications/preview/task_changes.text").text
    assert text.startswith("3 changes to this task")
    assert "Now:\nTask: Prepare the quarterly report" in text


def change(pk: int, kind: str, before: str = "", after: str = "") -> Delivery:
    return Delivery(pk=pk, kind=kind, context={"before": before, "after": after})


@pytest.mark.parametrize(
    ("changes", "cancelled"),
    [
        (
            [change(1, Kind.TASK_UNASSIGNED), change(2, Kind.TASK_ASSIGNED)],
            {1: timing.REMOVED_THEN_ASSIGNED, 2: timing.REMOVED_THEN_ASSIGNED},
        ),
        (
            [
                change(1, Kind.STATUS_CHANGED, "PENDING", "IN_PROGRESS"),
                change(2, Kind.STATUS_CHANGED, "IN_PROGRESS", "PENDING"),
            ],
            {1: timing.STATUS_BACK, 2: timing.STATUS_BACK},
        ),
        (
            [
                change(1, Kind.DUE_DATE_CHANGED, "2030-04-01", "2030-04-08"),
                change(2, Kind.DUE_DATE_CHANGED, "2030-04-08", "2030-04-01"),
                change(3, Kind.DUE_DATE_CHANGED, "2030-04-01", "2030-04-09"),
            ],
            {},
        ),
        ([change(1, Kind.TASK_ASSIGNED), change(2, Kind.TASK_COMMENTED)], {}),
    ],
)
def test_what_cancels_out_within_a_window(
    changes: list[Delivery], cancelled: dict[int, str]
) -> None:
    assert timing.cancelled_out(changes) == cancelled
