"""Settings for the test suite: the product's, plus what only tests need.

The product settings know nothing of tests; this module is pytest's
DJANGO_SETTINGS_MODULE (pyproject.toml). Child processes the tests start (a real
worker, gunicorn) run on project.settings, pointed at the test database.
"""

from __future__ import annotations

from os import getpid
from pathlib import Path
from tempfile import gettempdir

from project.settings import *  # noqa: F403
from project.settings import DATABASES, STORAGES

# The test client and live server speak plain HTTP on loopback: no HTTPS redirect
# and no Secure-only cookies there. Production keeps them (DEBUG off by default).
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

# Factories hash a password per user; tests creating a hundred need speed.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Hundreds of tests sign up from 127.0.0.1: the per-client rate limits are on
# only in the tests about them (tests/users/test_rate_limits.py turns them on).
RATELIMIT_ENABLE = False

# One email per change, at once: the tests of coalescing (tests/notifications/
# test_timing.py, tests/e2e/test_timing.py) choose their window.
NOTIFICATIONS_COALESCE_SECONDS = 0

# Most tests sign people up, as under `make run`; the closed sign-up has its own
# (tests/users/test_sign_up_closed.py).
SIGN_UP_OPEN = True

# Pages render without a collectstatic run: no manifest in tests.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# WhiteNoise reads every file under STATIC_ROOT when its middleware starts, and
# the test client starts the middleware again for each test: once collectstatic
# has filled staticfiles/ (the attack tests and `make image` run it), that was
# 0.13 s a test, 40 % of tests/tasks' time. Looked up per request instead: the
# tests' pages never ask WhiteNoise for a file.
WHITENOISE_AUTOREFRESH = True

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: end-to-end tests start a real worker process that must
    # see the test database. One file per test run, so two runs never meet.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(gettempdir()) / f"taskmanager-test-{getpid()}.db")
    }
