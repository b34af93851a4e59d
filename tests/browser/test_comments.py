"""Comments and the history of a task in headless Chromium, at 1366 and 390 px:
through htmx (no reload, announced, focus kept), by keyboard, and without
JavaScript; both timelines oldest first (light and dark, with axe)."""

from __future__ import annotations

import re

import pytest
from django.http import HttpRequest
from playwright.sync_api import Browser, Page, expect

from tasks.activity import add_comment
from tasks.models import Comment, Task
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    posting_in_place,
    sideways_overflow,
    signed_in,
)
from tests.factories import TaskDetailFactory, UserFactory
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import screenshot
from users.actor import acting_as
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONG_WORD = "https://example.com/" + "lighthouse" * 40  # no place to break


def person(role: str, username: str, first: str, last: str) -> User:
    return UserFactory(
        username=username, first_name=first, last_name=last, role=role,
        password=PASSWORD,
    )  # fmt: skip


def task_made_by_mia() -> Task:
    """Mia creates the task and assigns Ann, as if on the task form."""
    mia = person(Role.MANAGER, "mia", "Mia", "Manager")
    ann = person(Role.EMPLOYEE, "ann", "Ann", "Smith")
    request = HttpRequest()
    request.user = mia
    with acting_as(request):
        task = TaskDetailFactory(task__title="Paint the lighthouse").task
        task.assigned_to.add(ann)
    return task


def comment_box(page: Page) -> object:
    return page.get_by_label("Add a comment")


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_an_assignee_comments_without_a_reload_and_hears_it(
    sized: Page, site: str, request: pytest.FixtureRequest
) -> None:
    width = request.node.callspec.id
    task = task_made_by_mia()
    signed_in(sized, site, "ann", f"/tasks/{task.pk}/")
    history = sized.get_by_test_id("history")
    expect(history).to_contain_text("Mia Manager assigned Ann Smith")
    expect(history).to_contain_text("Mia Manager created the task")
    expect(sized.get_by_test_id("created-by")).to_have_text("Mia Manager")
    expect(sized.get_by_test_id("assignees")).to_contain_text("assigned by Mia")
    sized.evaluate("window.sameDocument = true")  # gone if the page reloads

    comment_box(sized).fill(f"Ladder is back.\nSecond coat tomorrow: {LONG_WORD}")
    posting_in_place(sized, sized.get_by_role("button", name="Post comment").click)

    comments = sized.get_by_test_id("comments")
    expect(comments).to_contain_text("Ladder is back.")
    expect(sized.get_by_role("status")).to_have_text(re.compile("Comment added."))
    # The history reads as the comments do, oldest first: the new one last.
    expect(history.locator("li").last).to_have_text(
        re.compile(r"Ann Smith commented\s*\w{3} \d+ \w{3} \d{4}, \d\d:\d\d")
    )
    expect(history.locator("li").first).to_contain_text("Mia Manager created the task")
    expect(comment_box(sized)).to_be_focused()
    expect(comment_box(sized)).to_have_value("")
    assert sized.evaluate("window.sameDocument") is True
    body = comments.locator("li").first.locator("div.whitespace-pre-wrap")
    assert body.inner_text().splitlines()[0] == "Ladder is back."  # break kept
    assert sideways_overflow(sized) == 0
    screenshot(sized, f"comments-posted-{width}")

    comment = Comment.objects.get()
    assert comment.body.startswith("Ladder is back.\nSecond coat")
    assert comment.author.username == "ann"


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_by_keyboard_an_empty_comment_is_refused_then_fixed(
    sized: Page, site: str, request: pytest.FixtureRequest
) -> None:
    task = task_made_by_mia()
    signed_in(sized, site, "mia", f"/tasks/{task.pk}/")

    comment_box(sized).focus()
    sized.keyboard.press("Tab")
    expect(sized.get_by_role("button", name="Post comment")).to_be_focused()
    posting_in_place(sized, lambda: sized.keyboard.press("Enter"))

    summary = sized.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Write something before posting the comment.")
    expect(comment_box(sized)).to_have_attribute("aria-invalid", "true")
    screenshot(sized, f"comments-error-{request.node.callspec.id}")
    sized.keyboard.press("Tab")  # the summary's link to the field
    sized.keyboard.press("Enter")
    expect(comment_box(sized)).to_be_focused()
    sized.keyboard.type("Thanks, Ann.")
    sized.keyboard.press("Tab")
    posting_in_place(sized, lambda: sized.keyboard.press("Enter"))

    expect(sized.get_by_test_id("comments")).to_contain_text("Thanks, Ann.")
    expect(sized.get_by_test_id("error-summary")).to_have_count(0)
    assert Comment.objects.get().author.username == "mia"


@pytest.mark.parametrize("no_script", WIDTHS, indirect=True)
def test_without_javascript_the_comment_posts_and_the_page_shows_it(
    no_script: Page, site: str, request: pytest.FixtureRequest
) -> None:
    task = task_made_by_mia()
    signed_in(no_script, site, "ann", f"/tasks/{task.pk}/")

    with no_script.expect_navigation():
        no_script.get_by_role("button", name="Post comment").click()
    expect(no_script.get_by_test_id("error-summary")).to_contain_text(
        "Write something before posting the comment."
    )
    comment_box(no_script).fill("<b>Not bold</b>\non two lines")
    with no_script.expect_navigation():
        no_script.get_by_role("button", name="Post comment").click()

    comment = Comment.objects.get()
    expect(no_script).to_have_url(f"{site}/tasks/{task.pk}/#comment-{comment.pk}")
    expect(no_script.get_by_role("status")).to_contain_text("Comment added.")
    shown = no_script.locator(f"#comment-{comment.pk}")
    expect(shown).to_contain_text("<b>Not bold</b>")
    expect(shown.locator("b")).to_have_count(0)
    expect(no_script.get_by_test_id("history")).to_contain_text("Ann Smith commented")
    screenshot(no_script, f"comments-no-script-{request.node.callspec.id}")


def test_someone_not_on_the_task_cannot_open_or_comment_on_it(
    page: Page, site: str
) -> None:
    task = task_made_by_mia()
    person(Role.EMPLOYEE, "zoe", "Zoe", "Outsider")
    signed_in(page, site, "zoe")

    response = page.goto(f"{site}/tasks/{task.pk}/")

    assert response is not None and response.status == 403
    assert not Comment.objects.exists()


@pytest.mark.parametrize("view", WIDTHS)
def test_comments_and_history_both_read_oldest_first(
    browser: Browser, site: str, view: str
) -> None:
    task = task_made_by_mia()
    ann = User.objects.get(username="ann")
    add_comment(task, ann, "First: sanded.")
    add_comment(task, ann, "Second: painted.")
    with axed_page(browser, view) as page:
        signed_in(page, site, "ann", f"/tasks/{task.pk}/")
        comments = page.get_by_test_id("comments").locator("> li")
        history = page.get_by_test_id("history").locator("> li")
        expect(comments.first).to_contain_text("First: sanded.")
        expect(comments.last).to_contain_text("Second: painted.")
        expect(history.first).to_contain_text("Mia Manager created the task")
        expect(history.last).to_contain_text("Ann Smith commented")
        # Both timelines say which way they read.
        expect(page.get_by_text("Oldest first")).to_have_count(2)
        found = {}
        if violations := light_and_dark_violations(page):
            found["task-page"] = violations
        assert found == {}, report(found)
