"""Task management in headless Chromium, as a manager and as an employee."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from notifications.models import Delivery
from tasks.models import Project, Task, TaskDetail
from tests.browser.product_pages import PASSWORD, signed_in
from tests.factories import ProjectFactory, TaskDetailFactory, UserFactory
from tests.support.browser import screenshot
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}


def person(role: str, username: str, first: str, last: str) -> User:
    return UserFactory(
        username=username,
        first_name=first,
        last_name=last,
        role=role,
        password=PASSWORD,
    )


def assignment_emails() -> set[User]:
    """Recipients of the recorded "task assigned" emails (one row each)."""
    deliveries = Delivery.objects.filter(kind=Delivery.Kind.TASK_ASSIGNED)
    recipients = [delivery.recipient for delivery in deliveries]
    assert len(recipients) == len(set(recipients)), "someone was told twice"
    return set(recipients)


def expect_message(page: Page, text: str) -> None:
    expect(page.get_by_role("status")).to_contain_text(text)


def create_project(page: Page) -> None:
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="+ New project").click()
    page.fill("#id_name", "Harbour refit")
    page.fill("#id_description", "Spring works on the quay")
    page.fill("#id_start_date", "2031-03-01")
    page.get_by_role("button", name="Create project").click()
    expect_message(page, "Project “Harbour refit” created.")
    screenshot(page, "tasks-project-list")


def create_task(page: Page) -> None:
    row = page.get_by_test_id("project-list").locator("li", has_text="Harbour refit")
    row.get_by_role("link", name="Add task").click()
    expect(page.locator("#id_project")).to_have_value(
        str(Project.objects.get(name="Harbour refit").pk)
    )
    page.fill("#id_title", "Paint the lighthouse")
    page.fill("#id_description", "Two coats, white and red.")
    page.fill("#id_due_date", "2031-05-17")
    page.select_option("#id_status", "PENDING")
    page.select_option("#id_priority", "M")
    page.get_by_label("Ann Lee (ann)").check()
    page.get_by_label("Bob Stone (bob)").check()
    page.fill("#id_notes", "Scaffolding arrives Monday")
    screenshot(page, "tasks-create-form")
    page.get_by_role("button", name="Create task").click()
    expect_message(page, "Task “Paint the lighthouse” created.")
    expect(page.get_by_test_id("assignees")).to_contain_text("Ann Lee")
    expect(page.get_by_test_id("assignees")).to_contain_text("Bob Stone")
    screenshot(page, "tasks-detail-manager")


def edit_task(page: Page) -> None:
    page.get_by_role("link", name="Edit task").click()
    expect(page.locator("#id_notes")).to_have_value("Scaffolding arrives Monday")
    page.fill("#id_title", "Paint the lighthouse (urgent)")
    page.select_option("#id_priority", "H")
    page.select_option("#id_status", "IN_PROGRESS")
    page.get_by_label("Bob Stone (bob)").uncheck()
    page.get_by_label("Cid Moor (cid)").check()
    page.get_by_role("button", name="Save changes").click()
    expect_message(page, "Task “Paint the lighthouse (urgent)” saved.")
    expect(page.get_by_text("High priority")).to_be_visible()
    expect(page.get_by_test_id("assignees")).not_to_contain_text("Bob Stone")
    screenshot(page, "tasks-detail-after-edit")


def delete_task(page: Page) -> None:
    page.get_by_role("link", name="Delete").click()
    expect(page.get_by_role("heading", name="Delete this task?")).to_be_visible()
    screenshot(page, "tasks-delete-confirm")
    page.get_by_role("button", name="Delete task").click()
    expect_message(page, "Task “Paint the lighthouse (urgent)” deleted.")
    expect(page.get_by_test_id("task-list")).to_contain_text("No tasks yet")


def test_a_manager_creates_edits_and_deletes_a_task(page: Page, site: str) -> None:
    person(Role.MANAGER, "mira", "Mira", "Manager")
    ann = person(Role.EMPLOYEE, "ann", "Ann", "Lee")
    bob = person(Role.EMPLOYEE, "bob", "Bob", "Stone")
    cid = person(Role.EMPLOYEE, "cid", "Cid", "Moor")
    signed_in(page, site, "mira")
    expect(page.get_by_role("heading", name="Team dashboard")).to_be_visible()

    create_project(page)
    create_task(page)
    task = Task.objects.get(title="Paint the lighthouse")
    assert set(task.assigned_to.all()) == {ann, bob}
    assert TaskDetail.objects.get(task=task).notes == "Scaffolding arrives Monday"
    assert assignment_emails() == {ann, bob}

    edit_task(page)
    task.refresh_from_db()
    assert set(task.assigned_to.all()) == {ann, cid}
    assert assignment_emails() == {ann, bob, cid}, "only Cid is newly assigned"
    assert (task.status, task.details.priority) == ("IN_PROGRESS", "H")

    delete_task(page)
    assert not Task.objects.exists()
    assert not TaskDetail.objects.exists()


def test_the_manager_dashboard_counts_and_reads_well_on_a_phone(
    page: Page, site: str
) -> None:
    person(Role.MANAGER, "mira", "Mira", "Manager")
    ann = person(Role.EMPLOYEE, "ann", "Ann", "Lee")
    project = ProjectFactory(name="Harbour refit")
    for title, status, priority in [
        ("Paint the lighthouse", "PENDING", "H"),
        ("Fix the crane", "IN_PROGRESS", "M"),
        ("Order rope", "COMPLETED", "L"),
    ]:
        detail = TaskDetailFactory(
            task__title=title,
            task__status=status,
            task__project=project,
            priority=priority,
        )
        detail.task.assigned_to.add(ann)
    signed_in(page, site, "mira")

    expect(page.locator('[data-count="total"]')).to_have_text("3")
    expect(page.locator('[data-count="in_progress"]')).to_have_text("1")
    screenshot(page, "tasks-dashboard-manager")
    page.get_by_role("link", name=re.compile("In progress")).first.click()
    expect(page.get_by_test_id("task-list")).to_contain_text("Fix the crane")
    expect(page.get_by_test_id("task-list")).not_to_contain_text("Order rope")

    page.set_viewport_size(PHONE)
    page.goto(f"{site}/")
    screenshot(page, "tasks-dashboard-manager-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the dashboard scrolls sideways on a phone"


def test_an_employee_sees_only_their_tasks_and_changes_a_status(
    page: Page, site: str
) -> None:
    ann = person(Role.EMPLOYEE, "ann", "Ann", "Lee")
    project = ProjectFactory(name="Harbour refit")
    mine = TaskDetailFactory(task__title="Paint the lighthouse", task__project=project)
    mine.task.assigned_to.add(ann)
    other = TaskDetailFactory(task__title="Fix the crane", task__project=project)
    other.task.assigned_to.add(person(Role.EMPLOYEE, "bob", "Bob", "Stone"))
    TaskDetailFactory(
        task__title="Order rope", task__project=project
    ).task.assigned_to.add(ann)
    signed_in(page, site, "ann")

    tasks = page.get_by_test_id("task-list")
    expect(tasks).to_contain_text("Paint the lighthouse")
    expect(tasks).to_contain_text("Order rope")
    expect(tasks).not_to_contain_text("Fix the crane")
    expect(page.get_by_role("link", name="All tasks")).to_have_count(0)
    screenshot(page, "tasks-dashboard-employee")

    tasks.get_by_role("link", name=re.compile("Paint the lighthouse")).click()
    page.get_by_role("button", name="In progress").click()
    expect_message(page, "“Paint the lighthouse” is now in progress.")
    expect(page.get_by_role("button", name="In progress")).to_have_attribute(
        "aria-pressed", "true"
    )
    screenshot(page, "tasks-detail-employee")
    mine.task.refresh_from_db()
    assert mine.task.status == Task.Status.IN_PROGRESS

    page.goto(f"{site}/")
    row = page.locator("tr", has_text="Order rope")
    row.get_by_label("Status of Order rope").select_option("COMPLETED")
    row.get_by_role("button", name="Update").click()  # htmx swaps the row in place
    expect_message(page, "“Order rope” is now completed.")
    expect(page).to_have_url(f"{site}/")

    response = page.goto(f"{site}/tasks/{other.task.pk}/")
    assert response is not None and response.status == 403
    response = page.goto(f"{site}/tasks/create/")
    assert response is not None and response.status == 403
    expect(
        page.get_by_role("heading", name=re.compile("You can.t do that here"))
    ).to_be_visible()
    screenshot(page, "tasks-403-employee")
