"""`make audit`: pip-audit over the lock files, against an OSV endpoint.

The real database is out of reach here, so a local server answers OSV's query API
with two 2026 advisories (sqlparse before 0.6.0, tornado before 6.5.8): the audit
fails on a lock below them, passes on ours, and passes saying "NOT AUDITED" when
no database answers at all."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from packaging.version import Version

from devtools.processes import ROOT
from devtools.smtp import free_port

ADVISORIES = {
    "sqlparse": ("GHSA-pwgv-4x5q-6m9f", "0.6.0"),  # CVE-2026-54284
    "tornado": ("GHSA-mgf9-4vpg-hj56", "6.5.8"),  # CVE-2026-49855 and later ones
}
FAKE_HASH = "--hash=sha256:" + "0" * 64


class OSVQueries(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        name, version = query["package"]["name"], query["version"]
        advisory = ADVISORIES.get(name)
        vulns = []
        if advisory and Version(version) < Version(advisory[1]):
            vulns.append({
                "id": advisory[0], "summary": f"{name} before {advisory[1]}",
                "affected": [{
                    "package": {"name": name, "ecosystem": "PyPI"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [
                        {"introduced": "0"}, {"fixed": advisory[1]},
                    ]}],
                }],
            })  # fmt: skip
        body = json.dumps({"vulns": vulns} if vulns else {}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def osv_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), OSVQueries)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1/query"
    server.shutdown()
    server.server_close()


def run_audit(osv_url: str, *locks: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.audit", *locks],
        cwd=ROOT, env={"AUDIT_OSV_URL": osv_url, "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_a_lock_below_a_known_advisory_fails(osv_url: str, tmp_path: Path) -> None:
    lock = tmp_path / "old.txt"
    lock.write_text(f"sqlparse==0.5.5 {FAKE_HASH}\ntornado==6.6.1 {FAKE_HASH}\n")
    audit = run_audit(osv_url, str(lock))
    assert audit.returncode == 1, audit.stdout + audit.stderr
    assert "sqlparse==0.5.5: GHSA-pwgv-4x5q-6m9f (fixed in 0.6.0)" in audit.stdout
    assert "tornado" not in audit.stdout.split("known advisories", 1)[1]


def test_our_locks_are_above_the_2026_advisories(osv_url: str) -> None:
    audit = run_audit(osv_url, "requirements.txt", "requirements-image.txt")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert audit.stdout.count("no known advisories") == 2


def test_an_unreachable_database_passes_and_says_nothing_was_audited() -> None:
    audit = run_audit(f"http://127.0.0.1:{free_port()}/v1/query", "requirements.txt")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    assert "requirements.txt: NOT AUDITED" in audit.stdout


def test_every_lock_pins_every_package_with_a_hash() -> None:
    for lock in ROOT.glob("requirements*.txt"):
        entries = [
            line for line in lock.read_text().splitlines()
            if line and not line.startswith((" ", "#", "-"))
        ]  # fmt: skip
        assert entries, lock
        for entry in entries:
            assert "==" in entry and entry.endswith("\\"), f"{lock.name}: {entry}"

    image = (ROOT / "requirements-image.txt").read_text()
    assert "\npsycopg==" in image and "psycopg2-binary" not in image
