"""The board in headless Chromium at 1366 and 390 px, light and dark: a card
is dragged to another column with the mouse, and moved with the keyboard alone
through its "Move to" control; htmx swaps the board, the focus stays on the
card's control, the change is announced, and it is saved. axe finds no serious
or critical violation on the board."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tasks.models import Task
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    posting_in_place,
    sideways_overflow,
)
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import screenshot
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=WIDTHS)
def view(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with axed_page(browser, str(request.param)) as page:
        yield page


def a_project() -> tuple[Task, Task]:
    UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        role=Role.MANAGER,
        password=PASSWORD,
    )
    ann = UserFactory(
        username="ann", first_name="Ann", last_name="Lee", role=Role.EMPLOYEE
    )
    project = ProjectFactory(name="Harbour refit")
    hull = TaskDetailFactory(task__title="Paint the hull", task__project=project)
    deck = TaskDetailFactory(task__title="Sand the deck", task__project=project)
    TaskDetailFactory(
        task__title="Order the rope",
        task__project=project,
        task__status=Task.Status.COMPLETED,
    )
    hull.task.assigned_to.add(ann)
    return hull.task, deck.task


def open_board(page: Page, site: str, task: Task) -> None:
    page.goto(f"{site}/users/sign-in/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{site}/")
    page.goto(f"{site}/tasks/projects/{task.project_id}/board/")


def card(page: Page, title: str) -> object:
    return page.get_by_test_id("card").filter(has_text=title)


def test_a_card_moves_by_mouse_and_by_keyboard(
    view: Page, site: str, request: pytest.FixtureRequest
) -> None:
    hull, deck = a_project()
    open_board(view, site, hull)
    found: dict[str, object] = {}
    if violations := light_and_dark_violations(view):
        found["board"] = violations
    assert sideways_overflow(view) <= 0
    screenshot(view, f"board-{request.node.callspec.id}")

    in_progress = view.get_by_test_id("column-IN_PROGRESS")
    posting_in_place(
        view,
        lambda: card(view, "Paint the hull").drag_to(in_progress),  # type: ignore[attr-defined]
    )
    expect(in_progress).to_contain_text("Paint the hull")
    expect(view.locator("#messages")).to_contain_text(
        "“Paint the hull” moved to In progress."
    )
    hull.refresh_from_db()
    assert hull.status == Task.Status.IN_PROGRESS

    select = view.locator(f"#move-{deck.pk}")
    select.focus()
    view.keyboard.press("ArrowDown")  # Pending -> In progress
    view.keyboard.press("ArrowDown")  # -> Completed
    view.keyboard.press("Tab")
    posting_in_place(view, lambda: view.keyboard.press("Enter"))
    expect(view.get_by_test_id("column-COMPLETED")).to_contain_text("Sand the deck")
    expect(view.locator(f"#move-{deck.pk}")).to_have_value("COMPLETED")
    expect(view.locator(f"#move-button-{deck.pk}")).to_be_focused()  # not <body>
    deck.refresh_from_db()
    assert deck.status == Task.Status.COMPLETED
    if violations := light_and_dark_violations(view):
        found["board-after-moves"] = violations
    assert found == {}, report(found)  # type: ignore[arg-type]
