"""Shared fixtures. Factories live in tests/factories.py."""

from __future__ import annotations

import pytest

from tests.factories import EmployeeFactory, ManagerFactory
from users.models import User


@pytest.fixture
def manager(db: None) -> User:
    return ManagerFactory()


@pytest.fixture
def employee(db: None) -> User:
    return EmployeeFactory()
