"""Users with a role, for these tests.

tests/factories.py's ManagerFactory and EmployeeFactory set ``role`` as a plain
attribute, which replaces UserFactory's post-generation hook and reaches User()
as an unknown keyword; passing ``role=`` to UserFactory works.
"""

from __future__ import annotations

from typing import Any

from tests.factories import UserFactory
from users.models import Role, User


def make_manager(**kwargs: Any) -> User:
    return UserFactory(role=Role.MANAGER, **kwargs)


def make_employee(**kwargs: Any) -> User:
    return UserFactory(role=Role.EMPLOYEE, **kwargs)


def make_employees(count: int) -> list[User]:
    return [make_employee() for _ in range(count)]
