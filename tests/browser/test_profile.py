"""The profile, the password change and the Show button in headless Chromium, at a
laptop's width (1366 px) and a phone's (390 px)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools.processes import Process
from devtools.smtp import SMTPServer
from tests.browser.product_pages import header_link, sideways_overflow, sign_in
from tests.factories import UserFactory
from tests.support.browser import fresh_page, screenshot
from tests.support.csp import RECORD_VIOLATIONS
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Harbour#Lights42"
PASSPHRASE = "Tr0ub4dor-horse-battery"
WIDTHS = [1366, 390]


@pytest.fixture(params=WIDTHS, ids=lambda width: f"{width}px")
def width(request: pytest.FixtureRequest, page: Page) -> int:
    page.set_viewport_size({"width": request.param, "height": 900})
    return int(request.param)


@pytest.fixture
def ada(db: None) -> User:
    return UserFactory(
        username="ada", first_name="Ada", last_name="Lovelace",
        email="ada@example.com", password=PASSWORD, role=Role.EMPLOYEE,
    )  # fmt: skip


def test_the_profile_changes_name_and_time_zone(
    page: Page, site: str, width: int, ada: User
) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, site, "ADA@example.com", PASSWORD)  # by email, in another case
    header_link(page, "Profile").click()
    expect(page.get_by_role("heading", name="Your profile")).to_be_visible()
    assert sideways_overflow(page) == 0
    screenshot(page, f"profile-{width}")

    page.locator("#id_first_name").fill("Augusta Ada")
    page.get_by_label("Time zone", exact=True).select_option("Europe/Paris")
    page.get_by_role("button", name="Save name and time zone").click()
    expect(page.get_by_role("status")).to_contain_text("Your profile is saved.")
    expect(page.get_by_label("Time zone", exact=True)).to_have_value("Europe/Paris")
    assert page.evaluate("window.cspViolations") == []
    ada.refresh_from_db()
    assert (ada.first_name, ada.time_zone) == ("Augusta Ada", "Europe/Paris")


def test_the_password_changes_and_the_session_stays(
    page: Page, site: str, width: int, ada: User
) -> None:
    sign_in(page, site, "ada", PASSWORD)
    page.goto(f"{site}/users/profile/")
    page.get_by_role("link", name="Change password").click()
    page.fill("#id_old_password", PASSWORD)
    page.fill("#id_new_password1", PASSPHRASE)
    page.fill("#id_new_password2", PASSPHRASE + "!")
    page.get_by_role("button", name="Change my password").click()
    # The mismatch is told once, beside the confirmation; both new ones are kept.
    expect(page.locator("#id_new_password2_error")).to_have_count(1)
    expect(page.locator("#id_new_password1")).to_have_value(PASSPHRASE)
    expect(page.locator("#id_old_password")).to_have_value(PASSWORD)
    assert sideways_overflow(page) == 0
    screenshot(page, f"password-change-mismatch-{width}")

    page.fill("#id_new_password2", PASSPHRASE)
    page.get_by_role("button", name="Change my password").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Your password has been changed."
    )
    page.goto(f"{site}/tasks/")
    expect(page.get_by_test_id("bell")).to_be_visible()  # still signed in
    assert User.objects.get(pk=ada.pk).check_password(PASSPHRASE)


def test_the_show_button_works_with_the_keyboard_and_is_announced(
    page: Page, site: str, width: int
) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(f"{site}/users/sign-up/")
    field = page.locator("#id_password1")
    field.fill(PASSPHRASE)
    show = page.get_by_role("button", name="Show password", exact=True)
    expect(show).to_be_visible()

    field.focus()
    page.keyboard.press("Tab")  # the button follows its field
    expect(show).to_be_focused()
    page.keyboard.press("Enter")
    expect(field).to_have_attribute("type", "text")
    hide = page.get_by_role("button", name="Hide password", exact=True)
    expect(hide).to_be_focused()
    expect(hide).to_have_text("Hide")
    status = page.locator('[data-password-status="id_password1"]')
    expect(status).to_have_text("Your password is visible.")
    expect(status).to_have_attribute("aria-live", "polite")
    # The other field is untouched.
    expect(page.locator("#id_password2")).to_have_attribute("type", "password")
    assert sideways_overflow(page) == 0
    screenshot(page, f"show-password-{width}")

    page.keyboard.press("Space")
    expect(field).to_have_attribute("type", "password")
    expect(status).to_have_text("Your password is hidden.")
    expect(show).to_be_focused()
    assert page.evaluate("window.cspViolations") == []


def test_a_shown_password_is_sent_as_a_password_field(
    page: Page, site: str, width: int
) -> None:
    page.goto(f"{site}/users/sign-up/")
    page.fill("#id_password1", "short")
    page.get_by_role("button", name="Show password", exact=True).click()
    page.evaluate(
        "document.querySelector('form[action=\"/users/sign-up/\"]')"
        ".addEventListener('submit', () => { window.typeAtSubmit ="
        " document.getElementById('id_password1').type; })"
    )
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#id_password1_error")).to_be_visible()
    expect(page.locator("#id_password1")).to_have_attribute("type", "password")
    expect(page.locator("#id_password1")).to_have_value("short")  # kept, hidden


@pytest.fixture
def page_without_javascript(browser: Browser) -> Iterator[Page]:
    with fresh_page(
        browser, java_script_enabled=False, viewport={"width": 390, "height": 900}
    ) as page:
        yield page


def test_without_javascript_the_field_stays_a_password_field(
    page_without_javascript: Page, site: str
) -> None:
    page = page_without_javascript
    page.goto(f"{site}/users/sign-in/")
    expect(page.locator("#id_password")).to_have_attribute("type", "password")
    expect(page.locator("[data-password-toggle]")).to_be_hidden()
    expect(page.get_by_role("button", name="Show password")).to_have_count(0)


def test_the_sign_up_errors_are_shown_once(page: Page, site: str, width: int) -> None:
    page.goto(f"{site}/users/sign-up/")
    page.fill("#id_username", "nina")
    page.fill("#id_email", "nina@example.com")
    page.fill("#id_password1", "harbour")
    page.fill("#id_password2", "harbour")
    page.get_by_role("button", name="Sign up").click()
    errors = page.locator("#id_password1_error li")
    expect(errors).to_have_count(4)  # length, uppercase, digit, special character
    expect(page.locator("#id_password1_helptext")).to_have_count(0)
    # Once beside the field, once in the summary that links to it: no third time.
    text = page.locator("main").inner_text()
    assert text.count("uppercase letter") == 2
    summary = page.get_by_test_id("error-summary")
    expect(summary.get_by_role("link", name="uppercase letter")).to_have_count(1)
    expect(page.locator("#id_password1")).to_have_value("harbour")
    assert sideways_overflow(page) == 0
    screenshot(page, f"sign-up-errors-once-{width}")


@pytest.mark.e2e
def test_an_email_change_is_confirmed_from_the_new_mailbox(
    page: Page, site: str, ada: User, worker: Process, smtp_server: SMTPServer
) -> None:
    """The worker sends both emails; the link from the new mailbox confirms once."""
    sign_in(page, site, "ada", PASSWORD)
    page.goto(f"{site}/users/profile/")
    page.get_by_label("New email address", exact=True).fill("ada@lovelace.example")
    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Send confirmation link").click()
    expect(page.get_by_role("status")).to_contain_text("We sent a link to")
    expect(page.get_by_test_id("pending-email")).to_contain_text("ada@lovelace.example")
    screenshot(page, "profile-email-waiting")

    messages = {tuple(m.rcpt_tos): m for m in smtp_server.wait_for(2, timeout=30)}
    assert set(messages) == {("ada@lovelace.example",), ("ada@example.com",)}
    assert "ada@lovelace.example" in messages[("ada@example.com",)].body()
    body = messages[("ada@lovelace.example",)].body()
    link = re.search(r"https?://\S+/users/email/confirm/\S+/", body).group(0)
    assert User.objects.get(pk=ada.pk).email == "ada@example.com"

    page.goto(link)
    expect(page.get_by_role("heading")).to_contain_text("Confirm your new email")
    page.get_by_role("button", name="Use this address").click()
    expect(page.get_by_role("heading")).to_contain_text("Your email address is changed")
    assert User.objects.get(pk=ada.pk).email == "ada@lovelace.example"

    response = page.goto(link)
    assert response is not None and response.status == 400
    expect(page.get_by_role("heading")).to_contain_text("invalid or has already been")
    screenshot(page, "email-change-link-reused")
