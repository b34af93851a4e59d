from __future__ import annotations

import pytest

from tests.tasks.people import make_employee, make_manager
from users.models import User


@pytest.fixture
def manager(db: None) -> User:
    return make_manager()


@pytest.fixture
def employee(db: None) -> User:
    return make_employee()
