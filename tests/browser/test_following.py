"""Who is told, in headless Chromium at 1366 and 390 px: watching a task (and a
Manager adding a watcher), @mentioning someone with the suggestions by keyboard
only (and without JavaScript), and choosing a project's level in the email
settings and on the project's page; each with no serious axe violation."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.http import HttpRequest
from playwright.sync_api import Browser, Page, expect

from notifications.levels import default_level, project_levels
from notifications.models import Delivery, NotificationLevel
from tasks.models import Comment, Task
from tasks.watching import watchers
from tests.browser.product_pages import (
    AXE,
    PASSWORD,
    WIDTHS,
    posting_in_place,
    sideways_overflow,
    signed_in,
)
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.axe import report, serious_violations
from tests.support.browser import fresh_page, screenshot
from users.actor import acting_as
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
Level = NotificationLevel.Level


@pytest.fixture
def axed(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page at the test's width ("desktop", "phone") with axe-core loaded."""
    with fresh_page(browser, viewport=WIDTHS[request.param]) as page:
        # An init script, not a <script> tag: the page's CSP does not apply to it.
        page.context.add_init_script(path=str(AXE))
        yield page


def no_serious_violation(page: Page, name: str) -> None:
    found = serious_violations(page)
    assert found == [], report({name: found})


def person(role: str, username: str, first: str, last: str) -> User:
    return UserFactory(
        username=username, first_name=first, last_name=last, role=role,
        password=PASSWORD,
    )  # fmt: skip


def team() -> tuple[Task, dict[str, User]]:
    """Mia (Manager) made the task and assigned Ann; Max and Lea are other
    Managers; Zoe an employee who cannot see the task."""
    people = {
        "mia": person(Role.MANAGER, "mia", "Mia", "Manager"),
        "max": person(Role.MANAGER, "max", "Max", "Mayer"),
        "lea": person(Role.MANAGER, "lea", "Lea", "Lund"),
        "ann": person(Role.EMPLOYEE, "ann", "Ann", "Smith"),
        "zoe": person(Role.EMPLOYEE, "zoe", "Zoe", "Outsider"),
    }
    request = HttpRequest()
    request.user = people["mia"]
    with acting_as(request):
        task = TaskDetailFactory(
            task__title="Paint the lighthouse",
            task__project=ProjectFactory(name="Harbour"),
        ).task
        task.assigned_to.add(people["ann"])
    return task, people


def names(task: Task) -> set[str]:
    return {person.username for person, _ in watchers(task)}


@pytest.mark.parametrize("axed", WIDTHS, indirect=True)
def test_a_manager_watches_a_task_and_adds_a_watcher(
    axed: Page, site: str, request: pytest.FixtureRequest
) -> None:
    width = request.node.callspec.id
    task, _ = team()
    signed_in(axed, site, "max", f"/tasks/{task.pk}/")
    listed = axed.get_by_test_id("watchers")
    expect(listed).to_contain_text("Mia Manager")
    expect(listed).to_contain_text("Ann Smith")
    no_serious_violation(axed, f"task-watchers-{width}")

    with axed.expect_navigation():
        axed.get_by_role("button", name="Watch", exact=True).click()
    expect(axed.get_by_role("status")).to_contain_text("You watch this task")
    expect(listed).to_contain_text("Max Mayer (you)")
    expect(axed.get_by_role("button", name="Stop watching")).to_be_visible()

    add = axed.get_by_label("Add a watcher")
    expect(add.locator("option")).to_have_text(["Lea Lund (lea)"])  # not Zoe
    add.select_option(label="Lea Lund (lea)")
    with axed.expect_navigation():
        axed.get_by_role("button", name="Add", exact=True).click()
    expect(axed.get_by_role("status")).to_contain_text("Lea Lund watches this task")
    expect(listed).to_contain_text("Lea Lund")
    expect(axed.get_by_label("Add a watcher")).to_have_count(0)  # nobody left
    no_serious_violation(axed, f"task-watchers-added-{width}")
    assert names(task) == {"mia", "ann", "max", "lea"}
    assert sideways_overflow(axed) == 0
    screenshot(axed, f"task-watchers-{width}")


@pytest.mark.parametrize("axed", WIDTHS, indirect=True)
def test_mentioning_by_keyboard_with_the_suggestions(
    axed: Page, site: str, request: pytest.FixtureRequest
) -> None:
    width = request.node.callspec.id
    task, people = team()
    signed_in(axed, site, "ann", f"/tasks/{task.pk}/")
    box = axed.get_by_label("Add a comment")
    box.focus()
    axed.keyboard.type("Ready for paint. @m")

    listbox = axed.get_by_role("listbox", name="People who can see this task")
    expect(listbox).to_be_visible()
    options = listbox.get_by_role("option")
    expect(options).to_have_count(2)  # Max and Mia; never Zoe, nor Ann herself
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-controls", "mention-listbox")
    no_serious_violation(axed, f"mention-suggestions-{width}")
    screenshot(axed, f"mention-suggestions-{width}")

    axed.keyboard.type("i")  # "@mi": only Mia is left
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Mia Manager")
    axed.keyboard.press("ArrowDown")  # wraps round to the only one
    active = box.get_attribute("aria-activedescendant")
    expect(axed.locator(f"#{active}")).to_contain_text("@mia")
    axed.keyboard.press("Enter")
    expect(listbox).to_be_hidden()
    expect(box).to_have_value("Ready for paint. @mia ")
    axed.keyboard.type("can you check the colour? @zz")
    expect(listbox).to_be_hidden()  # nobody matches: nothing to choose
    axed.keyboard.press("Escape")
    axed.keyboard.press("Tab")
    expect(axed.get_by_role("button", name="Post comment")).to_be_focused()
    posting_in_place(axed, lambda: axed.keyboard.press("Enter"))

    expect(axed.get_by_test_id("comments")).to_contain_text("@mia can you check")
    expect(axed.get_by_role("status")).to_contain_text("Nobody was notified for @zz")
    comment = Comment.objects.get()
    assert [p.username for p in comment.mentioned.all()] == ["mia"]
    mentioned = Delivery.objects.get(kind=Delivery.Kind.MENTIONED)
    assert mentioned.recipient == people["mia"]
    assert sideways_overflow(axed) == 0


@pytest.mark.parametrize("no_script", WIDTHS, indirect=True)
def test_without_javascript_typing_the_username_mentions(
    no_script: Page, site: str
) -> None:
    task, people = team()
    signed_in(no_script, site, "ann", f"/tasks/{task.pk}/")
    expect(no_script.get_by_role("listbox")).to_have_count(0)  # hidden, unused
    no_script.get_by_label("Add a comment").fill("@max over to you")
    with no_script.expect_navigation():
        no_script.get_by_role("button", name="Post comment").click()
    expect(no_script.get_by_role("status")).to_contain_text("Comment added.")
    mentioned = Delivery.objects.get(kind=Delivery.Kind.MENTIONED)
    assert mentioned.recipient == people["max"]
    assert "max" in names(task)


@pytest.mark.parametrize("axed", WIDTHS, indirect=True)
def test_levels_in_the_email_settings_and_on_the_projects_page(
    axed: Page, site: str, request: pytest.FixtureRequest
) -> None:
    width = request.node.callspec.id
    task, people = team()
    quiet = ProjectFactory(name="Archive")
    signed_in(axed, site, "mia", "/notifications/preferences/")
    default = axed.get_by_role("group", name=re.compile("Every project"))
    default.get_by_role("radio", name=re.compile("^Mentions only")).check()
    axed.get_by_label("Archive").select_option(label="Off")
    no_serious_violation(axed, f"email-settings-levels-{width}")
    with axed.expect_navigation():
        axed.get_by_role("button", name="Save preferences").click()
    expect(axed.get_by_role("status")).to_contain_text("preferences are saved")
    expect(axed.get_by_label("Archive")).to_have_value("off")
    assert default_level(people["mia"]) == Level.MENTIONS
    assert sideways_overflow(axed) == 0
    screenshot(axed, f"email-settings-levels-{width}")

    axed.goto(f"{site}/tasks/projects/{task.project_id}/edit/")
    choice = axed.get_by_role("group", name="Your emails about this project")
    watching = choice.get_by_role("radio", name=re.compile("^Watching"))
    watching.check()
    no_serious_violation(axed, f"project-level-{width}")
    with axed.expect_navigation():
        axed.get_by_role("button", name="Save my emails choice").click()
    expect(axed.get_by_role("status")).to_contain_text(
        "Emails about “Harbour”: Watching."
    )
    expect(watching).to_be_checked()
    assert project_levels(people["mia"]) == {
        quiet.pk: Level.OFF,
        task.project_id: Level.WATCHING,
    }
    assert sideways_overflow(axed) == 0
    screenshot(axed, f"project-level-{width}")
