"""Every HTML email in a real renderer (Debian's Chromium) at 390 px, with the
reader's system asking for light and for dark: the dark palette of
notifications/email/base.html takes over in the dark (no bright card), text
keeps its contrast in both (axe-core's colour-contrast rule, and the ratios
measured here), the preheader stays hidden and nothing scrolls sideways.
Screenshots of each go to test-artifacts/screenshots/email-<kind>-390-<scheme>.png;
the two in docs/notifications.md are the comment email's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page
from pytest_django.fixtures import Settings as DjangoSettings

from notifications.models import Delivery
from notifications.previews import html_of, preview
from tests.browser.product_pages import AXE, PHONE
from tests.support.browser import screenshot

pytestmark = pytest.mark.browser

# Relative luminance (WCAG 2) of the colours that make an email readable.
LUMINANCE = """() => {
  const channel = (value) => {
    const v = value / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const of = (selector, property) => {
    const element = document.querySelector(selector);
    if (!element) return null;
    const [r, g, b] = getComputedStyle(element)[property].match(/[\\d.]+/g).map(Number);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  return {
    page: of("body", "backgroundColor"),
    card: of("main", "backgroundColor"),
    heading: of("main h1", "color"),
    text: of("main", "color"),
    muted: of("main footer", "color"),
    link: of("main footer a", "color"),
    button: of("main a.button", "backgroundColor"),
    button_text: of("main a.button", "color"),
  };
}"""
CONTRAST_VIOLATIONS = """async () => {
  const result = await axe.run(document, {runOnly: ["color-contrast"]});
  return result.violations.flatMap((violation) =>
    violation.nodes.map((node) => node.target.join(" ") + ": " + node.failureSummary));
}"""


def contrast(one: float, other: float) -> float:
    lighter, darker = max(one, other), min(one, other)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture(params=["light", "dark"])
def scheme(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def frontend(settings: DjangoSettings) -> None:
    """The links read as a reader's would (the screenshots are in the docs)."""
    settings.FRONTEND_URL = "https://tasks.example.org"


@pytest.fixture
def phone(browser: Browser, scheme: str) -> Iterator[Page]:
    """A 390 px page whose system asks for `scheme`."""
    context = browser.new_context(viewport=PHONE, color_scheme=scheme)
    page = context.new_page()
    yield page
    context.close()


def test_every_email_reads_in_the_light_and_in_the_dark(
    phone: Page, scheme: str
) -> None:
    unreadable = {}
    for kind in Delivery.Kind.values:  # each built by the real code (previews)
        phone.set_content(html_of(preview(kind)))
        phone.add_script_tag(path=str(AXE))
        screenshot(phone, f"email-{kind}-390-{scheme}")
        if problems := readability(phone, scheme):
            unreadable[kind] = problems
    assert unreadable == {}


def readability(page: Page, scheme: str) -> list[str]:
    """What makes this email hard to read in this scheme; [] when nothing."""
    seen = page.evaluate(LUMINANCE)
    card, problems = seen["card"], []
    if scheme == "dark" and not (seen["page"] < 0.02 and card < 0.05):
        problems.append(f"a bright page or card in the dark: {seen}")
    if scheme == "light" and not (seen["page"] > 0.9 and card > 0.95):
        problems.append(f"a dark page or card in the light: {seen}")
    for name, least in (("heading", 7), ("text", 7), ("muted", 4.5), ("link", 4.5)):
        if contrast(seen[name], card) < least:
            problems.append(f"{name} on the card below {least}:1")
    button = seen["button"]
    if button is not None and contrast(seen["button_text"], button) < 4.5:
        problems.append("the button's label below 4.5:1")
    problems += page.evaluate(CONTRAST_VIOLATIONS)  # axe, on every element
    if page.locator(".preheader").is_visible():
        problems.append("the preheader shows on the page")
    if page.evaluate("document.documentElement.scrollWidth") > PHONE["width"]:
        problems.append("wider than the phone")
    return problems


def test_the_dark_palette_is_the_readers_choice_not_ours(browser: Browser) -> None:
    """The same email, two schemes: what changes is only what the reader asked."""
    html = html_of(preview(Delivery.Kind.TASK_COMMENTED))
    seen = {}
    for scheme in ("light", "dark"):
        context = browser.new_context(viewport=PHONE, color_scheme=scheme)
        page = context.new_page()
        page.set_content(html)
        seen[scheme] = page.evaluate(LUMINANCE)
        assert page.evaluate(
            "getComputedStyle(document.documentElement).colorScheme"
        ) == ("light dark")
        context.close()
    assert seen["light"]["card"] > 0.95 > 0.05 > seen["dark"]["card"]
    assert seen["light"]["heading"] < 0.02 < 0.8 < seen["dark"]["heading"]
