"""Keyboard only: a skip link, errors that take the focus, focus always in sight,
and a tab order that follows what the eye reads, at 1366 and 390 px."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tasks.models import Task
from tests.browser.product_pages import WIDTHS, seed_world, signed_in
from tests.support.browser import fresh_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MAX_TAB_STOPS = 120

# Where the focused element is, and whether a person can see it: its top inside
# the viewport (all of it, unless it is taller than the viewport), not under a
# sticky header, and the element actually hit in the middle of its visible part.
FOCUS_STATE = """() => {
  const element = document.activeElement;
  // A link wrapping over lines: its first line, not the box around all of them.
  const box = element.getClientRects()[0] || element.getBoundingClientRect();
  const header = document.querySelector("body > header");
  const sticky = header && getComputedStyle(header).position === "sticky";
  const headerBottom = sticky ? header.getBoundingClientRect().bottom : 0;
  const above = (header && header.contains(element))
    || getComputedStyle(element).position === "fixed";
  const visibleBottom = Math.min(box.bottom, innerHeight);
  const hit = document.elementFromPoint(
    box.left + box.width / 2, (Math.max(box.top, 0) + visibleBottom) / 2);
  const label = element.getAttribute("aria-label") || element.textContent || "";
  return {
    id: element.id,
    name: label.trim().replace(/\\s+/g, " ").slice(0, 60),
    tag: element.tagName,
    top: box.top, bottom: box.bottom, left: box.left, right: box.right,
    width: box.width, height: box.height,
    inViewport: box.width > 0 && box.top >= 0
      && (box.bottom <= innerHeight + 1 || box.height > innerHeight),
    underHeader: !above && element.id !== "main" && box.top < headerBottom - 1,
    covered: !(hit && (element === hit || element.contains(hit))),
    isBody: element === document.body,
  };
}"""


@pytest.fixture
def sized(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """700 px high: the forms are longer than the screen, so going back through
    them scrolls, and the focus could fall under the sticky header."""
    with fresh_page(browser, viewport={**WIDTHS[request.param], "height": 700}) as page:
        yield page


def focus_state(page: Page) -> dict[str, Any]:
    return page.evaluate(FOCUS_STATE)


def assert_in_sight(state: dict[str, Any]) -> None:
    where = f"{state['tag']} #{state['id']} {state['name']!r}"
    assert state["inViewport"], f"focused {where} is outside the viewport: {state}"
    assert not state["underHeader"], f"focused {where} is under the sticky header"
    assert not state["covered"], f"focused {where} is covered: {state}"


def tab_through(page: Page, *, backwards: bool = False) -> list[dict[str, Any]]:
    """Every tab stop of the page, in order, each checked to be in sight."""
    key = "Shift+Tab" if backwards else "Tab"
    stops = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press(key)
        state = focus_state(page)
        if state["isBody"] or (stops and state == stops[0]):
            return stops
        assert_in_sight(state)
        stops.append(state)
    return stops


def reads_after(first: dict[str, Any], then: dict[str, Any]) -> bool:
    """`then` comes after `first` in reading order: below it, on the same line
    to its right, in a column wholly to its right (a sidebar read after the main
    column), or inside it (a scroll region, then the buttons in it)."""
    inside = (
        then["top"] >= first["top"] - 1
        and then["bottom"] <= first["bottom"] + 1
        and then["left"] >= first["left"] - 1
        and then["right"] <= first["right"] + 1
    )
    first_middle = (first["top"] + first["bottom"]) / 2
    then_middle = (then["top"] + then["bottom"]) / 2
    same_line = abs(then_middle - first_middle) < min(first["height"], then["height"])
    next_column = then["left"] >= first["right"] - 1
    if inside or next_column:
        return True
    if same_line:
        return then["left"] >= first["left"] - 1
    return then_middle > first_middle


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_the_first_tab_offers_a_skip_link_to_the_content(
    sized: Page, site: str
) -> None:
    seed_world()
    signed_in(sized, site, "mira")

    sized.keyboard.press("Tab")

    skip = sized.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    assert_in_sight(focus_state(sized))
    sized.keyboard.press("Enter")
    expect(sized.locator("main")).to_be_focused()
    sized.keyboard.press("Tab")
    assert sized.evaluate(
        "document.querySelector('main').contains(document.activeElement)"
    )


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_a_failed_submit_puts_the_focus_on_the_errors_and_their_fields(
    sized: Page, site: str
) -> None:
    seed_world()
    signed_in(sized, site, "mira", "/tasks/create/")
    sized.locator("#id_project").select_option(label="Harbour refit")
    sized.fill("#id_due_date", "2031-05-17")
    sized.locator("#id_description").focus()
    sized.keyboard.type("Two coats.")

    sized.locator("#id_title").focus()  # empty: pressing Enter submits the form
    with sized.expect_navigation():
        sized.keyboard.press("Enter")

    summary = sized.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Title: This field is required.")
    assert_in_sight(focus_state(sized))
    title = sized.locator("#id_title")
    expect(title).to_have_attribute("aria-describedby", "id_title_error")
    expect(sized.locator("#id_title_error")).to_have_text("This field is required.")

    sized.keyboard.press("Tab")
    expect(
        sized.get_by_role("link", name="Title: This field is required.")
    ).to_be_focused()
    sized.keyboard.press("Enter")
    expect(title).to_be_focused()
    assert_in_sight(focus_state(sized))
    label_box = sized.locator('label[for="id_title"]').bounding_box()
    assert label_box is not None and label_box["y"] >= 0, "the label is out of sight"

    sized.keyboard.type("Paint the lighthouse")
    with sized.expect_navigation():
        sized.keyboard.press("Enter")
    expect(sized.get_by_role("status")).to_contain_text("Paint the lighthouse")
    assert Task.objects.filter(title="Paint the lighthouse").exists()


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
def test_focus_is_never_hidden_going_back_through_a_long_form(
    sized: Page, site: str
) -> None:
    seed_world()
    signed_in(sized, site, "mira", "/tasks/create/")
    sized.locator("main").get_by_role("button", name="Create task").focus()

    stops = tab_through(sized, backwards=True)  # each stop asserted in sight

    names = [stop["id"] for stop in stops]
    assert "id_project" in names and "id_title" in names


def tab_order_problems(stops: list[dict[str, Any]]) -> list[str]:
    """Consecutive stops whose order on screen disagrees with the tab order."""
    return [
        f"{first['name']!r} then {then['name']!r}"
        for first, then in itertools.pairwise(stops)
        if not reads_after(first, then)
    ]


def tab_stops_on_the_page(page: Page) -> list[dict[str, Any]]:
    """Tab through with page boxes (not viewport boxes), so order can be compared."""
    stops = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        state = focus_state(page)
        if state["isBody"] or state["id"] == "main":
            break
        assert_in_sight(state)
        scroll = page.evaluate("scrollY")
        state.update(top=state["top"] + scroll, bottom=state["bottom"] + scroll)
        if stops and same_element(state, stops[0]):
            break
        stops.append(state)
    return stops


def same_element(state: dict[str, Any], other: dict[str, Any]) -> bool:
    """Back at a stop, wherever the page has scrolled meanwhile: the first stop
    (the skip link, fixed while focused) moves on the page with the scroll, and
    Chromium sometimes wraps to it without a stop on the body."""
    return all(state[key] == other[key] for key in ("tag", "id", "name"))


PAGES_IN_ORDER = {
    "mira": ["/", "/tasks/create/", "/tasks/projects/", "/notifications/"],
    "ann": ["/", "/notifications/", "/notifications/inbox/"],
}


@pytest.mark.parametrize("sized", WIDTHS, indirect=True)
@pytest.mark.parametrize("username", PAGES_IN_ORDER)
def test_the_tab_order_follows_the_visual_order(
    sized: Page, site: str, username: str
) -> None:
    world = seed_world()
    signed_in(sized, site, username)
    urls = [*PAGES_IN_ORDER[username], f"/tasks/{world.task_id}/"]

    problems = {}
    for url in urls:
        sized.goto(site + url)
        stops = tab_stops_on_the_page(sized)
        assert len(stops) > 3, f"{url}: hardly anything to tab to"
        if found := tab_order_problems(stops):
            problems[url] = found

    assert problems == {}, problems


def test_sign_up_errors_take_the_focus_and_link_to_their_fields(
    page: Page, site: str
) -> None:
    page.goto(f"{site}/users/sign-up/")
    page.fill("#id_username", "nina")
    page.fill("#id_password1", "short")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign up").click()

    summary = page.get_by_test_id("error-summary")
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("^Email"))
    expect(link).to_have_attribute("href", "#id_email")
    expect(page.locator("#id_email")).to_have_attribute(
        "aria-describedby", re.compile("id_email_error")
    )
    expect(page.locator("#id_email_error")).to_be_visible()
