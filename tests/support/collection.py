"""What the suite checks of its own tests when it collects them."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

# Fixtures that start the product's real processes or Chromium: a test using one
# gets the marker (and stays out of `make test-fast`) wherever it is, as does every
# test in the folder of that name.
STARTERS = {
    "e2e": {"worker", "worker_env", "shared_worker", "child_env"},
    "browser": {"browser", "live_server"},
}


def markers_due(item: pytest.Item, tests: Path) -> list[str]:
    folder = item.path.relative_to(tests).parts[0]
    fixtures = set(getattr(item, "fixturenames", ()))
    return [
        marker
        for marker, starters in STARTERS.items()
        if folder == marker or fixtures & starters
    ]


def flushes_database(item: pytest.Item) -> bool:
    """Commits for real, so the database is flushed after it (pytest-django's
    test order puts such tests after those rolled back)."""
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    asked = marker is not None and any(
        marker.kwargs.get(option) for option in ("transaction", "reset_sequences")
    )
    return asked or "transactional_db" in fixtures or "live_server" in fixtures


def uses_database(item: pytest.Item) -> bool:
    fixtures = getattr(item, "fixturenames", ())
    return item.get_closest_marker("django_db") is not None or "db" in fixtures


def modules_mixing_flushes(items: list[pytest.Item]) -> list[str]:
    """Modules with tests that flush the database beside tests that need what the
    migrations wrote (the role groups).

    pytest-xdist runs a module's tests together, one module after another, so a
    flush there would empty the database for the modules after it in the same
    process; a module of flushing tests alone is queued after all the others."""
    kinds: dict[str, set[bool]] = defaultdict(set)
    for item in items:
        if uses_database(item) or flushes_database(item):
            kinds[item.nodeid.split("::")[0]].add(flushes_database(item))
    return sorted(module for module, found in kinds.items() if len(found) == 2)
