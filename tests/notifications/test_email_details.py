"""What a careful reader of the emails notices (issue 29), read where the
reader reads them: each email is recorded by the real events, sent by the
worker's batch (notifications/sending.py) over SMTP to the suite's aiosmtpd
server, and read back from there, headers and both parts."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.smtp import Received, SMTPServer
from notifications.models import Delivery, Preference
from notifications.previews import preheader_of
from notifications.recording import record_password_reset_email
from notifications.sending import send_batch
from notifications.wishes import TASK_DONE
from tasks.activity import add_comment
from tasks.models import Task
from tasks.watching import watch
from tests.factories import EmployeeFactory, ManagerFactory, ProjectFactory, TaskFactory
from users.actor import acting_as
from users.models import User
from users.tokens import password_reset_token_generator

pytestmark = pytest.mark.django_db
Kind, Status = Delivery.Kind, Delivery.Status


@pytest.fixture(autouse=True)
def right_away(settings: DjangoSettings) -> None:
    """Every email leaves as soon as the worker takes it (no coalescing window)."""
    settings.NOTIFICATIONS_COALESCE_SECONDS = 0


@contextmanager
def acting(user: User) -> Iterator[None]:
    request = RequestFactory().post("/")
    request.user = user
    with acting_as(request):
        yield


def send_queued() -> None:
    queued = Delivery.objects.filter(status=Status.QUEUED).order_by("pk")
    report = send_batch(list(queued.values_list("pk", flat=True)))
    assert report.failed == report.waiting == 0


def inbox(smtp: SMTPServer, user: User) -> list[Received]:
    return smtp.sink.messages_to(user.email)


def headline(received: Received) -> str:
    return received.body("plain").splitlines()[0]


def text_and_html(received: Received) -> tuple[str, str]:
    return received.body("plain"), received.body("html")


def a_task_of(manager: User, *assignees: User, title: str = "Fix the form") -> Task:
    """A task `manager` created in the project Website, assigned to these
    people; the emails of its making are sent and forgotten."""
    with acting(manager):
        task = TaskFactory(title=title, project=ProjectFactory(name="Website"))
        task.created_by = manager
        task.save()
        task.assigned_to.add(*assignees)
    send_queued()
    return task


def save(task: Task, **changes: object) -> None:
    for field, value in changes.items():
        setattr(task, field, value)
    task.save()


class TestAboutACompletedTask:
    def test_a_due_date_moved_before_the_completion_is_not_sent_and_says_why(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), EmployeeFactory()
        task = a_task_of(mia, ann)
        smtp.sink.clear()
        with acting(mia):  # both before the worker takes the rows
            save(task, due_date=task.due_date + datetime.timedelta(days=3))
            save(task, status=Task.Status.COMPLETED)
        send_queued()
        [done] = inbox(smtp, ann)
        assert headline(done) == "Mia M completed this task."
        assert done.subject == f"[Website] Fix the form (#{task.pk})"
        skipped = Delivery.objects.get(recipient=ann, kind=Kind.DUE_DATE_CHANGED)
        assert (skipped.status, skipped.last_error) == (Status.SKIPPED, TASK_DONE)

    def test_a_due_date_or_status_moved_on_a_completed_task_is_not_sent(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(), EmployeeFactory()
        task = a_task_of(mia, ann)
        with acting(mia):
            save(task, status=Task.Status.COMPLETED)
        send_queued()
        smtp.sink.clear()
        with acting(mia):
            save(task, due_date=task.due_date + datetime.timedelta(days=1))
        send_queued()
        assert inbox(smtp, ann) == []
        assert (
            Delivery.objects.filter(
                kind=Kind.DUE_DATE_CHANGED, status=Status.SKIPPED, last_error=TASK_DONE
            ).count()
            == 1
        )

    def test_a_reopened_task_tells_of_its_new_status_again(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), EmployeeFactory()
        task = a_task_of(mia, ann)
        with acting(mia):
            save(task, status=Task.Status.COMPLETED)
        send_queued()
        smtp.sink.clear()
        with acting(mia):
            save(task, status=Task.Status.IN_PROGRESS)
        send_queued()
        [reopened] = inbox(smtp, ann)
        assert headline(reopened) == (
            "Mia M changed the status from Completed to In progress."
        )

    def test_a_comment_on_a_completed_task_is_sent_and_says_it_is_completed(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), EmployeeFactory()
        task = a_task_of(mia, ann)
        with acting(mia):
            save(task, status=Task.Status.COMPLETED)
        send_queued()
        smtp.sink.clear()
        add_comment(task, mia, "Thank you, all done.")
        send_queued()
        [comment] = inbox(smtp, ann)
        text, html = text_and_html(comment)
        assert headline(comment) == "Mia M commented on this task."
        assert "Status: Completed" in text.splitlines()
        assert ">Status</td>" in html and ">Completed</td>" in html


class TestTaskCompleted:
    def test_everyone_who_shares_the_work_is_told_each_for_their_part(
        self, smtp: SMTPServer
    ) -> None:
        mia, dana = ManagerFactory(), ManagerFactory()
        ann = EmployeeFactory(first_name="Ann", last_name="A")
        bob, outsider = EmployeeFactory(), EmployeeFactory()
        task = a_task_of(mia, ann, bob)
        watch(task, [dana.pk])
        smtp.sink.clear()
        with acting(ann):
            save(task, status=Task.Status.COMPLETED)
        send_queued()
        told = {
            person: inbox(smtp, person) for person in (mia, ann, bob, dana, outsider)
        }
        assert {p.username for p, got in told.items() if got} == {
            mia.username, bob.username, dana.username
        }  # fmt: skip
        for person, why, footer in (
            (mia, "created", "you created this task"),
            (bob, "assigned", "you are assigned this task"),
            (dana, "watching", "you watch this task"),
        ):
            [done] = told[person]
            assert done.subject == f"[Website] Fix the form (#{task.pk})"
            assert done.message["X-Tasks-Reason"] == why
            text, html = text_and_html(done)
            assert headline(done) == "Ann A completed this task."
            assert "Ann A completed this task." in html
            assert f"You get this email because {footer}." in text
            assert f"You get this email because {footer}." in html


class TestRemovedFromTask:
    def test_it_names_the_project_and_the_due_date(self, smtp: SMTPServer) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), EmployeeFactory()
        task = a_task_of(mia, ann)
        save(task, due_date=datetime.date(2030, 3, 29))
        smtp.sink.clear()
        with acting(mia):
            task.assigned_to.remove(ann)
        send_queued()
        [removed] = inbox(smtp, ann)
        text, html = text_and_html(removed)
        assert removed.subject == f"[Website] Fix the form (#{task.pk})"
        assert headline(removed) == "Mia M removed you from this task."
        assert {"Project: Website", "Due: Fri 29 Mar 2030"} <= set(text.splitlines())
        assert ">Website</td>" in html and ">Fri 29 Mar 2030</td>" in html


class TestNewComment:
    def test_it_names_the_project_and_quotes_the_two_comments_before_it(
        self, smtp: SMTPServer
    ) -> None:
        mia = ManagerFactory(first_name="Mia", last_name="M")
        ann = EmployeeFactory(first_name="Ann", last_name="A")
        bob = EmployeeFactory(first_name="Bob", last_name="B")
        task = a_task_of(mia, ann, bob)
        for author, body in (
            (ann, "Which browser shows it?"),
            (bob, "Safari only, on a phone."),
            (ann, "Then it is the date field."),
        ):
            add_comment(task, author, body)
        send_queued()
        smtp.sink.clear()
        add_comment(task, mia, "Ship it on Friday.")
        send_queued()
        [comment] = inbox(smtp, ann)
        text, html = text_and_html(comment)
        assert headline(comment) == "Mia M commented on this task."
        assert "Project: Website" in text.splitlines()
        assert ">Website</td>" in html
        # The two before it, oldest first, after the new one; not the first.
        assert "Which browser" not in text and "Which browser" not in html
        for part in (text, html):
            new, bob_said, ann_said = (
                part.index("Ship it on Friday."),
                part.index("Safari only, on a phone."),
                part.index("Then it is the date field."),
            )
            assert new < bob_said < ann_said
            assert "Earlier on this task" in part
        assert "Bob B, " in text and "Bob B · " in html

    def test_the_first_comment_has_nothing_earlier(self, smtp: SMTPServer) -> None:
        mia, ann = ManagerFactory(), EmployeeFactory()
        task = a_task_of(mia, ann)
        smtp.sink.clear()
        add_comment(task, mia, "First!")
        send_queued()
        [comment] = inbox(smtp, ann)
        for part in text_and_html(comment):
            assert "First!" in part and "Earlier on this task" not in part


class TestDateHeader:
    @pytest.mark.parametrize("localtime", [False, True])
    def test_every_email_is_dated_in_utc_with_a_known_zone(
        self, smtp: SMTPServer, settings: DjangoSettings, localtime: bool
    ) -> None:
        settings.EMAIL_USE_LOCALTIME = localtime
        settings.TIME_ZONE = "Europe/Paris"  # the server's zone is not the reader's
        mia, ann = ManagerFactory(), EmployeeFactory()
        before = timezone.now().replace(microsecond=0)
        record_password_reset_email(ann)  # an account email
        a_task_of(mia, ann)  # and a notification, sent with it
        after = timezone.now()
        got = inbox(smtp, ann)
        # One account email, one about the task.
        assert sorted(each.subject.startswith("[") for each in got) == [False, True]
        for each in got:
            raw = each.content.decode()
            [date] = [line for line in raw.splitlines() if line.startswith("Date:")]
            assert date.endswith(" +0000"), date
            assert before <= parsedate_to_datetime(date[5:]) <= after


class TestDigestSubject:
    def test_each_digest_is_named_by_its_day_so_two_never_look_alike(
        self, smtp: SMTPServer
    ) -> None:
        reader = EmployeeFactory(first_name="Ann")
        Preference.objects.create(
            user=reader, kind=Kind.TASK_ASSIGNED, mode=Preference.Mode.DIGEST
        )
        mia = ManagerFactory()
        for day, title in ((5, "Alpha"), (6, "Beta")):  # one update each day
            a_task_of(mia, reader, title=title)  # held for the digest
            Delivery.objects.record_digest(reader.pk, datetime.date(2030, 3, day))
            send_queued()
        first, second = inbox(smtp, reader)
        assert first.subject == "Your daily digest for Tue 5 Mar 2030: 1 update"
        assert second.subject == "Your daily digest for Wed 6 Mar 2030: 1 update"
        text, html = text_and_html(first)
        assert "Alpha" in text and "Beta" not in text
        assert "Your daily digest for Tue 5 Mar 2030</h1>" in html
        assert first.message["Auto-Submitted"] == "auto-generated"
        assert first.message["In-Reply-To"] is None  # a digest is no thread


class TestPreheader:
    def test_a_task_email_previews_what_happened_and_hides_it_on_the_page(
        self, smtp: SMTPServer
    ) -> None:
        mia, ann = ManagerFactory(first_name="Mia", last_name="M"), EmployeeFactory()
        task = a_task_of(mia, ann)
        smtp.sink.clear()
        add_comment(task, mia, "Ship it on Friday.")
        send_queued()
        [comment] = inbox(smtp, ann)
        text, html = text_and_html(comment)
        assert comment.subject == f"[Website] Fix the form (#{task.pk})"
        assert preheader_of(html) == headline(comment)
        # The body's first text, hidden: only the mail client's list shows it.
        body = html[html.index("<body") :]
        first = re.search(r"<div ([^>]*)>([^<&]+)", body)
        assert first and first.group(2) == "Mia M commented on this task."
        assert 'class="preheader"' in first.group(1)
        assert "display:none" in first.group(1)
        assert "\u034f" not in text  # no filler: the text part starts with it

    def test_an_account_email_has_a_preheader_of_its_own(
        self, smtp: SMTPServer
    ) -> None:
        ann = EmployeeFactory(username="ann")
        record_password_reset_email(ann)
        send_queued()
        [reset] = inbox(smtp, ann)
        assert preheader_of(reset.body("html")) == (
            "Choose a new password for ann with the link inside. "
            "If it was not you, ignore this email."
        )


class TestSentenceCase:
    def test_account_emails_say_their_subject_and_heading_as_a_sentence(
        self, smtp: SMTPServer
    ) -> None:
        ann = EmployeeFactory(username="ann", is_active=False)  # signs up
        bob = EmployeeFactory()
        record_password_reset_email(bob)
        send_queued()
        [activation], [reset] = inbox(smtp, ann), inbox(smtp, bob)
        assert activation.subject == "Activate your Tasks account"
        assert reset.subject == "Reset your Tasks password"
        assert ">Activate your account</h1>" in activation.body("html")
        assert ">Reset your password</h1>" in reset.body("html")
        for each in (activation, reset):  # not threaded, not automatic
            assert each.message["In-Reply-To"] is None
            assert each.message["List-Unsubscribe"] is None
            assert each.body("plain").startswith("Hello ")


SIGN_UP = {
    "username": "nina",
    "first_name": "Nina",
    "last_name": "Newcomer",
    "email": "nina@example.com",
    "password1": "Harbour#Lights42",
    "password2": "Harbour#Lights42",
}


class TestHowLongALinkWorks:
    @pytest.mark.parametrize(
        ("timeout", "said"), [(3 * 86400, "3 days"), (86400, "1 day")]
    )
    def test_the_sign_up_page_says_what_the_activation_email_says(
        self, smtp: SMTPServer, settings: DjangoSettings, timeout: int, said: str
    ) -> None:
        settings.PASSWORD_RESET_TIMEOUT = timeout
        settings.PASSWORD_RESET_LINK_TIMEOUT = 3600
        client = Client()
        client.post(reverse("users:sign-up"), SIGN_UP)
        page = client.get(reverse("users:sign-up-done")).text
        send_queued()
        [activation] = smtp.received
        assert activation.subject == "Activate your Tasks account"
        expires = f"The link works once and expires in {said}."
        assert expires in page
        assert expires in " ".join(activation.body("plain").split())
        assert expires in activation.body("html")
        assert f"The link expires in {said}." in preheader_of(activation.body("html"))

    def test_a_password_reset_link_works_for_an_hour_and_says_so(
        self, smtp: SMTPServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ann = EmployeeFactory()
        Client().post(reverse("users:password-reset"), {"email": ann.email})
        send_queued()
        [reset] = inbox(smtp, ann)
        assert reset.subject == "Reset your Tasks password"
        text, html = text_and_html(reset)
        expires = "The link works once and expires in 1 hour."
        assert expires in " ".join(text.splitlines()) and expires in html
        path = urlsplit(re.search(r"http\S+/password-reset/\S+", text).group(0)).path
        for age, opens in ((3590, True), (3610, False)):
            moment = datetime.datetime.now() + datetime.timedelta(seconds=age)
            monkeypatch.setattr(
                password_reset_token_generator, "_now", lambda at=moment: at
            )
            page = Client().get(path, follow=True).text
            assert ("invalid or has already been used" not in page) is opens, age
