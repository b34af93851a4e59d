"""axe-core in Chromium over the HTML emails and the hovered buttons; every page
of the product is read by axe in test_every_page's walk.

Fails on any serious or critical violation. axe-core is vendored
(tests/browser/vendor) at the version pinned in package.json.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from notifications.models import Delivery
from notifications.previews import EXTRA, html_of, preview
from tests.browser.product_pages import AXE, ROLES, VIEWS, seed_world, signed_in
from tests.support.axe import report, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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
            signed_in(view, site, ROLES["manager"][0])

    assert found == {}, report(found)
