"""What a page's Content-Security-Policy blocked, as Chromium reports it."""

from __future__ import annotations

# An init script (the policy does not apply to it) that keeps every violation.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
