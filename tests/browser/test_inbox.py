"""The inbox in headless Chromium, at 1366 and 390 px: the bell counts what a
colleague does without a reload and says it aloud; the inbox is used by
keyboard only, with no serious axe violation; an item read before its email
leaves sends nothing to the suite's SMTP server (the job waits in Redis: the
worker is not started yet); a link followed from an email reads its item."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from django.http import HttpRequest
from playwright.sync_api import Browser, Locator, Page, expect
from pytest_django.fixtures import Settings as DjangoSettings

from devtools.processes import Process, start_worker
from devtools.smtp import SMTPServer
from notifications.contexts import READ_IN_APP
from notifications.models import Delivery
from tasks.activity import add_comment
from tasks.models import Task
from tests.browser.product_pages import (
    AXE,
    DESKTOP,
    PASSWORD,
    WIDTHS,
    sideways_overflow,
    signed_in,
)
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.axe import report, serious_violations
from tests.support.browser import fresh_page, screenshot
from tests.support.processes import LOG_DIR
from users.actor import acting_as
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Status, ReadVia = Delivery.Status, Delivery.ReadVia


@pytest.fixture
def quick_bell(settings: DjangoSettings) -> None:
    """The bell asks every second (30 in production): the live server runs in
    this process, with these settings."""
    settings.NOTIFICATIONS_INBOX_POLL_SECONDS = 1


@pytest.fixture
def worker_later(
    worker_env: dict[str, str], broker_queue: object
) -> Iterator[Callable[[], Process]]:
    """Starts a real worker when the test says; until then the jobs published
    at commit wait in Redis (emptied first: nothing of another test's)."""
    started: list[Process] = []

    def start() -> Process:
        started.append(start_worker(worker_env, LOG_DIR, concurrency=1, name="inbox"))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def person(role: str, username: str, first: str, last: str) -> User:
    return UserFactory(
        username=username, first_name=first, last_name=last, role=role,
        password=PASSWORD,
    )  # fmt: skip


def team() -> tuple[dict[str, User], Task, Task]:
    """Mia (Manager) made two tasks in Harbour, nobody assigned yet."""
    people = {
        "mia": person(Role.MANAGER, "mia", "Mia", "Manager"),
        "ann": person(Role.EMPLOYEE, "ann", "Ann", "Smith"),
    }
    request = HttpRequest()
    request.user = people["mia"]
    harbour = ProjectFactory(name="Harbour")
    with acting_as(request):
        hull, mast = (
            TaskDetailFactory(task__title=title, task__project=harbour).task
            for title in ("Paint the hull", "Scrape the mast")
        )
    return people, hull, mast


def assign_in_the_browser(page: Page, site: str, task: Task, label: str) -> None:
    page.goto(f"{site}/tasks/{task.pk}/edit/")
    page.get_by_label(label).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status")).to_contain_text("saved")


def bell(page: Page) -> Locator:
    return page.get_by_test_id("bell")


def no_serious_violation(page: Page, name: str) -> None:
    found = serious_violations(page)
    assert found == [], report({name: found})


def wait_until(condition: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def assignment_of(person: User, task: Task) -> Delivery:
    return Delivery.objects.get(
        recipient=person, kind=Delivery.Kind.TASK_ASSIGNED, context__task_id=task.pk
    )


@pytest.mark.parametrize("width", WIDTHS)
def test_the_bell_rises_falls_and_an_item_read_first_is_never_emailed(
    browser: Browser,
    site: str,
    width: str,
    quick_bell: None,
    worker_later: Callable[[], Process],
    smtp_server: SMTPServer,
) -> None:
    people, hull, mast = team()
    with (
        fresh_page(browser, viewport=WIDTHS[width]) as ann,
        fresh_page(browser, viewport=DESKTOP) as mia,
    ):
        # An init script, not a <script> tag: the page's CSP does not apply to it.
        ann.context.add_init_script(path=str(AXE))
        signed_in(ann, site, "ann")
        expect(bell(ann)).to_have_accessible_name("Notifications, none unread")
        ann.evaluate("window.neverReloaded = true")

        signed_in(mia, site, "mia")
        assign_in_the_browser(mia, site, hull, "Ann Smith (ann)")

        # Ann's page, left alone, hears of it and says so.
        expect(bell(ann)).to_have_accessible_name("Notifications, 1 unread")
        expect(ann.get_by_test_id("bell-count")).to_have_text("1")
        expect(ann.locator("#inbox-bell-news")).to_have_text("1 unread notification")
        assert ann.evaluate("window.neverReloaded") is True
        no_serious_violation(ann, f"bell-{width}")

        # By keyboard: the bell, then the task's "Mark read".
        bell(ann).focus()
        with ann.expect_navigation():
            ann.keyboard.press("Enter")
        group = ann.get_by_test_id("inbox-task")
        expect(group).to_have_count(1)
        expect(group).to_contain_text("Paint the hull")
        expect(group).to_contain_text("Mia Manager assigned you this task.")
        expect(bell(ann)).to_have_attribute("aria-current", "page")
        no_serious_violation(ann, f"inbox-{width}")
        assert sideways_overflow(ann) == 0
        screenshot(ann, f"inbox-{width}")
        mark_read = ann.get_by_role("button", name="Mark read: Paint the hull")
        mark_read.focus()
        with ann.expect_navigation():
            ann.keyboard.press("Enter")
        expect(ann.get_by_role("status")).to_contain_text(
            "“Paint the hull”: marked read."
        )
        expect(bell(ann)).to_have_accessible_name("Notifications, none unread")
        assert assignment_of(people["ann"], hull).read_via == ReadVia.APP

        # Only now does a worker take the job waiting in Redis: no email.
        worker_later()
        read_first = assignment_of(people["ann"], hull)
        settled = Delivery.objects.filter(pk=read_first.pk).exclude(
            status__in=[Status.QUEUED, Status.SENDING]
        )
        wait_until(settled.exists)
        read_first.refresh_from_db()
        assert (read_first.status, read_first.last_error) == (
            Status.SKIPPED, READ_IN_APP
        )  # fmt: skip

        # The next one goes out; its link, followed, reads it.
        assign_in_the_browser(mia, site, mast, "Ann Smith (ann)")
        [email] = smtp_server.wait_for(1)
        assert "Scrape the mast" in email.subject
        expect(bell(ann)).to_have_accessible_name("Notifications, 1 unread")
        [link] = re.findall(r"https?://\S+\?n=\S+", email.body())
        ann.goto(link)
        expect(ann).to_have_url(f"{site}/tasks/{mast.pk}/")  # the token is gone
        expect(bell(ann)).to_have_accessible_name("Notifications, none unread")
        assert assignment_of(people["ann"], mast).read_via == ReadVia.EMAIL

        ann.goto(f"{site}/notifications/")
        log = ann.get_by_test_id("delivery-log")
        expect(log).to_contain_text("read in the app")
        expect(log).to_contain_text("Opened from the email")
        no_serious_violation(ann, f"delivery-log-read-{width}")
        assert len(smtp_server.received) == 1  # the one read first never went


@pytest.mark.parametrize("width", WIDTHS)
def test_archiving_and_the_mentions_view_by_keyboard(
    browser: Browser, site: str, width: str
) -> None:
    people, hull, mast = team()
    request = HttpRequest()
    request.user = people["mia"]
    with acting_as(request):
        hull.assigned_to.add(people["ann"])
        mast.assigned_to.add(people["ann"])
    add_comment(mast, people["mia"], "@ann the mast first, please")
    with fresh_page(browser, viewport=WIDTHS[width], color_scheme="dark") as ann:
        ann.context.add_init_script(path=str(AXE))
        signed_in(ann, site, "ann")
        expect(bell(ann)).to_have_accessible_name("Notifications, 3 unread")
        ann.goto(f"{site}/notifications/inbox/")
        no_serious_violation(ann, f"inbox-dark-{width}")

        mentions = ann.get_by_role("link", name="Mentions")
        mentions.focus()
        with ann.expect_navigation():
            ann.keyboard.press("Enter")
        expect(ann.get_by_test_id("inbox-item")).to_have_text(
            re.compile("Mia Manager mentioned you in a comment")
        )
        expect(mentions).to_have_attribute("aria-current", "page")

        archive = ann.get_by_role("button", name="Archive: Scrape the mast")
        archive.focus()
        with ann.expect_navigation():
            ann.keyboard.press("Enter")
        expect(ann.get_by_role("status")).to_contain_text("archived")
        expect(ann.get_by_test_id("inbox-empty")).to_be_visible()
        expect(bell(ann)).to_have_accessible_name("Notifications, 1 unread")
        no_serious_violation(ann, f"inbox-archived-dark-{width}")
        assert sideways_overflow(ann) == 0
        screenshot(ann, f"inbox-archived-dark-{width}")
