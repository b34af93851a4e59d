"""Settings read at start-up: each case imports them in a fresh process
(tests.support.fresh_python)."""

from __future__ import annotations

import ast
import os
import random
import secrets
import string
import subprocess
from pathlib import Path

import pytest

from tests.support import fresh_python

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
    return fresh_python.run(
        code, cwd=ROOT, timeout=60,
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


@pytest.mark.parametrize(
    ("setting", "env"),
    [
        ("DB_PASSWORD", {"DB_NAME": "tasks", "DB_PASSWORD": "change-me"}),
        ("FLOWER_BASIC_AUTH", {"FLOWER_BASIC_AUTH": "ops:change-me"}),
        ("FLOWER_BASIC_AUTH", {"FLOWER_BASIC_AUTH": "ops:short"}),
        ("METRICS_TOKEN", {"METRICS_TOKEN": "prometheus"}),
        ("FRONTEND_URL", {"FRONTEND_URL": "http://tasks.example.com"}),
    ],
)
def test_placeholders_and_weak_values_are_refused_with_debug_off(
    setting: str, env: dict[str, str]
) -> None:
    started = start(**env)
    assert started.returncode != 0
    assert setting in started.stderr
    assert start(DEBUG="True", **env).returncode == 0


def test_real_values_start() -> None:
    started = start(
        "s.FRONTEND_URL",
        DB_NAME="tasks", DB_PASSWORD=secrets.token_urlsafe(16),
        FLOWER_BASIC_AUTH=f"ops:{secrets.token_urlsafe(16)}",
        METRICS_TOKEN=secrets.token_urlsafe(32),
        FRONTEND_URL="https://tasks.example.com",
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    # A loopback address serves only this machine: plain HTTP is fine there.
    assert start(FRONTEND_URL="http://127.0.0.1:8000").returncode == 0


def test_an_esp_s_key_and_url_reach_anymail_under_its_names() -> None:
    started = start(
        "s.ANYMAIL",
        EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
        ESP_API_KEY="server-token",
        ESP_API_URL="https://api.eu.example/",
        ANYMAIL_WEBHOOK_SECRET="esp:webhook-password",
        EMAIL_TIMEOUT="7",
    )
    assert started.returncode == 0, started.stderr
    assert ast.literal_eval(started.stdout) == {
        "REQUESTS_TIMEOUT": 7,
        "WEBHOOK_SECRET": "esp:webhook-password",
        "POSTMARK_SERVER_TOKEN": "server-token",
        "POSTMARK_API_URL": "https://api.eu.example/",
    }


def test_per_domain_rates_are_read_and_nonsense_is_refused() -> None:
    started = start(
        "s.EMAIL_DOMAIN_RATE_LIMITS",
        EMAIL_DOMAIN_RATE_LIMITS="Outlook.com=5, gmail.com=20.5",
    )
    assert started.stdout.strip() == "{'outlook.com': 5.0, 'gmail.com': 20.5}"
    for nonsense in ("outlook.com", "outlook.com=fast", "=5", "outlook.com=0"):
        refused = start(EMAIL_DOMAIN_RATE_LIMITS=nonsense)
        assert refused.returncode != 0
        assert "EMAIL_DOMAIN_RATE_LIMITS" in refused.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DKIM_DOMAIN": "example.com"}, "DKIM needs all three"),
        (
            {"EMAIL_FALLBACK_USE_TLS": "True", "EMAIL_FALLBACK_USE_SSL": "True"},
            "EMAIL_FALLBACK_USE_TLS (STARTTLS) and EMAIL_FALLBACK_USE_SSL",
        ),
    ],
)
def test_half_a_dkim_or_fallback_setting_is_refused(
    env: dict[str, str], says: str
) -> None:
    started = start(**env)
    assert started.returncode != 0
    assert says in started.stderr


def test_a_password_reset_link_lasts_an_hour_and_activation_three_days() -> None:
    started = start("(s.PASSWORD_RESET_LINK_TIMEOUT, s.PASSWORD_RESET_TIMEOUT)")
    assert started.stdout.strip() == "(3600, 259200)"


@pytest.mark.parametrize("seconds", ["0", "259201"])
def test_a_reset_link_outlasting_the_other_links_is_refused(seconds: str) -> None:
    started = start(PASSWORD_RESET_LINK_TIMEOUT=seconds)
    assert started.returncode != 0
    assert "PASSWORD_RESET_LINK_TIMEOUT must be positive" in started.stderr
