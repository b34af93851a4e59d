"""The list, phone first, in headless Chromium: at 390 px the first task is
within the first screen (a sticky header of one row, its secondary links
behind a Menu button, small count cards, the filters behind a button, the
change of many tasks waiting for a ticked row); keyboard shortcuts (? n / j
k) work and their help is a dialog. Light and dark, with axe."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.product_pages import (
    DESKTOP,
    PHONE,
    axed_page,
    seed_world,
    signed_in,
)
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import SCREENSHOTS, Screenshots, fresh_page, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """At 390 px; axe reads it light and dark (the layout is the same in both)."""
    with axed_page(browser, "phone") as page:
        yield page


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    with fresh_page(browser, viewport=DESKTOP) as page:
        yield page


# One row of the header: its links (32 px) and padding, not two rows of them.
ONE_ROW = 56


@pytest.mark.parametrize("username", ["ann", "mira", "ada"])
def test_the_first_task_is_on_the_first_screen_of_a_phone(
    phone: Page, site: str, username: str, request: pytest.FixtureRequest
) -> None:
    seed_world()
    signed_in(phone, site, username)
    first = phone.locator("[data-task-id]").first
    box = first.bounding_box()
    assert box is not None
    assert box["y"] + box["height"] <= PHONE["height"], box
    header = phone.locator("header").bounding_box()
    assert header is not None and header["height"] <= ONE_ROW, header
    expect(phone.get_by_test_id("task-filters")).to_be_hidden()
    # A Manager's change of many tasks waits for a ticked row, below the list.
    expect(phone.get_by_role("form", name="Change the selected tasks")).to_be_hidden()
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
    if violations := light_and_dark_violations(phone):
        found["phone-list"] = violations
    assert found == {}, report(found)


def test_the_header_stays_on_screen_while_the_list_scrolls(
    phone: Page, site: str
) -> None:
    seed_world()
    signed_in(phone, site, "mira")
    phone.mouse.wheel(0, 1500)
    expect(phone.get_by_role("navigation", name="Main")).to_be_in_viewport()


def test_the_headers_menu_opens_and_closes_by_keyboard(phone: Page, site: str) -> None:
    seed_world()
    signed_in(phone, site, "mira")
    menu = phone.get_by_role("button", name="Menu")
    profile = phone.get_by_role("link", name="Profile")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(profile).to_be_hidden()
    menu.focus()
    phone.keyboard.press("Enter")
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(profile).to_be_visible()
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    found = {}
    if violations := light_and_dark_violations(phone):
        found["phone-menu-open"] = violations
    phone.keyboard.press("Escape")
    expect(profile).to_be_hidden()
    expect(menu).to_be_focused()
    phone.keyboard.press("Space")
    phone.keyboard.press("Tab")  # the menu's links follow its button
    phone.keyboard.press("Tab")
    expect(phone.locator(":focus")).to_have_text("Emails")
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{site}/notifications/")
    assert found == {}, report(found)


def test_without_javascript_the_menus_links_and_the_bulk_form_show(
    browser: Browser, site: str
) -> None:
    seed_world()
    options = {"viewport": PHONE, "java_script_enabled": False}
    with fresh_page(browser, **options) as page:
        signed_in(page, site, "mira")
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        expect(page.get_by_role("link", name="Profile")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_be_hidden()
        bulk = page.get_by_role("form", name="Change the selected tasks")
        expect(bulk).to_be_visible()
        # Below the list, not following the screen.
        last = page.locator("[data-task-id]").last.bounding_box()
        box = bulk.bounding_box()
        assert last is not None and box is not None
        assert box["y"] >= last["y"] + last["height"], (box, last)


def test_keyboard_shortcuts_and_their_help(desktop: Page, site: str) -> None:
    seed_world()
    signed_in(desktop, site, "mira")
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
