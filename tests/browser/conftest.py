"""Headless Chromium (Debian's package) driven by Playwright's Python package."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import Group
from pytest_django.fixtures import Settings as DjangoSettings

from tests.browser.product_pages import WIDTHS
from users.models import Role

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Playwright's sync API runs an event loop; Django's async-safety check must allow
# ORM calls from the test body around it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def site(settings: DjangoSettings, live_server: object) -> str:
    """Every browser test runs against the live server; email links point at it."""
    settings.FRONTEND_URL = live_server.url
    return live_server.url


@pytest.fixture(autouse=True)
def role_groups(transactional_db: None) -> None:
    """The data migration's groups: a transactional test's flush removes them.

    (serialized_rollback cannot restore them: once Playwright runs its event loop
    in this thread, Django hands out a new connection without the saved copy.)
    """
    for role in Role:
        Group.objects.get_or_create(name=role)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@contextmanager
def fresh_page(browser: Any, **context_options: Any) -> Iterator[Any]:
    """A page in a browser context of its own (cookies, viewport, JavaScript as
    `context_options` say), closed afterwards."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    with fresh_page(browser, viewport={"width": 1280, "height": 900}) as page:
        yield page
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SCREENSHOTS / f"{request.node.name}-final.png"), full_page=True
        )


@pytest.fixture
def sized(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page at the width the test is parametrized with ("desktop", "phone")."""
    with fresh_page(browser, viewport=WIDTHS[request.param]) as page:
        yield page


@pytest.fixture
def no_script(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """The same, with JavaScript off."""
    options = {"viewport": WIDTHS[request.param], "java_script_enabled": False}
    with fresh_page(browser, **options) as page:
        yield page


def screenshot(page: object, name: str) -> None:
    """Save a named screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
