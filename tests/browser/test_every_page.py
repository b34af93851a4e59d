"""Every page of the product, signed out and as each role, in headless Chromium
(forms shown with their errors included): each is opened once and must

- raise no serious or critical axe violation at 1366 px, at 390 px, and at
  1366 px with the system asking for dark mode;
- be no wider than a 390 px phone (WCAG 1.4.10, reflow);
- break nothing of its Content-Security-Policy (the project's own, django-csp:
  scripts and styles from our origin only, none inline, no eval).

The width and the colour scheme change under the same document rather than
three browsers loading it three times: the layout and colours follow them
without a reload (no script of the product reads either).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.product_pages import (
    PHONE,
    ROLES,
    VIEWS,
    axed_page,
    open_page,
    seed_world,
    sideways_overflow,
    signed_in,
)
from tests.support.axe import report, serious_violations
from tests.support.browser import keep_if_failed, screenshot
from tests.support.csp import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def walker(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page with axe and the policy's violations recorded on every document
    (init scripts: the page's policy does not apply to them)."""
    with axed_page(browser, "desktop") as page:
        page.context.add_init_script(RECORD_VIOLATIONS)
        yield page
        keep_if_failed(page, request)


def show_as(page: Page, view: str) -> None:
    viewport, scheme = VIEWS[view]
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)


@pytest.mark.parametrize("role", ROLES)
def test_every_page_passes_axe_fits_a_phone_and_keeps_its_policy(
    walker: Page, site: str, role: str
) -> None:
    world = seed_world()
    username, pages_of = ROLES[role]
    if username:
        signed_in(walker, site, username)

    found, too_wide, blocked = {}, {}, {}
    for product_page in pages_of(world):
        open_page(walker, site, product_page)
        # Read before axe runs: axe adds <style> elements of its own on some pages.
        if policy_broken := walker.evaluate("window.cspViolations"):
            blocked[product_page.name] = policy_broken
        for view in VIEWS:
            show_as(walker, view)
            if violations := serious_violations(walker):
                found[f"{product_page.name} at {view}"] = violations
            if VIEWS[view][0] == PHONE and (overflow := sideways_overflow(walker)):
                too_wide[product_page.name] = overflow
                screenshot(walker, f"too-wide-{role}-{product_page.name}")

    assert found == {}, report(found)
    assert too_wide == {}, f"pages wider than 390 px, by how much: {too_wide}"
    assert blocked == {}, f"what the policy blocked, by page: {blocked}"
