"""axe-core in Chromium: the serious and critical violations of a page at rest."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

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


# Jumps each running colour transition to its end: the colours axe reads are
# those the page comes to rest at, without waiting the transition's time.
FINISH_TRANSITIONS = """document.getAnimations()
  .filter((animation) => animation instanceof CSSTransition)
  .forEach((animation) => animation.finish())"""


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe on the page at rest: the pointer off every control (a button just
    pressed is still under it) and no colour half-way through a transition."""
    page.mouse.move(0, 0)
    page.evaluate(FINISH_TRANSITIONS)
    return page.evaluate(RUN_AXE)


def light_and_dark_violations(page: Page) -> list[dict[str, Any]]:
    """serious_violations of the same document with the colour scheme dark,
    then light (where it is left). Each violation's help names its scheme."""
    found = []
    for scheme in ("dark", "light"):
        page.emulate_media(color_scheme=scheme)
        found += [
            {**v, "help": f"{v['help']} ({scheme})"} for v in serious_violations(page)
        ]
    return found


def report(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for name, violations in found.items():
        for violation in violations:
            lines.append(
                f"{name}: {violation['rule']} ({violation['impact']}) "
                f"{violation['help']} at {violation['where']}"
            )
    return "\n".join(lines)
