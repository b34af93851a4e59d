"""The list, phone first, in headless Chromium: at 390 px the first task is
within the first screen (a compact sticky header, small count cards, the
filters behind a button); keyboard shortcuts (? n / j k) work and their help
is a dialog. Light and dark, with axe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.product_pages import (
    AXE,
    DESKTOP,
    PHONE,
    seed_world,
    sign_in,
)
from tests.support.axe import report, serious_violations
from tests.support.browser import SCREENSHOTS, Screenshots, fresh_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["light", "dark"])
def phone(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with fresh_page(browser, viewport=PHONE, color_scheme=request.param) as page:
        page.context.add_init_script(path=str(AXE))
        yield page


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser, viewport=DESKTOP) as page:
        yield page


@pytest.mark.parametrize("username", ["ann", "mira"])
def test_the_first_task_is_on_the_first_screen_of_a_phone(
    phone: Page, site: str, username: str, request: pytest.FixtureRequest
) -> None:
    seed_world()
    sign_in(phone, site, username)
    first = phone.locator("[data-task-id]").first
    box = first.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"], box
    expect(phone.get_by_test_id("task-filters")).to_be_hidden()
    screenshot(phone, f"phone-list-{request.node.callspec.id}")
    if Screenshots.wanted:  # the first screen alone, as a phone shows it
        first_screen = (
            SCREENSHOTS / f"phone-first-screen-{request.node.callspec.id}.png"
        )
        phone.screenshot(path=str(first_screen))

    phone.get_by_role("button", name="Search and filters").click()
    expect(phone.get_by_test_id("task-filters")).to_be_visible()
    expect(phone.locator("#id_q")).to_be_focused()
    found = {}
    if violations := serious_violations(phone):
        found["phone-list"] = violations
    assert found == {}, report(found)


def test_the_header_stays_on_screen_while_the_list_scrolls(
    phone: Page, site: str
) -> None:
    seed_world()
    sign_in(phone, site, "mira")
    phone.mouse.wheel(0, 1500)
    expect(phone.get_by_role("navigation", name="Main")).to_be_in_viewport()


def test_keyboard_shortcuts_and_their_help(desktop: Page, site: str) -> None:
    seed_world()
    sign_in(desktop, site, "mira")
    links = desktop.locator("[data-task-id] a[href]")
    # Shown by the script that makes the keys work: it has run.
    expect(desktop.locator("[data-shortcuts-open]")).to_be_visible()
    desktop.keyboard.press("?")
    expect(desktop.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    desktop.keyboard.press("Escape")
    expect(desktop.get_by_role("dialog")).to_be_hidden()
    desktop.keyboard.press("j")
    expect(links.nth(0)).to_be_focused()
    desktop.keyboard.press("j")
    expect(links.nth(1)).to_be_focused()
    desktop.keyboard.press("k")
    expect(links.nth(0)).to_be_focused()
    desktop.keyboard.press("/")
    expect(desktop.locator("#id_q")).to_be_focused()
    desktop.keyboard.type("n/jk")  # typed into the search: no shortcut fires
    expect(desktop.locator("#id_q")).to_have_value("n/jk")
    desktop.locator("#id_q").blur()
    desktop.keyboard.press("n")
    expect(desktop).to_have_url(f"{site}/tasks/create/")
