from __future__ import annotations

from django.apps import AppConfig
from django.core import checks


class UsersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "users"

    def ready(self) -> None:
        from users.checks import rate_limits_can_be_enforced

        checks.register(rate_limits_can_be_enforced, checks.Tags.security)
