"""The debug toolbar appears only when asked for, and never with DEBUG off."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = (
    "import django; django.setup(); from django.conf import settings; "
    "print('debug_toolbar' in settings.INSTALLED_APPS)"
)


def toolbar_installed(**env: str) -> bool:
    """Loads the settings in a fresh process with these variables."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "SECRET_KEY": "probe-only-secret-key-that-is-long-enough-for-django",
        **env,
    }
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip() == "True"


@pytest.mark.parametrize(
    ("debug", "toolbar", "expected"),
    [("True", "False", False), ("False", "True", False), ("True", "True", True)],
)
def test_the_toolbar_needs_debug_and_debug_toolbar(
    debug: str, toolbar: str, expected: bool
) -> None:
    assert toolbar_installed(DEBUG=debug, DEBUG_TOOLBAR=toolbar) is expected
