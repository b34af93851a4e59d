"""End-to-end fixtures: a real worker process, real Redis, a real SMTP server."""

from __future__ import annotations

import pytest


@pytest.fixture
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    """The shared worker environment, with retries short enough for a test."""
    return {
        **worker_env,
        "NOTIFICATIONS_RETRY_BASE_DELAY": "0.2",
        "NOTIFICATIONS_RETRY_MAX_DELAY": "1",
        "NOTIFICATIONS_MAX_ATTEMPTS": "30",
        "EMAIL_TIMEOUT": "3",
    }
