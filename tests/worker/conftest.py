"""Fixtures for the worker tests: they send over real SMTP to `smtp_server`."""

from __future__ import annotations

import pytest

from devtools.smtp import SMTPServer


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: object) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def smtp(smtp_settings: SMTPServer) -> SMTPServer:
    """The real SMTP server this process's worker code talks to."""
    return smtp_settings
