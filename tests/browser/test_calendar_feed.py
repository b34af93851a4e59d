"""The calendar link on the email settings page, in headless Chromium: got,
copied with the Copy button, read by a calendar app, renewed (the old link
stops working), on a desk and on a phone, light and dark."""

from __future__ import annotations

import datetime

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.product_pages import AXE
from tests.factories import TaskFactory, UserFactory
from tests.support.axe import report, serious_violations
from tests.support.browser import fresh_page, screenshot
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Harbour#Lights42"
VIEWS = {
    "1366": ({"width": 1366, "height": 900}, "light"),
    "390-dark": ({"width": 390, "height": 844}, "dark"),
}


@pytest.mark.parametrize("view", VIEWS)
def test_a_person_gets_copies_and_renews_their_calendar_link(
    browser: Browser, site: str, view: str
) -> None:
    viewport, scheme = VIEWS[view]
    user: User = UserFactory(password=PASSWORD)
    due = datetime.date(2030, 3, 29)
    TaskFactory(title="Quarterly report", due_date=due, assigned_to=[user])
    options = {"viewport": viewport, "color_scheme": scheme}
    with fresh_page(browser, **options) as page:
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])
        page.context.add_init_script(path=str(AXE))
        page.goto(f"{site}/users/sign-in/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.locator("main").get_by_role("button", name="Sign in").click()
        page.goto(f"{site}/notifications/preferences/")
        page.get_by_role("button", name="Get my calendar link").click()
        field = page.get_by_label("Your private calendar link")
        link = field.input_value()
        assert link.startswith(f"{site}/calendar/") and link.endswith(".ics")
        page.get_by_role("button", name="Copy link").click()
        expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
        assert page.evaluate("navigator.clipboard.readText()") == link
        feed = page.request.get(link)
        assert feed.status == 200
        assert "SUMMARY:Due: Quarterly report" in feed.text()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"]
        assert (found := serious_violations(page)) == [], report({"calendar": found})
        screenshot(page, f"calendar-link-{view}")

        page.get_by_role("button", name="Make a new link").click()
        renewed = page.get_by_label("Your private calendar link").input_value()
        assert renewed != link
        assert page.request.get(link).status == 404
        assert page.request.get(renewed).status == 200
        page.get_by_role("button", name="Turn the link off").click()
        expect(page.get_by_role("button", name="Get my calendar link")).to_be_visible()
        assert page.request.get(renewed).status == 404
