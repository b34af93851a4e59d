"""Email builders: subject, text and HTML from templates; links from FRONTEND_URL."""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

import pytest
from django.core.mail import EmailMultiAlternatives
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.contexts import Skip
from notifications.emails import Undeliverable, build_message, make_message
from notifications.links import read_token
from notifications.models import Delivery
from notifications.preferences import read_unsubscribe_token
from notifications.threading import Thread
from tasks.models import Task
from tests.factories import (
    DeliveryFactory,
    ProjectFactory,
    TaskDetailFactory,
    TaskFactory,
    UserFactory,
)
from users.accounts import user_from_activation_link, user_from_uidb64
from users.tokens import password_reset_token_generator

pytestmark = pytest.mark.django_db
Kind = Delivery.Kind
FRONTEND = "https://tasks.example.org"


@pytest.fixture(autouse=True)
def frontend_url(settings: DjangoSettings) -> None:
    settings.FRONTEND_URL = FRONTEND


def html(message: EmailMultiAlternatives) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def link_in(text: str) -> str:
    return re.search(rf"{re.escape(FRONTEND)}/\S+", text).group(0)


def assigned(task_title: str = "Write the report") -> Delivery:
    task = TaskFactory(title=task_title, project=ProjectFactory(name="Apollo"))
    return DeliveryFactory(kind=Kind.TASK_ASSIGNED, context={"task_id": task.pk})


def task_id(delivery: Delivery) -> int:
    return int(delivery.context["task_id"])


def about(kind: str, task: Task | None = None, **snapshot: str) -> Delivery:
    task = task or TaskFactory(title="Quarterly report")
    context = {"task_id": task.pk, "title": task.title, "by": "Mia Manager", **snapshot}
    return DeliveryFactory(kind=kind, context=context)


class TestMakeMessage:
    def test_it_builds_subject_text_and_html_from_the_template_triple(self) -> None:
        user = UserFactory(email="someone@example.com")
        context = {
            "thread": Thread(5, "T", 3, "Apollo", 0),
            "headline": "Al deleted this task.",
            "facts": [("Task", "T")],
            "link": "x",
        }
        message = make_message(Kind.TASK_DELETED, user, context)
        assert message.subject == "[Apollo] T (#5)"
        assert message.to == ["someone@example.com"]
        assert message.body.startswith("Al deleted this task.\n")
        assert "<html" in html(message)

    def test_the_html_is_a_titled_page_with_a_heading_made_for_phones(self) -> None:
        page = html(build_message(assigned()))
        task = Task.objects.get()
        assert '<meta name="viewport" content="width=device-width' in page
        assert f"<title>[Apollo] Write the report (#{task.pk})</title>" in page
        assert '<main role="main"' in page and "<h1" in page
        assert "max-width:560px" in page and "width:100%" in page


class TestUnsubscribe:
    def test_a_notification_carries_the_one_click_headers_and_footer(self) -> None:
        delivery = assigned()
        message = build_message(delivery)
        link = message.extra_headers["List-Unsubscribe"].strip("<>")
        assert link.startswith(f"{FRONTEND}/notifications/unsubscribe/")
        assert message.extra_headers["List-Unsubscribe-Post"] == (
            "List-Unsubscribe=One-Click"
        )
        assert read_unsubscribe_token(urlsplit(link).path.split("/")[3]) == (
            delivery.recipient_id, Kind.TASK_ASSIGNED
        )  # fmt: skip
        for part in (message.body, html(message)):
            assert f"{FRONTEND}/notifications/preferences/" in part
            assert "because you were assigned this task" in part

    def test_account_emails_have_no_unsubscribe(self) -> None:
        user = UserFactory(is_active=False)
        message = build_message(Delivery.objects.get(recipient=user))
        assert "List-Unsubscribe" not in message.extra_headers
        assert "/notifications/preferences/" not in message.body


class TestTaskAssigned:
    def test_it_names_the_task_project_due_date_and_links_to_it(self) -> None:
        delivery = assigned()
        task = Task.objects.get()
        message = build_message(delivery)
        assert message.subject == f"[Apollo] Write the report (#{task.pk})"
        assert message.to == [delivery.recipient.email]
        for part in (message.body, html(message)):
            assert "Write the report" in part
            assert "Apollo" in part
            assert str(task.due_date.year) in part
        # Followed, the link reads the notification in the app (links.reading).
        link = f"{FRONTEND}/tasks/{task.pk}/?n={quote(read_token(delivery.pk))}"
        assert link_in(message.body) == link
        assert f'href="{link}"' in html(message)

    def test_a_title_with_cr_lf_stays_in_a_one_line_subject(self) -> None:
        message = build_message(assigned("Urgent\r\nBcc: victim@example.com"))
        task = Task.objects.get()
        assert message.subject == (
            f"[Apollo] UrgentBcc: victim@example.com (#{task.pk})"
        )
        rendered = message.message()  # raises BadHeaderError on a header break
        assert rendered["Bcc"] is None
        assert "victim@example.com" not in message.recipients()

    def test_html_is_escaped_and_text_is_not(self) -> None:
        message = build_message(assigned("<b>R&D</b>"))
        assert "<b>R&D</b>" in message.body
        assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in html(message)

    def test_it_says_who_assigned_it_its_priority_and_what_it_is_about(self) -> None:
        task = TaskFactory(title="Audit", description="Check every invoice of May.")
        TaskDetailFactory(task=task, priority="H")
        delivery = about(Kind.TASK_ASSIGNED, task)
        for part in (build_message(delivery).body, html(build_message(delivery))):
            assert "Mia Manager assigned you this task." in part
            assert "High" in part and "Check every invoice of May." in part

    def test_a_task_deleted_before_sending_is_skipped(self) -> None:
        delivery = assigned()
        Task.objects.all().delete()
        with pytest.raises(Skip):
            build_message(delivery)


class TestTaskDeleted:
    def test_it_is_built_from_the_snapshot_alone(self) -> None:
        snapshot = {"task_id": 999, "title": "Gone", "project": "Apollo",
                    "due_date": "2030-01-02"}  # fmt: skip
        message = build_message(DeliveryFactory(context=snapshot))
        assert message.subject == "[Apollo] Gone (#999)"
        for part in (message.body, html(message)):
            assert "Gone" in part and "Apollo" in part and "Wed 2 Jan 2030" in part


class TestTaskChanges:
    def test_removed_from_a_task_links_to_the_persons_own_tasks(self) -> None:
        delivery = about(Kind.TASK_UNASSIGNED)
        message = build_message(delivery)
        assert message.subject.endswith(f"] Quarterly report (#{task_id(delivery)})")
        assert message.body.startswith("Mia Manager removed you from this task.\n")
        assert link_in(message.body).startswith(f"{FRONTEND}/tasks/")

    def test_a_task_without_a_due_date_says_so(self) -> None:
        message = build_message(about(Kind.TASK_UNASSIGNED, due_date=""))
        assert "Due: No due date" in message.body.splitlines()
        assert ">No due date</td>" in html(message)

    def test_a_new_due_date_shows_the_old_and_the_new(self) -> None:
        delivery = about(Kind.DUE_DATE_CHANGED, before="2030-01-02", after="2030-02-03")
        message = build_message(delivery)
        assert message.subject.endswith(f"] Quarterly report (#{task_id(delivery)})")
        assert message.body.startswith(
            "Mia Manager moved the due date from Wed 2 Jan 2030 to Sun 3 Feb 2030.\n"
        )
        for part in (message.body, html(message)):
            assert "Wed 2 Jan 2030" in part and "Sun 3 Feb 2030" in part

    def test_completed_and_commented_name_who_did_it(self) -> None:
        task = TaskFactory(title="Quarterly report")
        done = build_message(about(Kind.TASK_COMPLETED, task, after="COMPLETED"))
        said = build_message(about(Kind.TASK_COMMENTED, task, excerpt="Ship it?"))
        assert done.subject == said.subject  # one thread
        assert done.body.startswith("Mia Manager completed this task.\n")
        assert said.body.startswith("Mia Manager commented on this task.\n")
        assert "Ship it?" in said.body and "Ship it?" in html(said)


class TestAccountEmails:
    def test_the_activation_link_is_on_the_frontend_and_activates(self) -> None:
        user = UserFactory(is_active=False)
        message = build_message(Delivery.objects.get(recipient=user))
        link = link_in(message.body)
        assert link.startswith(f"{FRONTEND}/users/activate/")
        assert link in html(message)
        _, _, uidb64, token, _ = urlsplit(link).path.rsplit("/", 4)
        assert user_from_activation_link(uidb64, token) == user

    def test_an_account_active_by_now_is_skipped(self) -> None:
        user = UserFactory(is_active=False)
        delivery = Delivery.objects.get(recipient=user)
        user.is_active = True
        user.save()
        delivery.refresh_from_db()
        with pytest.raises(Skip):
            build_message(delivery)

    def test_the_password_reset_link_is_on_the_frontend_and_valid(self) -> None:
        user = UserFactory()
        delivery = DeliveryFactory(kind=Kind.PASSWORD_RESET, recipient=user, context={})
        message = build_message(delivery)
        link = link_in(message.body)
        assert link.startswith(f"{FRONTEND}/users/password-reset/")
        _, uidb64, token, _ = urlsplit(link).path.rsplit("/", 3)
        assert user_from_uidb64(uidb64) == user
        assert password_reset_token_generator.check_token(user, token)


class TestHeaders:
    def test_the_message_id_is_the_same_on_every_build(self) -> None:
        delivery = DeliveryFactory()
        first = build_message(delivery).extra_headers["Message-ID"]
        again = build_message(delivery).extra_headers["Message-ID"]
        assert first == again
        assert first.startswith(f"<delivery.{delivery.pk}.")
        assert first.endswith("@example.com>")

    def test_a_recipient_without_an_address_is_undeliverable(self) -> None:
        delivery = DeliveryFactory(recipient=UserFactory(email=""))
        with pytest.raises(Undeliverable):
            build_message(delivery)
