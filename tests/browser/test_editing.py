"""Faster editing in headless Chromium at 1366 and 390 px, light and dark: a
Manager changes a status right from a row of the list (htmx, in place), then
changes two tasks at once with the bulk form (shown, at the foot of the
screen, once a row is ticked); the Today view lists what is due
today; by keyboard, a row's due date and assignees change in place. axe finds
no serious or critical violation on the list, its edit form open."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from tasks.models import Task
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    posting_in_place,
    sideways_overflow,
    signed_in,
)
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.axe import light_and_dark_violations, report
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=WIDTHS)
def view(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with axed_page(browser, str(request.param)) as page:
        yield page


def some_tasks() -> dict[str, Task]:
    UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        role=Role.MANAGER,
        password=PASSWORD,
    )
    UserFactory(first_name="Bob", last_name="Stone", role=Role.EMPLOYEE)
    project = ProjectFactory(name="Harbour refit")
    today = timezone.localdate()
    tasks = {}
    for title, due in (
        ("Paint the hull", today),
        ("Sand the deck", today + datetime.timedelta(days=2)),
        ("Order rope", today + datetime.timedelta(days=20)),
    ):
        detail = TaskDetailFactory(
            task__title=title, task__project=project, task__due_date=due
        )
        tasks[title] = detail.task
    return tasks


def status_of(task: Task) -> str:
    task.refresh_from_db()
    return task.status


def test_a_manager_edits_from_the_list_one_row_and_many_at_once(
    view: Page, site: str
) -> None:
    tasks = some_tasks()
    signed_in(view, site, "mia", "/tasks/")
    found: dict[str, object] = {}
    if violations := light_and_dark_violations(view):
        found["list"] = violations
    assert sideways_overflow(view) <= 0

    hull = tasks["Paint the hull"]
    view.select_option(f"#status-{hull.pk}", "IN_PROGRESS")
    posting_in_place(view, lambda: view.locator(f"#status-update-{hull.pk}").click())
    expect(view.locator("#messages")).to_contain_text("is now in progress")
    assert status_of(hull) == Task.Status.IN_PROGRESS

    deck, rope = tasks["Sand the deck"], tasks["Order rope"]
    bulk = view.get_by_role("form", name="Change the selected tasks")
    expect(bulk).to_be_hidden()  # until a row is ticked
    view.get_by_label("Select Sand the deck").check()
    view.get_by_label("Select Order rope").check()
    expect(bulk).to_be_in_viewport()
    expect(bulk).to_contain_text("2 tasks selected")
    view.get_by_label("Set status").select_option("COMPLETED")
    with view.expect_navigation():
        view.get_by_role("button", name="Apply to selected").click()
    expect(view.locator("#messages")).to_contain_text("2 tasks changed.")
    assert status_of(deck) == status_of(rope) == Task.Status.COMPLETED
    if violations := light_and_dark_violations(view):
        found["list-after-bulk"] = violations

    view.get_by_test_id("when-tabs").get_by_role("link", name="Today").click()
    expect(view.get_by_test_id("task-list")).to_contain_text("Paint the hull")
    expect(view.get_by_test_id("task-list")).not_to_contain_text("Order rope")
    assert found == {}, report(found)  # type: ignore[arg-type]


def test_a_manager_changes_a_rows_due_date_and_people_by_keyboard(
    view: Page, site: str
) -> None:
    hull = some_tasks()["Paint the hull"]
    signed_in(view, site, "mia", "/tasks/")
    row = view.locator(f"#task-row-{hull.pk}")
    edit = row.get_by_text("Edit")
    edit.focus()
    view.keyboard.press("Enter")
    due = row.get_by_label("Due date")
    expect(due).to_be_visible()
    found: dict[str, object] = {}
    if violations := light_and_dark_violations(view):
        found["row-edit-open"] = violations
    assert sideways_overflow(view) <= 0

    due.fill("2031-01-02")
    save = row.get_by_role("button", name="Save the due date of Paint the hull")
    posting_in_place(view, lambda: (save.focus(), view.keyboard.press("Enter")))
    expect(view.locator("#messages")).to_contain_text("Due date of “Paint the hull”")
    # The row is swapped in with its form still open and the focus kept.
    expect(save).to_be_focused()
    hull.refresh_from_db()
    assert hull.due_date == datetime.date(2031, 1, 2)

    row.get_by_label("Assign someone").select_option(label="Bob Stone")
    assign = row.get_by_role("button", name="Assign to Paint the hull")
    posting_in_place(view, lambda: (assign.focus(), view.keyboard.press("Enter")))
    remove = row.get_by_role("button", name="Remove Bob Stone from Paint the hull")
    expect(remove).to_be_visible()
    assert [str(person) for person in hull.assigned_to.all()] == ["Bob Stone"]
    posting_in_place(view, remove.click)
    expect(row.get_by_test_id("unassigned")).to_be_visible()
    assert not hull.assigned_to.exists()
    if violations := light_and_dark_violations(view):
        found["row-edit-after"] = violations
    assert found == {}, report(found)  # type: ignore[arg-type]
