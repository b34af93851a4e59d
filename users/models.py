from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower


class Role(models.TextChoices):
    """Roles are Django groups, created by a data migration."""

    ADMIN = "Admin"
    MANAGER = "Manager"
    EMPLOYEE = "Employee"


class User(AbstractUser):
    email = models.EmailField("email address")

    objects = UserManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_user_email_ci_unique",
                violation_error_message="An account with this email already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser:
            return True
        return any(group.name in roles for group in self.groups.all())

    @property
    def zone(self) -> ZoneInfo:
        """The time zone this person's emails and pages are written in."""
        return ZoneInfo(settings.TIME_ZONE)

    @property
    def is_admin(self) -> bool:
        """Admins also run the mail pipeline: pause, cancel, lift suppressions."""
        return self.has_role(Role.ADMIN)

    @property
    def is_manager(self) -> bool:
        """Managers and Admins manage projects and tasks."""
        return self.has_role(Role.ADMIN, Role.MANAGER)
