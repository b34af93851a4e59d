"""Comments on a task and its history, as the people on it use them."""

from __future__ import annotations

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from notifications.models import Delivery
from tasks.activity import add_comment
from tasks.models import Activity, Comment, Task
from tests.factories import (
    EmployeeFactory,
    ManagerFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)
from users.models import Role, User

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
REQUIRED = "Write something before posting the comment."


def comment_url(task: Task) -> str:
    return reverse("tasks:comment", args=[task.pk])


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text_of(html: str) -> str:
    """The page's words, tags dropped and whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def ann() -> User:
    return EmployeeFactory(username="ann", first_name="Ann", last_name="Smith")


@pytest.fixture
def task(ann: User) -> Task:
    return TaskFactory(title="Paint the fence", assigned_to=[ann])


# Posting ---------------------------------------------------------------------


def test_an_assignee_comments_and_lands_on_the_new_comment(
    ann: User, task: Task
) -> None:
    client = signed_in(ann)

    response = client.post(comment_url(task), {"body": "Done by Friday?"})

    comment = Comment.objects.get()
    assert (comment.task, comment.author, comment.body) == (
        task, ann, "Done by Friday?"
    )  # fmt: skip
    assert response.status_code == 302
    assert response.url == f"/tasks/{task.pk}/#comment-{comment.pk}"
    page = client.get(response.url)
    assert "Comment added." in page.text
    assert "Done by Friday?" in page.text


def test_the_others_on_the_task_are_emailed_but_not_the_author(
    ann: User, task: Task
) -> None:
    bob = EmployeeFactory()
    task.assigned_to.add(bob)

    signed_in(ann).post(comment_url(task), {"body": "Ladder is back"})

    emails = Delivery.objects.filter(kind=Delivery.Kind.TASK_COMMENTED)
    assert [email.recipient for email in emails] == [bob]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_managers_and_admins_comment_on_any_task(task: Task, role: str) -> None:
    response = signed_in(UserFactory(role=role)).post(
        comment_url(task), {"body": "Looks good"}
    )

    assert response.status_code == 302
    assert Comment.objects.filter(task=task, body="Looks good").exists()


def test_employees_not_on_the_task_get_403(task: Task) -> None:
    response = signed_in(EmployeeFactory()).post(comment_url(task), {"body": "Hi"})

    assert response.status_code == 403
    assert "Only the people of this project" in response.text
    assert not Comment.objects.exists()
    assert not Activity.objects.filter(verb=Activity.Verb.COMMENTED).exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_sign_in(
    client: Client, task: Task, method: str
) -> None:
    response = getattr(client, method)(comment_url(task), {"body": "Hi"})

    assert response.status_code == 302
    assert response.url.startswith(reverse("users:sign-in") + "?next=")
    assert not Comment.objects.exists()


def test_the_comment_address_opened_after_signing_in_leads_to_the_form(
    ann: User, task: Task
) -> None:
    response = signed_in(ann).get(comment_url(task))

    assert response.status_code == 302
    assert response.url == f"/tasks/{task.pk}/#comments"


def test_a_comment_on_a_missing_task_is_a_404(ann: User) -> None:
    response = signed_in(ann).post("/tasks/987654/comments/", {"body": "Hi"})

    assert response.status_code == 404


# Validation ------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "   \r\n  "])
def test_an_empty_comment_is_a_field_error(ann: User, task: Task, body: str) -> None:
    response = signed_in(ann).post(comment_url(task), {"body": body})

    assert response.status_code == 200
    assert 'id="error-summary"' in response.text
    assert f'<div id="id_body_error" class="field-error"><p>{REQUIRED}</p>' in (
        response.text
    )
    assert 'aria-describedby="id_body_helptext id_body_error"' in response.text
    assert not Comment.objects.exists()


def test_a_comment_of_5000_characters_is_kept_and_a_longer_one_refused(
    ann: User, task: Task
) -> None:
    client = signed_in(ann)

    client.post(comment_url(task), {"body": "x" * 5000})
    response = client.post(comment_url(task), {"body": "y" * 5001})

    assert [len(c.body) for c in Comment.objects.all()] == [5000]
    assert "A comment can be at most 5,000 characters; this one has 5,001." in (
        response.text
    )
    assert "y" * 5001 in response.text  # kept in the form to shorten


def test_line_breaks_count_once_as_the_browser_counts_them(
    ann: User, task: Task
) -> None:
    body = "x" * 4998 + "\r\ny"  # 5,001 characters sent, 5,000 typed

    signed_in(ann).post(comment_url(task), {"body": body})

    assert Comment.objects.get().body == "x" * 4998 + "\ny"


def test_the_body_is_escaped_and_keeps_its_line_breaks(ann: User, task: Task) -> None:
    client = signed_in(ann)
    client.post(comment_url(task), {"body": "<b>Bold</b> claim\nSecond line"})

    page = client.get(task.get_absolute_url()).text

    assert "<b>Bold</b>" not in page
    assert "&lt;b&gt;Bold&lt;/b&gt; claim\nSecond line</div>" in page


# The list ----------------------------------------------------------------------


def test_comments_are_listed_oldest_first_with_author_and_local_time(
    task: Task, ann: User
) -> None:
    manager = ManagerFactory(first_name="Mia", last_name="Manager")
    manager.time_zone = "Europe/Paris"
    manager.save()
    first = add_comment(task, ann, "First")
    second = add_comment(task, manager, "Second")
    moment = datetime.datetime(2031, 7, 14, 9, 30, tzinfo=datetime.UTC)
    Comment.objects.filter(pk=first.pk).update(created_at=moment)
    Comment.objects.filter(pk=second.pk).update(
        created_at=moment + datetime.timedelta(hours=1)
    )

    words = text_of(signed_in(manager).get(task.get_absolute_url()).text)

    assert "Comments (2)" in words
    assert "Ann Smith Mon 14 Jul 2031, 11:30 CEST First" in words
    assert "Mia Manager (you) Mon 14 Jul 2031, 12:30 CEST Second" in words
    assert words.index("First") < words.index("Second")


def test_a_task_without_comments_invites_one(ann: User, task: Task) -> None:
    page = signed_in(ann).get(task.get_absolute_url()).text

    assert "No comments yet." in page
    assert f'action="/tasks/{task.pk}/comments/"' in page


def test_a_deleted_authors_comment_stays_as_someones(ann: User, task: Task) -> None:
    add_comment(task, EmployeeFactory(first_name="Gone"), "Still useful")
    User.objects.filter(first_name="Gone").delete()

    words = text_of(signed_in(ann).get(task.get_absolute_url()).text)

    assert "Someone" in words and "Still useful" in words


# Through htmx --------------------------------------------------------------------


def test_htmx_swaps_in_the_new_comment_the_message_and_the_history(
    ann: User, task: Task
) -> None:
    response = signed_in(ann).post(comment_url(task), {"body": "On it"}, **HTMX)

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<section id="comments"')
    assert "On it" in html
    assert 'id="messages" hx-swap-oob="innerHTML"' in html
    assert "Comment added." in html
    assert 'id="history"' in html and 'hx-swap-oob="true"' in html
    assert "Ann Smith commented" in html
    # The fresh form is empty and takes the focus for the next comment.
    assert re.search(r"<textarea[^>]*autofocus[^>]*>\s*</textarea>", html)


def test_htmx_shows_the_errors_in_place_and_clears_a_stale_message(
    ann: User, task: Task
) -> None:
    client = signed_in(ann)
    client.post(comment_url(task), {"body": "First"}, **HTMX)  # "Comment added."
    response = client.post(comment_url(task), {"body": ""}, **HTMX)

    assert response.status_code == 200
    assert REQUIRED in response.text
    assert 'id="error-summary"' in response.text and "autofocus" in response.text
    # The earlier success no longer stands above the new error.
    assert '<div id="messages" hx-swap-oob="innerHTML"></div>' in response.text
    assert 'id="history"' not in response.text
    assert Comment.objects.count() == 1


# History and "created by" ---------------------------------------------------------


def test_the_history_tells_who_did_what_oldest_first_as_the_comments(
    ann: User,
) -> None:
    mia = ManagerFactory(username="mia", first_name="Mia", last_name="Manager")
    as_mia, as_ann = signed_in(mia), signed_in(ann)
    as_mia.post("/tasks/create/", {
        "title": "Paint the fence", "description": "", "due_date": "2026-12-07",
        "project": ProjectFactory().pk, "status": "PENDING", "priority": "M",
        "notes": "", "assigned_to": [ann.pk],
    })  # fmt: skip
    task = Task.objects.get(title="Paint the fence")
    as_ann.post(f"/tasks/{task.pk}/status/", {"status": "IN_PROGRESS"})
    as_ann.post(comment_url(task), {"body": "Needs one more day"})
    as_mia.post(f"/tasks/{task.pk}/edit/", {
        "title": "Paint the fence", "description": "", "due_date": "2026-12-08",
        "project": task.project_id, "status": "IN_PROGRESS", "priority": "M",
        "notes": "", "assigned_to": [],
    })  # fmt: skip

    page = as_mia.get(task.get_absolute_url())
    history = text_of(page.text.split('data-testid="history"')[1])

    assert [entry.sentence for entry in page.context["history"]] == [
        "Mia Manager created the task",
        "Mia Manager assigned Ann Smith",
        "Ann Smith changed the status from Pending to In progress",
        "Ann Smith commented",
        "Mia Manager moved the due date from Mon 7 Dec 2026 to Tue 8 Dec 2026",
        "Mia Manager unassigned Ann Smith",
    ]
    assert history.index("created the task") < history.index("Ann Smith commented")
    assert page.text.count("Oldest first") == 2  # comments and history alike
    assert f'href="#comment-{task.comments.get().pk}"' in page.text
    assert "Created by Mia Manager (you)" in text_of(page.text)


def test_changes_made_outside_a_request_are_someones(ann: User) -> None:
    task = TaskFactory(assigned_to=[ann])  # as from a shell or a job

    words = text_of(signed_in(ann).get(task.get_absolute_url()).text)

    assert "Someone created the task" in words
    assert "Someone assigned Ann Smith" in words
    assert "Created by Not recorded" in words


def test_assignees_show_who_assigned_them(ann: User, task: Task) -> None:
    mia = ManagerFactory(first_name="Mia", last_name="Manager")
    bob = EmployeeFactory(first_name="Bob", last_name="Stone")
    client = signed_in(mia)
    client.post(f"/tasks/{task.pk}/edit/", {
        "title": task.title, "description": "", "due_date": "2031-01-01",
        "project": task.project_id, "status": "PENDING", "priority": "M",
        "notes": "", "assigned_to": [ann.pk, bob.pk],
    })  # fmt: skip

    people = text_of(client.get(task.get_absolute_url()).text)

    assert "Bob Stone assigned by Mia Manager" in people
    assert "Ann Smith assigned by" not in people  # assigned outside a request


def test_an_assignee_shows_who_assigned_them_last(ann: User, task: Task) -> None:
    mia = ManagerFactory(first_name="Mia", last_name="Manager")
    max_ = ManagerFactory(first_name="Max", last_name="Moss")
    bob = EmployeeFactory(first_name="Bob", last_name="Stone")
    signed_in(mia).post(f"/tasks/{task.pk}/assign/", {"person": bob.pk})
    signed_in(mia).post(f"/tasks/{task.pk}/assign/", {"person": bob.pk, "remove": "1"})
    signed_in(max_).post(f"/tasks/{task.pk}/assign/", {"person": bob.pk})

    people = text_of(signed_in(mia).get(task.get_absolute_url()).text)

    assert "Bob Stone assigned by Max Moss" in people


def test_a_person_assigning_themselves_reads_naturally(ann: User) -> None:
    entry = Activity(actor=ann, person=ann, verb=Activity.Verb.ASSIGNED)

    assert entry.sentence == "Ann Smith assigned themselves"


def test_values_no_longer_known_are_shown_as_recorded() -> None:
    status = Activity(verb=Activity.Verb.STATUS, before="LOST", after="PENDING")
    due = Activity(verb=Activity.Verb.DUE_DATE, before="someday", after="2026-12-07")

    assert status.sentence == "Someone changed the status from LOST to Pending"
    assert due.sentence == "Someone moved the due date from someday to Mon 7 Dec 2026"
