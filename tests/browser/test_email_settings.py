"""Email settings in headless Chromium: the preferences page, the unsubscribe page
reached from a real email's link, and every email read on a phone; a person
who joins takes their browser's time zone, which the email settings name and
the profile alone changes; each project's choice reads in full (1366 and 390
px, light and dark, with axe)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from notifications.emails import build_message
from notifications.models import Delivery, Preference
from notifications.preferences import modes_of
from notifications.previews import html_of, preview
from tests.browser.product_pages import (
    PASSWORD,
    WIDTHS,
    axed_page,
    header_link,
    sideways_overflow,
    signed_in,
)
from tests.factories import (
    DeliveryFactory,
    ProjectFactory,
    TaskFactory,
    UserFactory,
)
from tests.support.axe import light_and_dark_violations, report
from tests.support.browser import screenshot
from users.accounts import invitation_stamp, invite
from users.models import Role, User
from users.tokens import invitation_token

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 390, "height": 844}
Kind, Mode = Delivery.Kind, Preference.Mode
# How much wider a select's longest choice is than the room for its text.
CUT_SHORT = """(select) => {
  const style = getComputedStyle(select);
  const pen = document.createElement("canvas").getContext("2d");
  pen.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  const widest = Math.max(
    ...Array.from(select.options, (option) => pen.measureText(option.text).width));
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return widest - (select.clientWidth - padding);
}"""


@pytest.mark.parametrize("width", [1366, 390])
def test_a_person_chooses_a_digest_for_assignments_from_the_header_menu(
    browser: Browser, site: str, width: int
) -> None:
    user = UserFactory(password=PASSWORD)
    page = browser.new_page(viewport={"width": width, "height": 900})
    signed_in(page, site, user.username)
    header_link(page, "Email settings").click()
    expect(page.get_by_role("heading", name="Email preferences")).to_be_visible()
    expect(page.get_by_text("Account emails (activating your account")).to_be_visible()
    group = page.get_by_role("group", name="Task assigned")
    group.get_by_label("In a daily digest").check()
    page.get_by_role("group", name="New comment").get_by_label("Off").check()
    page.get_by_label("Send my daily digest at").fill("18:15")
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_role("status")).to_contain_text("preferences are saved")
    expect(group.get_by_label("In a daily digest")).to_be_checked()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"email-preferences-{width}")
    modes = modes_of(user)
    assert (modes[Kind.TASK_ASSIGNED], modes[Kind.TASK_COMMENTED]) == (
        Mode.DIGEST, Mode.OFF
    )  # fmt: skip
    page.close()


def test_the_unsubscribe_link_of_a_real_email_turns_that_kind_off_on_a_phone(
    browser: Browser, site: str
) -> None:
    user = UserFactory()
    task = TaskFactory(title="Quarterly report")
    email = build_message(
        DeliveryFactory(recipient=user, kind=Kind.TASK_ASSIGNED,
                        context={"task_id": task.pk, "title": task.title})
    )  # fmt: skip
    link = email.extra_headers["List-Unsubscribe"].strip("<>")
    page = browser.new_page(viewport=PHONE)  # no session: from the mail app
    page.goto(link)
    expect(page.get_by_role("heading", name="Stop these emails?")).to_be_visible()
    expect(
        page.get_by_role("link", name="Choose in my preferences instead")
    ).to_be_visible()
    assert modes_of(user)[Kind.TASK_ASSIGNED] == Mode.IMMEDIATE  # a GET changes nothing
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", name="You are unsubscribed")).to_be_visible()
    screenshot(page, "unsubscribed-390")
    assert modes_of(user)[Kind.TASK_ASSIGNED] == Mode.OFF
    page.close()


@pytest.mark.parametrize("kind", Kind.values)
def test_every_email_reads_on_a_phone_without_sideways_scrolling(
    browser: Browser, kind: str
) -> None:
    page = browser.new_page(viewport=PHONE)
    page.set_content(html_of(preview(kind)))
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert page.locator("main h1").is_visible()
    font = page.evaluate("getComputedStyle(document.body).fontSize")
    assert float(font.removesuffix("px")) >= 15  # readable, not shrunk to fit
    screenshot(page, f"email-{kind}-390")
    page.close()


@pytest.mark.parametrize("view", WIDTHS)
def test_who_joins_takes_the_browsers_time_zone_and_changes_it_on_the_profile(
    browser: Browser, site: str, view: str
) -> None:
    ada = UserFactory(role=Role.ADMIN)
    invitation = invite("noor@example.com", Role.EMPLOYEE, by=ada)
    token = invitation_token(invitation.pk, invitation_stamp(invitation))
    with axed_page(browser, view, timezone_id="America/Sao_Paulo") as page:
        page.goto(f"{site}/users/invitations/{token}/")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Join the team").click()
        assert (
            User.objects.get(email="noor@example.com").time_zone == "America/Sao_Paulo"
        )

        header_link(page, "Email settings").click()
        said = page.get_by_test_id("time-zone")
        expect(said).to_contain_text("America/Sao Paulo")
        expect(page.get_by_label("Your time zone")).to_have_count(0)  # not here
        found = {}
        if violations := light_and_dark_violations(page):
            found["email-settings"] = violations
        said.get_by_role("link", name="Change it on your profile").click()
        zone = page.get_by_label("Time zone", exact=True)
        expect(zone).to_have_value("America/Sao_Paulo")
        expect(zone).to_be_in_viewport()
        assert found == {}, report(found)


@pytest.mark.parametrize("view", WIDTHS)
def test_each_projects_choice_reads_in_full(
    browser: Browser, site: str, view: str
) -> None:
    ProjectFactory(name="A launch with a rather long project name, on two lines")
    ProjectFactory(name="Harbour refit")
    user = UserFactory(role=Role.MANAGER, password=PASSWORD)  # sees every project
    with axed_page(browser, view) as page:
        signed_in(page, site, user.username, "/notifications/preferences/")
        selects = page.get_by_test_id("project-levels").get_by_role("combobox")
        expect(selects).to_have_count(2)
        for select in selects.all():
            assert select.evaluate(CUT_SHORT) <= 0, select.input_value()
        assert sideways_overflow(page) <= 0
        found = {}
        if violations := light_and_dark_violations(page):
            found["email-settings"] = violations
        assert found == {}, report(found)
