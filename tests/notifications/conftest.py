"""Fixtures for the notification tests."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def plain_static_storage(settings: object) -> None:
    """Pages render without a collectstatic manifest (DEBUG is off in tests)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        },
    }


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    """Factories hash a password per user; tests creating a hundred need speed."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
