"""Headless Chromium (Debian's package) driven by Playwright's Python package."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from pytest_django.fixtures import Settings as DjangoSettings

from tests.browser.product_pages import WIDTHS
from tests.support.browser import PHASES, fresh_page, keep_if_failed
from users.models import Role

# Debian's chromium-headless-shell is the build Playwright itself runs headless:
# the same Blink without the desktop browser around it. The browser lane took
# 196 s with it against 310 s with `chromium --headless` (docs/development.md).
# Debian's full chromium still works when only it is installed.
CHROMIUM = (
    shutil.which("chromium-headless-shell")
    or shutil.which("chromium")
    or "/usr/bin/chromium-headless-shell"
)
CHROMIUM_ARGS = [
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
            pytest.fail(
                "Chromium is required under CI: apt-get install chromium-headless-shell"
            )
        pytest.skip(
            "Chromium is not installed (apt-get install chromium-headless-shell)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keeps each phase's report on the test: a page fixture saves a screenshot
    of a failing test's last page (keep_if_failed)."""
    report = yield
    item.stash.setdefault(PHASES, {})[report.when] = report
    return report


@pytest.fixture
def page(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    with fresh_page(browser, viewport={"width": 1280, "height": 900}) as page:
        yield page
        keep_if_failed(page, request)


@pytest.fixture
def sized(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """A page at the width the test is parametrized with ("desktop", "phone")."""
    with fresh_page(browser, viewport=WIDTHS[request.param]) as page:
        yield page
        keep_if_failed(page, request)


@pytest.fixture
def no_script(browser: object, request: pytest.FixtureRequest) -> Iterator[object]:
    """The same, with JavaScript off."""
    options = {"viewport": WIDTHS[request.param], "java_script_enabled": False}
    with fresh_page(browser, **options) as page:
        yield page
        keep_if_failed(page, request)
