"""Accounts in headless Chromium: sign-up, activation, sign-in and sign-out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from devtools.processes import Process
from devtools.smtp import SMTPServer
from tests.factories import UserFactory
from tests.links import activation_link
from tests.support.browser import screenshot
from users.models import Role, User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
INVALID_LINK = "invalid or has already been used"

PASSWORD = "Harbour#Lights42"


def fill_sign_up(page: Page, site: str, password: str, password2: str) -> None:
    page.goto(f"{site}/users/sign-up/")
    page.fill("#id_username", "nina")
    page.fill("#id_first_name", "Nina")
    page.fill("#id_last_name", "Newcomer")
    page.fill("#id_email", "nina@example.com")
    page.fill("#id_password1", password)
    page.fill("#id_password2", password2)
    page.get_by_role("button", name="Sign up").click()


def sign_in(page: Page, site: str, username: str, password: str) -> None:
    page.goto(f"{site}/users/sign-in/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.locator("main").get_by_role("button", name="Sign in").click()


def tampered(link: str) -> str:
    """The link with its token's last character changed."""
    last = "b" if link.rstrip("/").endswith("a") else "a"
    return f"{link.rstrip('/')[:-1]}{last}/"


def test_sign_up_with_a_bad_password_shows_errors_beside_the_fields(
    page: Page, site: str
) -> None:
    fill_sign_up(page, site, "harbour", "harbor")
    expect(page.locator("#id_password1_error")).to_contain_text("uppercase letter")
    expect(page.locator("#id_password1_error")).to_contain_text("digit")
    expect(page.locator("#id_password1_error")).to_contain_text("special character")
    expect(page.locator("#id_password2_error")).to_contain_text("didn")
    expect(page.locator("#id_password1")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "accounts-sign-up-errors")
    assert not User.objects.filter(username="nina").exists()


def test_sign_up_rejects_an_email_taken_in_other_case(page: Page, site: str) -> None:
    UserFactory(email="NINA@example.com")
    fill_sign_up(page, site, PASSWORD, PASSWORD)
    expect(page.locator("#id_email_error")).to_contain_text("already exists")


def test_a_new_account_activates_through_its_link_once(page: Page, site: str) -> None:
    fill_sign_up(page, site, PASSWORD, PASSWORD)
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.locator("main")).to_contain_text("nina@example.com")
    screenshot(page, "accounts-sign-up-done")

    sign_in(page, site, "nina", PASSWORD)
    expect(page.get_by_test_id("error-summary")).to_contain_text("not activated yet")
    screenshot(page, "accounts-sign-in-inactive")

    # Opening the link asks; the browser that signed up (and so chose the
    # password) is signed in once the button is pressed.
    link = activation_link(User.objects.get(username="nina"))
    page.goto(link)
    expect(page.get_by_role("heading", name="Activate your account")).to_be_visible()
    screenshot(page, "accounts-activation-confirm")
    assert not User.objects.get(username="nina").is_active
    page.get_by_role("button", name="Activate my account").click()
    expect(page.locator("main")).to_contain_text("you are signed in")
    expect(page.get_by_role("heading", name="Welcome to Tasks, Nina")).to_be_visible()
    assert page.url == f"{site}/users/welcome/"
    assert User.objects.get(username="nina").groups.filter(name=Role.EMPLOYEE)
    screenshot(page, "accounts-welcome")

    page.goto(link)
    expect(page.get_by_role("heading")).to_contain_text(
        "invalid or has already been used"
    )
    expect(page.get_by_role("link", name="Send a new activation link")).to_be_visible()
    screenshot(page, "accounts-activation-reused")


@pytest.mark.parametrize("width", [1366, 390])
def test_activation_in_another_browser_asks_only_for_the_password(
    page: Page, site: str, browser: Browser, width: int
) -> None:
    fill_sign_up(page, site, PASSWORD, PASSWORD)
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    link = activation_link(User.objects.get(username="nina"))

    phone = browser.new_context(viewport={"width": width, "height": 900})
    elsewhere = phone.new_page()
    try:
        elsewhere.goto(link)
        elsewhere.get_by_role("button", name="Activate my account").click()
        expect(elsewhere.locator("main")).to_contain_text("Enter your password")
        expect(elsewhere.locator("#id_username")).to_have_value("nina")
        expect(elsewhere.locator("#id_password")).to_be_focused()
        screenshot(elsewhere, f"accounts-activated-elsewhere-{width}")
        elsewhere.keyboard.type(PASSWORD)
        elsewhere.keyboard.press("Enter")
        expect(
            elsewhere.get_by_role("heading", name="Welcome to Tasks, Nina")
        ).to_be_visible()
        overflows = elsewhere.evaluate(
            "document.documentElement.scrollWidth > "
            "document.documentElement.clientWidth"
        )
        assert not overflows
        screenshot(elsewhere, f"accounts-welcome-{width}")
    finally:
        phone.close()


def test_an_activated_account_signs_in_and_out(page: Page, site: str) -> None:
    user = UserFactory(role=Role.EMPLOYEE, password=PASSWORD)
    sign_in(page, site, user.username, PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    assert "/users/sign-in/" not in page.url
    screenshot(page, "accounts-signed-in")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main")).to_contain_text("You have signed out.")
    expect(page.get_by_role("link", name="Sign up")).to_be_visible()


def test_a_tampered_activation_link_shows_the_invalid_page(
    page: Page, site: str
) -> None:
    user = UserFactory(is_active=False)
    response = page.goto(tampered(activation_link(user)))
    assert response.status == 400
    expect(page.get_by_role("heading")).to_contain_text(
        "invalid or has already been used"
    )
    screenshot(page, "accounts-activation-tampered")
    user.refresh_from_db()
    assert not user.is_active


def test_the_sign_up_page_reads_on_a_phone(page: Page, site: str) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{site}/users/sign-up/")
    overflows = page.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    assert not overflows
    expect(page.locator("#id_password1")).to_be_visible()
    screenshot(page, "accounts-sign-up-phone")


@pytest.mark.e2e
def test_the_emailed_activation_link_works_in_the_browser(
    page: Page, site: str, worker: Process, smtp_server: SMTPServer
) -> None:
    """The whole journey: the worker sends the email, the user follows its link."""
    fill_sign_up(page, site, PASSWORD, PASSWORD)
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    smtp_server.wait_for(1, timeout=30)
    [message] = smtp_server.received
    assert message.rcpt_tos == ["nina@example.com"]
    link = re.search(r"https?://\S+/users/activate/\S+/", message.body()).group(0)

    page.goto(link)
    page.get_by_role("button", name="Activate my account").click()
    expect(page.locator("main")).to_contain_text("you are signed in")
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("main")).to_contain_text("You have signed out.")
    sign_in(page, site, "nina@example.com", PASSWORD)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()

    page.goto(link)
    expect(page.get_by_role("heading")).to_contain_text(INVALID_LINK)
    assert len(smtp_server.received) == 1
