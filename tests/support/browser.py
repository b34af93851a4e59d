"""Pages in headless Chromium, and the screenshots a run keeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


class Screenshots:
    """Named screenshots are taken when the run asks for them (pytest
    --screenshots); a failing test's last page is saved whatever the run asks."""

    wanted = False


# Each phase's report of a browser test (tests/browser/conftest.py keeps them).
PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()


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


def save_screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def screenshot(page: Any, name: str) -> None:
    """A named screenshot under test-artifacts/screenshots/, when wanted."""
    if Screenshots.wanted:
        save_screenshot(page, name)


def keep_if_failed(page: Any, request: pytest.FixtureRequest) -> None:
    """A failing test's last page goes to test-artifacts/screenshots/."""
    call = request.node.stash.get(PHASES, {}).get("call")
    if call is not None and call.failed:
        save_screenshot(page, f"{request.node.name}-failed")
