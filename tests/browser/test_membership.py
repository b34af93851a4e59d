"""Project membership in headless Chromium, at 1366 and 390 px, light and
dark: an Employee is refused a project's page until a Manager adds them as a
member there; then they see every task of the project, not only theirs. axe
finds no serious or critical violation on the project's page."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tasks.models import Project
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    sideways_overflow,
    signed_in,
)
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import screenshot
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=WIDTHS)
def view_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def manager_page(browser: Browser, view_name: str) -> Iterator[Page]:
    with axed_page(browser, view_name) as page:
        yield page


@pytest.fixture
def employee_page(browser: Browser, view_name: str) -> Iterator[Page]:
    with axed_page(browser, view_name) as page:
        yield page


def harbour() -> Project:
    UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        role=Role.MANAGER,
        password=PASSWORD,
    )
    UserFactory(
        username="ann",
        first_name="Ann",
        last_name="Lee",
        role=Role.EMPLOYEE,
        password=PASSWORD,
    )
    project = ProjectFactory(name="Harbour refit")
    TaskDetailFactory(task__title="Paint the hull", task__project=project)
    return project


def test_an_employee_sees_a_projects_tasks_only_as_a_member(
    manager_page: Page, employee_page: Page, site: str, view_name: str
) -> None:
    project = harbour()
    found: dict[str, object] = {}
    signed_in(employee_page, site, "ann")
    response = employee_page.goto(f"{site}/tasks/projects/{project.pk}/")
    assert response is not None and response.status == 403
    employee_page.goto(f"{site}/tasks/projects/")
    expect(employee_page.get_by_test_id("project-list")).not_to_contain_text(
        "Harbour refit"
    )

    signed_in(manager_page, site, "mia", "/tasks/projects/")
    manager_page.get_by_role("link", name="Harbour refit", exact=True).click()
    manager_page.select_option("#id_member", label="Ann Lee (ann)")
    with manager_page.expect_navigation():
        manager_page.get_by_role("button", name="Add member").click()
    expect(manager_page.get_by_test_id("members")).to_contain_text("Ann Lee")
    if violations := light_and_dark_violations(manager_page):
        found["project-as-manager"] = violations
    assert sideways_overflow(manager_page) <= 0

    employee_page.goto(f"{site}/tasks/projects/")
    employee_page.get_by_role("link", name="Harbour refit", exact=True).click()
    expect(employee_page.get_by_test_id("task-list")).to_contain_text("Paint the hull")
    expect(employee_page.get_by_role("button", name="Add member")).to_have_count(0)
    if violations := light_and_dark_violations(employee_page):
        found["project-as-member"] = violations
    assert sideways_overflow(employee_page) <= 0
    screenshot(employee_page, f"project-as-member-{view_name}")
    assert found == {}, report(found)  # type: ignore[arg-type]
