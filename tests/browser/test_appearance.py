"""Appearance in headless Chromium: a person who chose dark gets dark pages
on a system that asks for light, and one who chose light gets light pages on
a dark system; the headings and emphasised words of the welcome page and the
profile stay readable (axe: no serious or critical violation), at 1366 and
390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.product_pages import AXE, PASSWORD, WIDTHS, signed_in
from tests.factories import UserFactory
from tests.support.axe import report, serious_violations
from tests.support.browser import fresh_page, screenshot
from users.models import Role

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
BACKGROUND = "getComputedStyle(document.body.parentElement).backgroundColor"
DARK_PAGE, LIGHT_PAGE = "rgb(2, 6, 23)", "rgb(248, 250, 252)"  # slate 950, 50


def choose(page: Page, label: str) -> None:
    page.get_by_test_id("appearance").get_by_label(label, exact=True).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save appearance").click()


@pytest.mark.parametrize("width", ["desktop", "phone"])
@pytest.mark.parametrize(
    ("system", "chosen", "expected"),
    [("light", "Dark", DARK_PAGE), ("dark", "Light", LIGHT_PAGE)],
)
def test_the_chosen_appearance_wins_over_the_system(
    browser: Browser, site: str, width: str, system: str, chosen: str, expected: str
) -> None:
    UserFactory(username="ann", first_name="Ann", role=Role.EMPLOYEE, password=PASSWORD)
    found: dict[str, object] = {}
    with fresh_page(browser, viewport=WIDTHS[width], color_scheme=system) as page:
        page.context.add_init_script(path=str(AXE))
        signed_in(page, site, "ann", "/users/profile/")
        choose(page, chosen)
        expect(page.get_by_test_id("appearance").get_by_label(chosen)).to_be_checked()
        assert page.evaluate(BACKGROUND) == expected
        for path in ("/users/profile/", "/users/welcome/", "/"):
            page.goto(site + path)
            assert page.evaluate(BACKGROUND) == expected, path
            if violations := serious_violations(page):
                found[path] = violations
        screenshot(page, f"appearance-{width}-{system}-chose-{chosen.lower()}")
        page.goto(f"{site}/users/profile/")
        choose(page, "As my system")
        system_page = DARK_PAGE if system == "dark" else LIGHT_PAGE
        assert page.evaluate(BACKGROUND) == system_page
    assert found == {}, report(found)  # type: ignore[arg-type]
