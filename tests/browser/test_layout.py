"""A 404 with a way back, and a list whose counts add up. (That no page is
wider than a phone is read in test_accessibility's walk over every page.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from notifications.models import Delivery
from tasks.models import Task
from tests.browser.product_pages import (
    WIDTHS,
    header_link,
    seed_world,
    sideways_overflow,
    signed_in,
)
from tests.factories import DeliveryFactory, UserFactory
from tests.support.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_a_link_to_a_deleted_task_gets_a_404_with_a_way_back(
    sized: Page, site: str, request: pytest.FixtureRequest
) -> None:
    world = seed_world()
    signed_in(sized, site, "ann")
    Task.objects.filter(pk=world.task_id).delete()  # the old email's link

    response = sized.goto(f"{site}/tasks/{world.task_id}/")

    assert response is not None and response.status == 404
    expect(
        sized.get_by_role("heading", name=re.compile("find that page"))
    ).to_be_visible()
    expect(sized.get_by_role("navigation", name="Main")).to_be_visible()
    screenshot(sized, f"layout-404-{request.node.callspec.id}")
    sized.get_by_role("link", name="Back to your tasks").click()
    expect(sized).to_have_url(f"{site}/")
    expect(sized.get_by_role("heading", name="My tasks")).to_be_visible()


def count_of(page: Page, card: str) -> int:
    return int(page.locator(f'[data-count="{card}"]').inner_text())


def rows(page: Page) -> list[str]:
    return page.get_by_test_id("task-list").locator("tbody tr[data-task-id]").all()


def open_filters(page: Page) -> None:
    """On a phone the filters wait behind a button (tasks/_filters.html)."""
    toggle = page.get_by_role("button", name=re.compile("^Search and filters"))
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()


def filter_by(page: Page, label: str, option: str) -> None:
    open_filters(page)
    page.get_by_test_id("task-filters").get_by_label(label).select_option(label=option)
    page.get_by_role("button", name="Filter", exact=True).click()


def sort_by_priority(page: Page, phone: bool) -> None:
    if phone:  # the column headers are hidden: the form has a "Sort by" select
        open_filters(page)
        page.get_by_label("Sort by").select_option(label="Priority, high first")
        page.get_by_role("button", name="Filter", exact=True).click()
    else:
        page.get_by_role("columnheader", name="Priority").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"sort=priority"))


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_sorting_and_filtering_keep_the_count_cards_matching(
    sized: Page, site: str, request: pytest.FixtureRequest
) -> None:
    seed_world()
    signed_in(sized, site, "mira")
    ann = Task.objects.filter(assigned_to__username="ann")

    filter_by(sized, "Assignee", "Ann Lee (ann)")
    expect(sized).to_have_url(re.compile(r"assignee=\d+"))
    assert count_of(sized, "total") == ann.count()
    for status, card in [("PENDING", "pending"), ("COMPLETED", "completed")]:
        assert count_of(sized, card) == ann.filter(status=status).count()

    sized.locator('[data-count="completed"]').click()
    expect(sized).to_have_url(re.compile(r"status=COMPLETED"))
    completed = ann.filter(status=Task.Status.COMPLETED)
    expect(
        sized.get_by_test_id("task-list").locator("tbody tr[data-done]")
    ).to_have_count(completed.count())
    assert len(rows(sized)) == count_of(sized, "completed")
    assert "assignee=" in sized.url, "the card kept the assignee filter"

    sort_by_priority(sized, phone=request.node.callspec.id == "phone")
    badges = (
        sized.get_by_test_id("task-list")
        .locator("tbody tr")
        .get_by_text(re.compile(r"(High|Medium|Low) priority"))
    )
    order = [text.split()[0] for text in badges.all_inner_texts()]
    rank = {"High": 0, "Medium": 1, "Low": 2}
    assert order == sorted(order, key=rank.__getitem__)
    assert len(order) == completed.count()
    screenshot(sized, f"layout-sorted-filtered-{request.node.callspec.id}")


# For each avatar but the last: pixels between the end of its initials and the
# start of the next circle's 2 px ring, which is drawn over it.
INITIALS_CLEARANCE = """(groups) => groups.flatMap((group) => {
  const circles = [...group.querySelectorAll("li > span[aria-hidden]")];
  return circles.slice(0, -1).map((circle, index) => {
    const initials = document.createRange();
    initials.selectNodeContents(circle);
    const nextRing = circles[index + 1].getBoundingClientRect().left - 2;
    return nextRing - initials.getBoundingClientRect().right;
  });
})"""


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_overlapping_avatars_never_cover_each_others_initials(
    sized: Page, site: str
) -> None:
    seed_world()
    signed_in(sized, site, "mira")

    groups = sized.locator('ul[aria-label="Assigned to"]')
    clearances = groups.evaluate_all(INITIALS_CLEARANCE)

    assert len(clearances) > 5, "too few overlapping avatars to judge"
    assert min(clearances) >= 0, clearances


@pytest.mark.parametrize("sized", ["phone"], indirect=True)
def test_the_delivery_log_is_usable_on_a_phone(sized: Page, site: str) -> None:
    seed_world()
    zed = UserFactory(username="zed", email="zed.quill@example.com")
    failed = DeliveryFactory(
        recipient=zed,
        status=Delivery.Status.FAILED,
        last_error="550 5.1.1 no such user",
    )
    signed_in(sized, site, "mira")

    header_link(sized, "Emails").click()
    sized.get_by_label("Recipient (username or email)").fill("quill@")
    sized.get_by_role("button", name="Filter").click()

    row = sized.locator(f'[data-delivery-id="{failed.pk}"]')
    expect(row).to_be_visible()
    expect(sized.get_by_test_id("match-count")).to_contain_text("1 email matches")
    expect(row).to_contain_text("zed.quill@example.com")
    expect(row).to_contain_text("550 5.1.1 no such user")
    expect(row).to_contain_text(re.compile(r"\w{3} \d+ \w{3} \d{4}, \d\d:\d\d UTC"))
    assert sideways_overflow(sized) == 0
    box = row.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    screenshot(sized, "layout-delivery-log-phone")

    row.get_by_role("button", name=re.compile("Re-send")).click()
    expect(sized.get_by_role("status")).to_contain_text("queued to be sent again")
    failed.refresh_from_db()
    assert failed.status == Delivery.Status.QUEUED
