"""axe-core in Chromium over every page of the product and the HTML emails.

Fails on any serious or critical violation, at 1366 and 390 px, signed out and as
each role (forms shown with their errors included), and once more at 1366 px with
the system asking for dark mode; and on any page wider than a 390 px phone.
axe-core is vendored (tests/browser/vendor) at the version pinned in package.json.

A product page is opened once and read as each view in turn: its layout and
colours follow the viewport and the colour scheme without a reload (no script of
the product reads either), so the width and the scheme change under the same
document rather than three browsers loading it three times.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from notifications.models import Delivery
from notifications.previews import EXTRA, html_of, preview
from tests.browser.product_pages import (
    AXE,
    DESKTOP,
    PHONE,
    ROLES,
    open_page,
    seed_world,
    sideways_overflow,
    sign_in,
)
from tests.support.axe import report, serious_violations
from tests.support.browser import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWS = {
    "1366": (DESKTOP, "light"),
    "390": (PHONE, "light"),
    "1366-dark": (DESKTOP, "dark"),
}


@pytest.fixture
def view(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context at the test's width and colour scheme, with axe."""
    viewport, scheme = VIEWS[request.param]
    context: BrowserContext = browser.new_context(
        viewport=viewport, color_scheme=scheme
    )
    # An init script, not a <script> tag: the page's CSP does not apply to it.
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def show_as(page: Page, view: str) -> None:
    viewport, scheme = VIEWS[view]
    page.set_viewport_size(viewport)
    page.emulate_media(color_scheme=scheme)


@pytest.mark.parametrize("view", ["1366"], indirect=True, ids=["every-view"])
@pytest.mark.parametrize("role", ROLES)
def test_no_page_has_a_serious_or_critical_axe_violation_or_scrolls_sideways(
    view: Page, site: str, role: str
) -> None:
    """At 390 px no page may be wider than the screen either (WCAG 1.4.10,
    reflow)."""
    world = seed_world()
    username, pages_of = ROLES[role]
    if username:
        sign_in(view, site, username)

    found, too_wide = {}, {}
    for product_page in pages_of(world):
        open_page(view, site, product_page)
        for name in VIEWS:
            show_as(view, name)
            if violations := serious_violations(view):
                found[f"{product_page.name} at {name}"] = violations
            if VIEWS[name][0] == PHONE and (overflow := sideways_overflow(view)) > 0:
                too_wide[product_page.name] = overflow
                screenshot(view, f"too-wide-{role}-{product_page.name}")

    assert found == {}, report(found)
    assert too_wide == {}, f"pages wider than 390 px, by how much: {too_wide}"


@pytest.mark.parametrize("view", ["1366", "390"], indirect=True)
def test_no_html_email_has_a_serious_or_critical_axe_violation(view: Page) -> None:
    found = {}
    # Each built by the real code (previews), the email of a task's changes too.
    for kind in [*Delivery.Kind.values, *EXTRA]:
        view.set_content(html_of(preview(kind)))
        if not view.evaluate("typeof axe === 'object'"):
            view.add_script_tag(path=str(AXE))
        if violations := serious_violations(view):
            found[kind] = violations

    assert found == {}, report(found)


# The buttons whose colour changes on hover, each where it is found (signed in
# as the Manager after the first): the sign-in form's (users/_submit.html), a
# primary one (the comment form's) and a danger one (a task's deletion).
HOVERED_BUTTONS = (
    ("/users/sign-in/", "Sign in"),
    ("/tasks/{task}/", "Post comment"),
    ("/tasks/{task}/delete/", "Delete task"),
)
TRANSITIONS_DONE = "() => Promise.all(document.getAnimations().map((a) => a.finished))"


@pytest.mark.parametrize("view", ["1366", "1366-dark"], indirect=True)
def test_a_hovered_button_keeps_its_text_readable(view: Page, site: str) -> None:
    """A pointer resting on a button (after a click, the new page's may be under
    it) must not drop its contrast below AA: axe reads it once the colour
    transition has ended."""
    world = seed_world()
    found = {}
    for path, name in HOVERED_BUTTONS:
        view.goto(site + path.format(task=world.task_id))
        view.locator("main").get_by_role("button", name=name, exact=True).hover()
        view.evaluate(TRANSITIONS_DONE)
        if violations := serious_violations(view):
            found[name] = violations
        if name == "Sign in":
            sign_in(view, site, ROLES["manager"][0])

    assert found == {}, report(found)
