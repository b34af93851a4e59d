"""`make audit` (and .ci/run): known advisories against the lock files.

`python -m devtools.audit LOCK...` runs pip-audit on each lock exactly as written
(hashed pins, nothing resolved or installed) against the OSV advisory database.
It fails on any known advisory. When the database cannot be reached (a machine
without that network) it says so and passes: no advisory was looked up, and an
offline CI must not fail for it.

AUDIT_OSV_URL names another OSV-compatible endpoint (a mirror, or the local one
tests/devtools/test_audit.py serves).

Exit codes: 0 clean or not reachable, 1 advisories found, 2 pip-audit failed in
another way (a lock it cannot read).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

OSV_URL = "https://api.osv.dev/v1/query"
# pip-audit's message when a query cannot get through (refused, timed out,
# name not resolved, a proxy's refusal).
UNREACHABLE = ("Connection", "connect", "Max retries", "timed out", "NameResolution")


@dataclass
class Audit:
    lock: str
    advisories: list[str]
    unreachable: bool = False
    failure: str = ""


def audit(lock: str, osv_url: str) -> Audit:
    with tempfile.TemporaryDirectory(prefix="audit-") as scratch:
        report = Path(scratch, "report.json")
        result = subprocess.run(
            [
                sys.executable, "-m", "pip_audit", "--requirement", lock,
                "--require-hashes", "--disable-pip", "--vulnerability-service",
                "osv", "--osv-url", osv_url, "--format", "json", "--output",
                str(report), "--progress-spinner", "off", "--timeout", "15",
            ],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if report.exists() and report.read_text().strip():
            return Audit(lock, advisories_in(json.loads(report.read_text())))
    said = (result.stderr + result.stdout).strip()
    if any(sign in said for sign in UNREACHABLE):
        return Audit(lock, [], unreachable=True, failure=said.splitlines()[-1])
    return Audit(lock, [], failure=said[-2000:] or f"exit {result.returncode}")


def advisories_in(report: dict[str, object]) -> list[str]:
    found = []
    for dependency in report.get("dependencies", []):  # type: ignore[attr-defined]
        for vuln in dependency.get("vulns", []):
            fixed = ", ".join(vuln.get("fix_versions", [])) or "no fix yet"
            found.append(
                f"{dependency['name']}=={dependency['version']}: {vuln['id']} "
                f"(fixed in {fixed})"
            )
    return found


def main(locks: list[str]) -> int:
    osv_url = os.environ.get("AUDIT_OSV_URL", OSV_URL)
    results = [audit(lock, osv_url) for lock in locks]
    for result in results:
        if result.unreachable:
            print(
                f"audit: {result.lock}: NOT AUDITED, the advisory database "
                f"({osv_url}) cannot be reached: {result.failure}"
            )
        elif result.failure:
            print(f"audit: {result.lock}: pip-audit failed:\n{result.failure}")
        elif result.advisories:
            print(f"audit: {result.lock}: {len(result.advisories)} known advisories")
            print("\n".join(f"  {line}" for line in result.advisories))
        else:
            print(f"audit: {result.lock}: no known advisories")
    if any(result.advisories for result in results):
        return 1
    return 2 if any(r.failure and not r.unreachable for r in results) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
