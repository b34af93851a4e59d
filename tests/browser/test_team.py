"""The team in the app, in headless Chromium at 1366 and 390 px, light and
dark: an Admin invites someone from /team/, approves a person who signed up,
changes a role, deactivates and reactivates; the invited person follows the
emailed link, chooses a password and is in. axe finds no serious or critical
violation on any of these pages."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from notifications.emails import build_message
from notifications.models import Delivery
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    header_link,
    sideways_overflow,
    signed_in,
)
from tests.factories import UserFactory
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import screenshot
from users.accounts import activate_account
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=WIDTHS)
def view(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    with axed_page(browser, str(request.param)) as page:
        yield page


def the_team() -> None:
    UserFactory(
        username="ada",
        first_name="Ada",
        last_name="Admin",
        role=Role.ADMIN,
        password=PASSWORD,
    )
    UserFactory(
        username="mia",
        first_name="Mia",
        last_name="Manager",
        role=Role.MANAGER,
        password=PASSWORD,
    )
    dana = UserFactory(
        username="dana", first_name="Dana", last_name="Lopez", is_active=False
    )
    activate_account(dana)


def no_violations(page: Page, name: str, found: dict[str, list[object]]) -> None:
    if violations := light_and_dark_violations(page):
        found[name] = violations  # type: ignore[assignment]
    assert sideways_overflow(page) <= 0, name


def press(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=name, exact=True).click()


def invitation_link() -> str:
    delivery = Delivery.objects.get(kind=Delivery.Kind.INVITATION)
    found = re.search(r"http\S+/users/invitations/\S+/", build_message(delivery).body)
    assert found is not None
    return found.group(0)


def test_an_admin_runs_the_team_and_an_invited_person_joins(
    view: Page, browser: Browser, site: str, request: pytest.FixtureRequest
) -> None:
    the_team()
    found: dict[str, list[object]] = {}
    signed_in(view, site, "ada")
    header_link(view, "Team").click()
    expect(view.get_by_role("heading", name="Team", exact=True)).to_be_visible()
    no_violations(view, "team", found)

    view.fill("#id_email", "noor@example.com")
    view.fill("#id_first_name", "Noor")
    view.select_option("#id_role", "Manager")
    press(view, "Send invitation")
    expect(view.locator("#messages")).to_contain_text(
        "Invitation sent to noor@example.com."
    )
    expect(view.get_by_test_id("invitations")).to_contain_text("noor@example.com")

    press(view, "Approve Dana Lopez")
    expect(view.locator("#messages")).to_contain_text("Dana Lopez is approved")

    mia = User.objects.get(username="mia")
    view.select_option(f"#role-{mia.pk}", "Employee")
    press(view, "Save the role of Mia Manager")
    expect(view.locator("#messages")).to_contain_text("Mia Manager is now an Employee.")
    press(view, "Deactivate Mia Manager")
    expect(view.get_by_test_id("deactivated")).to_contain_text("Mia Manager")
    no_violations(view, "team-after-changes", found)
    screenshot(view, f"team-{request.node.callspec.id}")
    press(view, "Reactivate Mia Manager")
    expect(view.get_by_test_id("people")).to_contain_text("Mia Manager")
    assert User.objects.get(username="mia").is_active

    with axed_page(browser, request.node.callspec.params["view"]) as invited:
        invited.goto(invitation_link())
        expect(invited.get_by_role("heading", name="Join the team")).to_be_visible()
        expect(invited.locator("#id_username")).to_have_value("noor")
        no_violations(invited, "invitation", found)
        invited.fill("#id_password1", PASSWORD)
        invited.fill("#id_password2", PASSWORD)
        press(invited, "Join the team")
        expect(invited).to_have_url(f"{site}/users/welcome/")
        expect(invited.locator("#messages")).to_contain_text("Welcome to the team")
        no_violations(invited, "welcome", found)

    noor = User.objects.get(username="noor")
    assert noor.is_manager and noor.is_approved
    assert found == {}, report(found)  # type: ignore[arg-type]


@pytest.mark.parametrize("view", ["desktop", "phone"], indirect=True)
def test_a_manager_reads_the_team_without_its_controls(view: Page, site: str) -> None:
    the_team()
    signed_in(view, site, "mia", "/team/")
    expect(view.get_by_test_id("people")).to_contain_text("Ada Admin")
    expect(view.get_by_role("button", name="Send invitation")).to_have_count(0)
    expect(view.get_by_role("button", name=re.compile("^Deactivate"))).to_have_count(0)
    found: dict[str, list[object]] = {}
    no_violations(view, "team-read-only", found)
    assert found == {}, report(found)  # type: ignore[arg-type]
