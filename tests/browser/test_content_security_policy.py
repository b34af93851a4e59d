"""The admin works under the project's Content-Security-Policy in a real browser.

Chromium reports each blocked script, style or image as a securitypolicyviolation
event; the admin's pages and widgets must raise none. (The product's pages are
read in test_every_page's walk, signed out and as each role.)
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.factories import ProjectFactory, TaskFactory, UserFactory
from tests.support.csp import RECORD_VIOLATIONS
from users.models import User

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Harbour#Lights42"


def violations_on(page: Page, url: str) -> list[str]:
    """Open the page, let it settle, and return what the policy blocked there."""
    response = page.goto(url)
    assert response is not None and "content-security-policy" in response.headers
    page.wait_for_load_state("networkidle")
    return [f"{url}: {entry}" for entry in page.evaluate("window.cspViolations")]


def sign_in(page: Page, site: str, path: str, username: str) -> None:
    page.goto(f"{site}{path}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    page.wait_for_load_state("networkidle")


@pytest.fixture
def admin(db: None) -> User:
    return UserFactory(
        username="root", password=PASSWORD, is_staff=True, is_superuser=True
    )


def test_the_admin_raises_no_violation(page: Page, site: str, admin: User) -> None:
    page.add_init_script(RECORD_VIOLATIONS)
    sign_in(page, site, "/admin/login/", "root")
    task = TaskFactory(project=ProjectFactory())
    blocked: list[str] = []
    for path in [
        "/admin/", "/admin/users/user/", f"/admin/users/user/{admin.pk}/change/",
        "/admin/users/user/add/", f"/admin/tasks/task/{task.pk}/change/",
        "/admin/tasks/task/add/", "/admin/notifications/delivery/",
        "/admin/axes/accessattempt/",
    ]:  # fmt: skip
        blocked += violations_on(page, f"{site}{path}")
    # The admin's calendar and clock widgets open from scripts: use one.
    page.goto(f"{site}/admin/tasks/task/add/")
    page.locator(".datetimeshortcuts a").first.click()
    blocked += [f"widgets: {entry}" for entry in page.evaluate("window.cspViolations")]
    assert blocked == []
