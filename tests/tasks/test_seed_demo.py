"""`seed_demo` makes a superuser with a shared password: development only."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def development(settings: object) -> object:
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "demo-Fj3kL9qPzX"
    return settings


def test_it_seeds_the_demo_accounts_in_development(development: object) -> None:
    call_command("seed_demo", stdout=None)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser
    assert admin.check_password("demo-Fj3kL9qPzX")


def test_it_refuses_with_debug_off(development: object) -> None:
    development.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG=True"):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()


@pytest.mark.parametrize("password", ["", "change-me", "change-me-too", "short#1"])
def test_it_refuses_a_placeholder_or_short_password(
    development: object, password: str
) -> None:
    development.DEMO_PASSWORD = password
    with pytest.raises(CommandError, match="DEMO_PASSWORD"):
        call_command("seed_demo")
    assert not User.objects.filter(username="admin").exists()
