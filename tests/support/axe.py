"""axe-core in Chromium: the serious and critical violations of a page at rest."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

from tests.support.waiting import wait_until

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations
    .filter((violation) => ["serious", "critical"].includes(violation.impact))
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      where: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
    }));
}"""


TRANSITIONS_RUNNING = """document.getAnimations().some(
  (animation) => animation instanceof CSSTransition
    && animation.playState === "running")"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe on the page at rest: the pointer off every control (a button just
    pressed is still under it) and no colour half-way through a transition."""
    page.mouse.move(0, 0)
    wait_until(lambda: not page.evaluate(TRANSITIONS_RUNNING), 10, "transitions end")
    return page.evaluate(RUN_AXE)


def report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for name, violations in found.items():
        for violation in violations:
            lines.append(
                f"{name}: {violation['rule']} ({violation['impact']}) "
                f"{violation['help']} at {violation['where']}"
            )
    return "\n".join(lines)
