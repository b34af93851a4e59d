"""The inbox in the app (notifications/inbox.py): everything addressed to a
person, from the same rows as the emails; read in the app, from the task's
page or from the email's link; and an email read before it leaves is not sent."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from devtools.smtp import SMTPServer
from notifications import inbox
from notifications.contexts import READ_IN_APP
from notifications.digests import record_due_digests
from notifications.emails import build_message
from notifications.links import read_token
from notifications.middleware import without_token
from notifications.models import Delivery, DigestSchedule, Preference
from notifications.sending import send_batch
from tasks.activity import add_comment
from tasks.models import Task
from tests.factories import (
    DeliveryFactory,
    EmployeeFactory,
    ManagerFactory,
    ProjectFactory,
    TaskFactory,
    fresh,
)
from users.actor import acting_as
from users.models import User

pytestmark = pytest.mark.django_db
Kind, Status, Mode, ReadVia = (
    Delivery.Kind,
    Delivery.Status,
    Preference.Mode,
    Delivery.ReadVia,
)
INBOX = "/notifications/inbox/"
BELL = "/notifications/inbox/bell/"


@contextmanager
def acting(user: User) -> Iterator[None]:
    request = RequestFactory().post("/")
    request.user = user
    with acting_as(request):
        yield


@pytest.fixture
def mia(db: None) -> User:
    return ManagerFactory(username="mia", first_name="Mia", last_name="M")


@pytest.fixture
def ann(db: None) -> User:
    return EmployeeFactory(username="ann", first_name="Ann", last_name="Lee")


def assign(task: Task, person: User, by: User) -> Delivery:
    with acting(by):
        task.assigned_to.add(person)
    return Delivery.objects.get(
        recipient=person, kind=Kind.TASK_ASSIGNED, context__task_id=task.pk
    )


def groups(response: object) -> list[tuple[str, list[str]]]:
    """The page's tasks, each with the first lines of its items, as listed."""
    return [
        (group.title, [item.headline for item in group.items])
        for group in response.context["page"]
    ]


def unread(user: User) -> int:
    return inbox.unread_count(user.pk)


def send_queued() -> None:
    queued = Delivery.objects.filter(status=Status.QUEUED).order_by("pk")
    send_batch(list(queued.values_list("pk", flat=True)))


class TestWhatItLists:
    def test_everything_addressed_to_her_whatever_her_email_choice(
        self, client: Client, mia: User, ann: User, smtp: SMTPServer
    ) -> None:
        Preference.objects.create(user=ann, kind=Kind.TASK_ASSIGNED, mode=Mode.OFF)
        assign(TaskFactory(title="Paint the hull"), ann, by=mia)
        send_queued()
        client.force_login(ann)

        response = client.get(INBOX)

        assert smtp.received == []  # no email, as she chose
        assert groups(response) == [
            ("Paint the hull", ["Mia M assigned you this task."])
        ]
        assert "1 unread." in response.text

    def test_tasks_come_newest_news_first_each_with_its_latest_items_first(
        self, client: Client, mia: User, ann: User
    ) -> None:
        hull, mast = TaskFactory(title="Hull"), TaskFactory(title="Mast")
        assign(hull, ann, by=mia)
        assign(mast, ann, by=mia)
        add_comment(hull, mia, "Primer first, please.")
        client.force_login(ann)

        response = client.get(INBOX)

        assert groups(response) == [
            (
                "Hull",
                ["Mia M commented on this task.", "Mia M assigned you this task."],
            ),
            ("Mast", ["Mia M assigned you this task."]),
        ]
        assert "“Primer first, please.”" in response.text

    def test_only_her_own_notifications_about_tasks(
        self, client: Client, mia: User, ann: User
    ) -> None:
        assign(TaskFactory(title="Hers"), ann, by=mia)
        assign(TaskFactory(title="Someone else's"), EmployeeFactory(), by=mia)
        DeliveryFactory(recipient=ann, kind=Kind.PASSWORD_RESET, context={})
        DeliveryFactory(recipient=ann, kind=Kind.DIGEST, context={"day": "2030-03-05"})
        client.force_login(ann)

        assert [title for title, _ in groups(client.get(INBOX))] == ["Hers"]
        assert unread(ann) == 1

    def test_the_mentions_view_lists_mentions_only(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory(title="Hull")
        assign(task, ann, by=mia)
        add_comment(task, mia, "@ann can you check the primer?")
        client.force_login(ann)

        response = client.get(INBOX, {"show": "mentions"})

        assert groups(response) == [("Hull", ["Mia M mentioned you in a comment."])]
        assert 'aria-current="page">Mentions<' in response.text

    def test_a_task_she_may_no_longer_open_keeps_its_items_but_not_its_link(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory(title="Hull")
        assign(task, ann, by=mia)
        with acting(mia):
            task.assigned_to.remove(ann)
        gone = TaskFactory(title="Mast")
        assign(gone, ann, by=mia)
        with acting(mia):
            gone.delete()
        client.force_login(ann)

        response = client.get(INBOX)

        assert groups(response) == [
            ("Mast", ["Mia M deleted this task.", "Mia M assigned you this task."]),
            (
                "Hull",
                ["Mia M removed you from this task.", "Mia M assigned you this task."],
            ),
        ]
        assert f'href="/tasks/{task.pk}/"' not in response.text
        assert "Deleted, or no longer yours to open" in response.text

    def test_a_busy_task_shows_its_latest_items_and_how_many_more(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory(title="Hull")
        assign(task, ann, by=mia)
        for number in range(6):
            add_comment(task, mia, f"Coat {number} is on.")
        client.force_login(ann)

        [group] = client.get(INBOX).context["page"]

        assert [item.excerpt for item in group.items] == [
            f"Coat {number} is on." for number in (5, 4, 3, 2, 1)
        ]
        assert (group.unread, group.more) == (7, 2)

    def test_twenty_tasks_a_page(self, client: Client, mia: User, ann: User) -> None:
        for task in TaskFactory.create_batch(inbox.TASKS_PER_PAGE + 1):
            assign(task, ann, by=mia)
        client.force_login(ann)

        first, second = client.get(INBOX), client.get(INBOX, {"page": 2})

        assert len(groups(first)) == inbox.TASKS_PER_PAGE
        assert len(groups(second)) == 1
        assert 'rel="next"' in first.text


class TestReadingAndArchiving:
    def test_mark_read_reads_that_tasks_items_and_the_count_falls(
        self, client: Client, mia: User, ann: User
    ) -> None:
        hull, mast = TaskFactory(title="Hull"), TaskFactory(title="Mast")
        hull_item, mast_item = assign(hull, ann, by=mia), assign(mast, ann, by=mia)
        client.force_login(ann)
        assert "Notifications, 2 unread" in client.get("/").text

        response = client.post(
            f"{INBOX}tasks/{hull.pk}/read/", {"next": f"{INBOX}?show=unread"}
        )

        assert response.url == f"{INBOX}?show=unread#task-{hull.pk}"
        assert (fresh(hull_item).read_via, fresh(mast_item).read_at) == (
            ReadVia.APP,
            None,
        )
        page = client.get(response.url)
        assert "“Hull”: marked read." in page.text
        assert "Notifications, 1 unread" in page.text
        assert [title for title, _ in groups(page)] == ["Mast"]

    def test_mark_all_read(self, client: Client, mia: User, ann: User) -> None:
        for task in TaskFactory.create_batch(3):
            assign(task, ann, by=mia)
        client.force_login(ann)

        client.post(f"{INBOX}read/")

        assert unread(ann) == 0
        assert "Nothing unread." in client.get(INBOX).text

    def test_archiving_reads_and_hides_and_moving_back_shows_again(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory(title="Hull")
        item = assign(task, ann, by=mia)
        client.force_login(ann)

        client.post(f"{INBOX}tasks/{task.pk}/archive/")

        assert fresh(item).read_via == ReadVia.APP
        assert groups(client.get(INBOX)) == []
        assert [
            title for title, _ in groups(client.get(INBOX, {"show": "archived"}))
        ] == ["Hull"]
        client.post(f"{INBOX}tasks/{task.pk}/restore/")
        assert [title for title, _ in groups(client.get(INBOX))] == ["Hull"]
        assert fresh(item).read_at is not None  # still read

    def test_her_buttons_touch_only_her_items(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory(title="Hull")
        bob = EmployeeFactory()
        hers, his = assign(task, ann, by=mia), assign(task, bob, by=mia)
        client.force_login(ann)

        client.post(f"{INBOX}tasks/{task.pk}/archive/")
        client.post(f"{INBOX}read/")

        assert fresh(hers).archived_at is not None
        assert (fresh(his).read_at, fresh(his).archived_at) == (None, None)

    def test_a_next_elsewhere_goes_back_to_the_inbox(
        self, client: Client, mia: User, ann: User
    ) -> None:
        client.force_login(ann)
        response = client.post(f"{INBOX}read/", {"next": "https://evil.example/"})
        assert response.url == INBOX

    def test_buttons_want_a_post_and_a_session(self, client: Client, ann: User) -> None:
        assert client.post(f"{INBOX}read/").url.startswith("/users/sign-in/")
        client.force_login(ann)
        assert client.get(f"{INBOX}read/").status_code == 405


class TestTheTasksPage:
    def test_opening_a_task_reads_its_items_for_her_alone(
        self, client: Client, mia: User, ann: User
    ) -> None:
        hull, mast = TaskFactory(title="Hull"), TaskFactory(title="Mast")
        hers = assign(hull, ann, by=mia)
        bob = EmployeeFactory()
        his = assign(hull, bob, by=mia)
        other = assign(mast, ann, by=mia)
        client.force_login(ann)

        page = client.get(f"/tasks/{hull.pk}/")

        assert page.status_code == 200
        assert "Notifications, 1 unread" in page.text  # the page counts after
        assert (fresh(hers).read_via, fresh(his).read_at, fresh(other).read_at) == (
            ReadVia.APP,
            None,
            None,
        )

    def test_a_forbidden_task_reads_nothing(
        self, client: Client, mia: User, ann: User
    ) -> None:
        task = TaskFactory()
        item = assign(task, ann, by=mia)
        with acting(mia):
            task.assigned_to.remove(ann)
        client.force_login(ann)

        assert client.get(f"/tasks/{task.pk}/").status_code == 403
        assert fresh(item).read_at is None


class TestTheBell:
    def test_signed_in_pages_show_it_and_signed_out_ones_do_not(
        self, client: Client, mia: User, ann: User
    ) -> None:
        assign(TaskFactory(), ann, by=mia)
        assert 'id="inbox-bell"' not in client.get("/users/sign-in/").text
        client.force_login(ann)
        page = client.get("/")
        assert "Notifications, 1 unread" in page.text
        assert f'hx-get="{BELL}?shown=1"' in page.text
        assert 'id="inbox-bell-news"' in page.text and 'aria-live="polite"' in page.text

    def test_polled_it_answers_only_when_the_count_changed(
        self, client: Client, mia: User, ann: User
    ) -> None:
        client.force_login(ann)
        assert client.get(BELL, {"shown": "0"}).status_code == 204

        assign(TaskFactory(), ann, by=mia)
        changed = client.get(BELL, {"shown": "0"})

        assert changed.status_code == 200
        assert "Notifications, 1 unread" in changed.text
        assert f'hx-get="{BELL}?shown=1"' in changed.text  # the next poll's
        assert re.search(
            r'id="inbox-bell-news" hx-swap-oob="innerHTML">1 unread notification<',
            changed.text,
        )
        assert "no-cache" in changed["Cache-Control"]

    def test_signed_out_it_stops_polling_instead_of_sending_the_page_away(
        self, client: Client
    ) -> None:
        answer = client.get(BELL, {"shown": "3"}, headers={"HX-Request": "true"})
        assert (answer.status_code, answer.content) == (286, b"")
        assert "HX-Redirect" not in answer

    def test_many_unread_show_as_99_plus(self, client: Client, ann: User) -> None:
        DeliveryFactory.create_batch(100, recipient=ann, kind=Kind.TASK_CREATED)
        client.force_login(ann)
        page = client.get("/")
        assert "Notifications, 100 unread" in page.text
        assert 'data-testid="bell-count" ' in page.text and ">99+</span>" in page.text


def link_in(body: str) -> str:
    [link] = re.findall(r"https?://\S+/tasks/\d+/\S*", body)
    return link


class TestFromTheEmail:
    @pytest.fixture
    def item(self, mia: User, ann: User, settings: object) -> Delivery:
        settings.FRONTEND_URL = "http://testserver"
        return assign(TaskFactory(title="Hull"), ann, by=mia)

    def test_following_the_link_reads_it_and_leaves_no_token_behind(
        self, client: Client, item: Delivery, ann: User
    ) -> None:
        link = link_in(build_message(item).body)
        client.force_login(ann)
        task_id = item.context["task_id"]

        response = client.get(link)

        assert response.status_code == 302
        assert response.url == f"/tasks/{task_id}/"
        assert (fresh(item).read_via, unread(ann)) == (ReadVia.EMAIL, 0)
        log = client.get("/notifications/")
        assert "Opened from the email" in log.text

    def test_signed_out_it_counts_once_signed_in(
        self, client: Client, item: Delivery, ann: User
    ) -> None:
        link = link_in(build_message(item).body)

        to_sign_in = client.get(link)

        assert fresh(item).read_at is None  # the token signs no one in
        [back] = parse_qs(urlsplit(to_sign_in.url).query)["next"]
        client.force_login(ann)
        client.get(back)
        assert fresh(item).read_via == ReadVia.EMAIL

    def test_someone_elses_or_a_forged_token_reads_nothing(
        self, client: Client, item: Delivery, mia: User, ann: User
    ) -> None:
        task_id = item.context["task_id"]
        client.force_login(mia)  # she may see the task, but the email was Ann's
        assert client.get(f"/tasks/{task_id}/", {"n": read_token(item.pk)}).url == (
            f"/tasks/{task_id}/"
        )
        client.force_login(ann)
        forged = f"{item.pk}:not-the-signature"
        client.get(f"/tasks/{task_id}/", {"n": forged})
        client.get(f"/tasks/{task_id}/", {"n": read_token(item.pk + 1000)})
        assert (fresh(item).read_at, item.recipient) == (None, ann)

    def test_a_head_request_reads_nothing(
        self, client: Client, item: Delivery, ann: User
    ) -> None:
        client.force_login(ann)
        client.head(link_in(build_message(item).body))
        assert fresh(item).read_at is None

    def test_the_redirect_stays_on_the_site(self) -> None:
        request = RequestFactory().get("/", {"n": "x", "page": "2"})
        request.path = "//evil.example/path/"  # as a server may hand it over
        assert without_token(request) == "/evil.example/path/?page=2"

    def test_each_line_of_a_digest_reads_its_own_item(
        self, client: Client, mia: User, ann: User, settings: object
    ) -> None:
        settings.FRONTEND_URL = "http://testserver"
        Preference.objects.create(user=ann, kind=Kind.TASK_ASSIGNED, mode=Mode.DIGEST)
        DigestSchedule.objects.create(user=ann, send_at=datetime.time(0, 0))
        hull, mast = TaskFactory(title="Hull"), TaskFactory(title="Mast")
        first, second = assign(hull, ann, by=mia), assign(mast, ann, by=mia)
        send_queued()
        [digest_id] = record_due_digests(timezone.now())

        links = re.findall(
            r"https?://\S+/tasks/\d+/\?n=\S+",
            build_message(Delivery.objects.get(pk=digest_id)).body,
        )

        assert sorted(links) == sorted(
            f"http://testserver/tasks/{row.context['task_id']}/?n="
            + read_token(row.pk).replace(":", "%3A")
            for row in (first, second)
        )


class TestBeforeTheEmailLeaves:
    def test_an_item_read_before_the_worker_takes_it_is_not_emailed(
        self, client: Client, mia: User, ann: User, smtp: SMTPServer
    ) -> None:
        task = TaskFactory(title="Hull")
        item = assign(task, ann, by=mia)
        client.force_login(ann)
        client.get(f"/tasks/{task.pk}/")

        send_queued()

        assert smtp.received == []
        assert (fresh(item).status, fresh(item).last_error) == (
            Status.SKIPPED,
            READ_IN_APP,
        )
        log = client.get("/notifications/").text
        assert "Not sent: </span>read in the app" in log
        assert "Read in the app" in log

    def test_one_read_after_it_left_was_sent_once_and_says_so(
        self, client: Client, mia: User, ann: User, smtp: SMTPServer
    ) -> None:
        item = assign(TaskFactory(), ann, by=mia)
        send_queued()
        client.force_login(ann)
        client.post(f"{INBOX}read/")

        assert len(smtp.received) == 1
        assert (fresh(item).status, fresh(item).read_via) == (Status.SENT, ReadVia.APP)

    def test_a_digest_leaves_out_what_was_read_and_is_skipped_when_all_was(
        self, client: Client, mia: User, ann: User, smtp: SMTPServer
    ) -> None:
        Preference.objects.create(user=ann, kind=Kind.TASK_ASSIGNED, mode=Mode.DIGEST)
        DigestSchedule.objects.create(user=ann, send_at=datetime.time(0, 0))
        hull, mast = TaskFactory(title="Hull"), TaskFactory(title="Mast")
        assign(hull, ann, by=mia), assign(mast, ann, by=mia)
        send_queued()  # both held for the digest
        client.force_login(ann)
        client.get(f"/tasks/{hull.pk}/")
        [monday] = record_due_digests(timezone.now())
        send_batch([monday])

        [digest] = smtp.received
        assert "Mast" in digest.body() and "Hull" not in digest.body()

        tomorrow = timezone.now() + datetime.timedelta(days=1)
        assign(TaskFactory(title="Keel"), ann, by=mia)
        send_queued()
        client.post(f"{INBOX}read/")
        [tuesday] = record_due_digests(tomorrow)
        send_batch([tuesday])

        assert len(smtp.received) == 1
        skipped = Delivery.objects.get(pk=tuesday)
        assert (skipped.status, skipped.last_error) == (Status.SKIPPED, READ_IN_APP)


def test_the_inbox_page_costs_the_same_queries_for_10_or_1000_items(
    client: Client, mia: User, ann: User
) -> None:
    project = ProjectFactory()
    tasks = TaskFactory.create_batch(40, project=project, assigned_to=[ann])
    Delivery.objects.filter(recipient=ann).delete()
    client.force_login(ann)

    def items(count: int) -> None:
        Delivery.objects.bulk_create(
            Delivery(
                kind=Kind.TASK_COMMENTED if n % 3 else Kind.MENTIONED,
                recipient=ann,
                event_key=f"load:{count}:{n}",
                context={
                    "task_id": tasks[n % len(tasks)].pk,
                    "title": "T",
                    "by": "Mia",
                },
                status=Status.SENT,
                read_at=timezone.now() if n % 2 else None,
            )
            for n in range(count)
        )

    def queries(url: str) -> list[str]:
        client.get(url)  # warm the session and content types
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return [query["sql"] for query in captured.captured_queries]

    for url in (INBOX, f"{INBOX}?show=mentions", f"{INBOX}?page=2"):
        Delivery.objects.all().delete()
        items(10)
        ten = queries(url)
        items(990)
        thousand = queries(url)
        assert len(thousand) == len(ten), "\n".join(thousand)
    assert len(ten) <= 10, "\n".join(ten)


def test_items_go_with_the_outboxs_retention_read_or_not(mia: User, ann: User) -> None:
    old_read = assign(TaskFactory(), ann, by=mia)
    old_unread = assign(TaskFactory(), ann, by=mia)
    waiting = assign(TaskFactory(), ann, by=mia)
    Delivery.objects.filter(pk__in=[old_read.pk, old_unread.pk]).update(
        status=Status.SENT, updated_at=timezone.now() - datetime.timedelta(days=91)
    )
    Delivery.objects.filter(pk=old_read.pk).mark_read(ReadVia.APP)

    Delivery.objects.purge_finished(timezone.now() - datetime.timedelta(days=90))

    assert list(Delivery.objects.inbox_of(ann.pk)) == [waiting]


def test_a_button_for_a_task_she_has_no_items_of_says_so_plainly(
    client: Client, ann: User
) -> None:
    client.force_login(ann)
    page = client.post(f"{INBOX}tasks/987654/archive/", follow=True)
    assert "That task archived" in page.text
