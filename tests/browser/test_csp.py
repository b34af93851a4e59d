"""htmx's in-place changes work under a strict Content-Security-Policy (every
page under the project's own policy is read in test_every_page's walk).

The policy is added to every response here, whatever the project's own
middleware sends: scripts and styles from our origin only, no inline script or
style, no eval. htmx comes from static/vendor and is configured by a meta tag.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.product_pages import DESKTOP, seed_world, signed_in
from tests.support.csp import RECORD_VIOLATIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# img-src allows data: for the select arrows and check marks that the Tailwind
# forms plugin draws as data: SVG backgrounds.
STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


def with_strict_policy(route: Route) -> None:
    """Pages get the policy; their images, scripts and styles go through as sent."""
    if route.request.resource_type != "document":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)  # the browser follows redirects itself
    headers = {**response.headers, "content-security-policy": STRICT}
    route.fulfill(response=response, headers=headers)


@pytest.fixture
def strict(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(RECORD_VIOLATIONS)
    context.route("**/*", with_strict_policy)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def violations(page: Page) -> list[str]:
    return page.evaluate("window.cspViolations")


def test_the_inline_status_change_works_under_the_policy(
    strict: Page, site: str
) -> None:
    seed_world()
    signed_in(strict, site, "ann")
    strict.evaluate("window.__samePage = true")
    row_id = strict.locator("tbody tr").first.get_attribute("data-task-id")
    row = strict.locator(f"#task-row-{row_id}")
    select = row.get_by_role("combobox")
    title = row.get_by_role("link").first.inner_text()
    choice = "COMPLETED" if select.input_value() != "COMPLETED" else "PENDING"

    select.select_option(choice)
    row.get_by_role("button", name="Update").click()

    expect(strict.get_by_role("status")).to_contain_text(f"“{title}” is now")
    assert strict.evaluate("window.__samePage === true"), "the page was reloaded"
    expect(strict.locator(f"#status-update-{row_id}")).to_be_focused()
    assert violations(strict) == []


def test_a_comment_with_a_mention_posts_under_the_policy_without_errors(
    strict: Page, site: str
) -> None:
    """htmx settles the swapped comments without writing a style attribute, and
    the mention list does not inherit the form's "disable the button" (whose
    selector finds no button inside the list)."""
    errors: list[str] = []
    strict.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    world = seed_world()
    signed_in(strict, site, "ann", f"/tasks/{world.task_id}/")
    box = strict.get_by_label("Add a comment")
    with strict.expect_response(lambda response: "/mentions/" in response.url):
        box.press_sequentially("Thanks @a")
    box.fill("Thanks, all done.")
    strict.get_by_role("button", name="Post comment").click()

    expect(strict.locator("#comments")).to_contain_text("Thanks, all done.")
    assert violations(strict) == []
    # A newer query replaces one still in flight (hx-sync), which htmx logs.
    replaced = ("htmx:afterRequest", "htmx:sendAbort")
    assert [error for error in errors if not error.startswith(replaced)] == []


def test_a_comment_posted_and_a_card_moved_in_place_break_nothing(
    strict: Page, site: str
) -> None:
    """htmx answers swapped in (a comment; a card dragged on the board) under
    the strict policy: no violation, and no reload."""
    world = seed_world()
    signed_in(strict, site, "ann", f"/tasks/{world.task_id}/")
    strict.evaluate("window.__samePage = true")
    strict.get_by_label("Add a comment").fill("Second coat is dry.")
    strict.get_by_role("button", name="Post comment").click()
    expect(strict.locator("#comments")).to_contain_text("Second coat is dry.")
    assert strict.evaluate("window.__samePage === true"), "the page was reloaded"
    assert violations(strict) == []

    strict.goto(f"{site}/tasks/board/")
    strict.evaluate("window.__samePage = true")
    card = strict.locator("[data-task-id][draggable=true]").first
    title = card.get_by_role("link").first.inner_text()
    pending = strict.get_by_test_id("column-PENDING")
    target = (
        "column-IN_PROGRESS" if pending.get_by_text(title).count() else "column-PENDING"
    )
    card.drag_to(strict.get_by_test_id(target))
    expect(strict.get_by_test_id(target)).to_contain_text(title)
    assert strict.evaluate("window.__samePage === true"), "the page was reloaded"
    assert violations(strict) == []
