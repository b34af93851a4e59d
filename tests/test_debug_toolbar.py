"""The debug toolbar appears only when asked for, and never with DEBUG off."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import fresh_python

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print('debug_toolbar' in settings.INSTALLED_APPS)"
)


def toolbar_installed(**env: str) -> bool:
    """Loads the settings in a fresh process (tests.support.fresh_python) with
    these variables."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "probe-only-secret-key-that-is-long-enough-for-django",
        **env,
    }
    result = fresh_python.run(PROBE, cwd=ROOT, env=environment, timeout=60)
    result.check_returncode()
    return result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("debug", "toolbar", "expected"),
    [("True", "False", False), ("False", "True", False), ("True", "True", True)],
)
def test_the_toolbar_needs_debug_and_debug_toolbar(
    debug: str, toolbar: str, expected: bool
) -> None:
    assert toolbar_installed(DEBUG=debug, DEBUG_TOOLBAR=toolbar) is expected
