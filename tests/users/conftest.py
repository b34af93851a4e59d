"""Fixtures for the accounts tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.factories import UserFactory
from users.models import User


@pytest.fixture
def recorded(monkeypatch: pytest.MonkeyPatch) -> Callable[..., list[User]]:
    """Replaces the outbox calls the users app makes; returns who was asked for.

    recorded("activation") / recorded("password_reset") list the users, in order.
    `recorded.answer` is what the stubs return (False mimics rate limiting).
    """
    calls: dict[str, list[User]] = {"activation": [], "password_reset": []}

    def record_activation(user: User, *, resend: bool = False) -> bool:
        calls["activation"].append(user)
        return lookup.answer

    def record_password_reset(user: User) -> bool:
        calls["password_reset"].append(user)
        return lookup.answer

    def lookup(kind: str) -> list[User]:
        return calls[kind]

    lookup.answer = True
    monkeypatch.setattr("users.forms.record_activation_email", record_activation)
    monkeypatch.setattr(
        "users.forms.record_password_reset_email", record_password_reset
    )
    return lookup


@pytest.fixture
def inactive_user(db: None) -> User:
    return UserFactory(is_active=False, email="waiting@example.com")
