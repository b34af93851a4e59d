"""Fixtures for the accounts tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.factories import UserFactory
from users.models import User
from users.signals import activation_requested, password_reset_requested


@pytest.fixture
def recorded() -> Iterator[Callable[[str], list[User]]]:
    """Listens to what the users app asks of notifications, beside its receivers.

    recorded("activation") / recorded("password_reset") list the users, in order.
    """
    calls: dict[str, list[User]] = {"activation": [], "password_reset": []}

    def on_activation(sender: type[User], user: User, **kwargs: Any) -> None:
        calls["activation"].append(user)

    def on_password_reset(sender: type[User], user: User, **kwargs: Any) -> None:
        calls["password_reset"].append(user)

    activation_requested.connect(on_activation, dispatch_uid="tests.activation")
    password_reset_requested.connect(on_password_reset, dispatch_uid="tests.reset")
    yield calls.__getitem__
    activation_requested.disconnect(dispatch_uid="tests.activation")
    password_reset_requested.disconnect(dispatch_uid="tests.reset")


@pytest.fixture
def inactive_user(db: None) -> User:
    return UserFactory(is_active=False, email="waiting@example.com")
