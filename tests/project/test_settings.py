"""Settings read at start-up: each case imports them in a fresh process."""

from __future__ import annotations

import os
import random
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Seeded: every pytest-xdist worker must collect the same parameters.
KEYS = random.Random(20)
URL_SAFE = string.ascii_letters + string.digits + "-_"


def random_key(alphabet: str, length: int) -> str:
    """What secrets.token_urlsafe / token_hex make, from the seeded generator."""
    return "".join(KEYS.choice(alphabet) for _ in range(length))


PRINT = "from django.conf import settings as s; print(repr({expr}))"


def start(expr: str = "1", **env: str) -> subprocess.CompletedProcess[str]:
    """Load the settings with DEBUG off and `env`; print `expr` of them."""
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SECRET_KEY", "DEBUG", "BEHIND_PROXY"))
    }
    code = "import django; django.setup(); " + PRINT.format(expr=expr)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**base, "DJANGO_SETTINGS_MODULE": "project.settings", "DEBUG": "False",
             "SECRET_KEY": secrets.token_urlsafe(50), **env},
    )  # fmt: skip


@pytest.mark.parametrize(
    "weak_key",
    [
        "abc",
        "change-me-to-a-long-random-string",
        "x" * 80,
        "abcdefghij" * 6,  # ten different characters, one short run repeated
        "0123456789" * 6,
        "django-insecure-" + random_key(URL_SAFE, 67),
        "abcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcabcab",
    ],
)
def test_a_weak_secret_key_is_refused_with_debug_off(weak_key: str) -> None:
    started = start(SECRET_KEY=weak_key)
    assert started.returncode != 0
    assert "SECRET_KEY is missing" in started.stderr
    assert "weak" in started.stderr


def test_a_missing_secret_key_is_refused_with_debug_off() -> None:
    assert start(SECRET_KEY="").returncode != 0


@pytest.mark.parametrize(
    "strong_key",
    [
        random_key(URL_SAFE, 67),  # secrets.token_urlsafe(50)
        random_key("0123456789abcdef", 64),  # secrets.token_hex(32)
        "test-only-secret-key-that-is-long-enough-for-django-checks",  # make test's
    ],
)
def test_a_long_random_secret_key_starts(strong_key: str) -> None:
    started = start("s.SECRET_KEY == '" + strong_key + "'", SECRET_KEY=strong_key)
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "True"


def test_debug_on_starts_with_a_weak_key_for_local_development() -> None:
    assert start(DEBUG="True", SECRET_KEY="abc").returncode == 0


def test_the_proxy_header_is_not_trusted_unless_configured() -> None:
    started = start("getattr(s, 'SECURE_PROXY_SSL_HEADER', None)")
    assert started.stdout.strip() == "None"


def test_behind_a_proxy_its_https_header_is_trusted() -> None:
    started = start("s.SECURE_PROXY_SSL_HEADER", BEHIND_PROXY="True")
    assert started.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')"
