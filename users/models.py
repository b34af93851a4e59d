from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


def validate_time_zone(name: str) -> None:
    if name and name not in available_timezones():
        raise ValidationError(f"{name} is not a time zone.", code="invalid")


class Role(models.TextChoices):
    """Roles are Django groups, created by a data migration."""

    ADMIN = "Admin"
    MANAGER = "Manager"
    EMPLOYEE = "Employee"


class User(AbstractUser):
    email = models.EmailField("email address")
    # Set once, on the first activation, and never cleared: an account an Admin
    # deactivates keeps it, so no activation link or resend can switch it back on.
    activated_at = models.DateTimeField(
        "activated at",
        null=True,
        blank=True,
        editable=False,
        help_text="When the account was first activated; empty until then.",
    )

    # Where this person's pages and emails put their times (and their digest
    # hour); empty: the site's TIME_ZONE.
    time_zone = models.CharField(
        "time zone", max_length=64, blank=True, validators=[validate_time_zone]
    )
    # The address this person asked to move to, until they follow the link sent
    # there (users.accounts.confirm_email_change); empty when none is waiting.
    pending_email = models.EmailField(
        "new email address (waiting for confirmation)", blank=True
    )

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

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Accounts created or switched on as active (createsuperuser, the admin)
        # count as activated, like those activated through their link.
        if self.is_active and self.activated_at is None:
            self.activated_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "activated_at"}
        super().save(*args, **kwargs)

    @property
    def was_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def is_deactivated(self) -> bool:
        """Activated once, switched off since (by an Admin)."""
        return not self.is_active and self.was_activated

    def has_role(self, *roles: str) -> bool:
        if self.is_superuser:
            return True
        return any(group.name in roles for group in self.groups.all())

    @property
    def zone(self) -> ZoneInfo:
        """The time zone this person's emails and pages are written in."""
        return ZoneInfo(self.time_zone or settings.TIME_ZONE)

    @property
    def is_admin(self) -> bool:
        """Admins also run the mail pipeline: pause, cancel, lift suppressions."""
        return self.has_role(Role.ADMIN)

    @property
    def is_manager(self) -> bool:
        """Managers and Admins manage projects and tasks."""
        return self.has_role(Role.ADMIN, Role.MANAGER)


class AddressChange(models.Model):
    """A confirmed move of an account to another email address.

    The address it left is emailed a link that takes the account back
    (users.accounts.restore_address): whoever moved it may not be its owner. The
    link works once, and not after an earlier change of the account was undone.
    """

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="address_changes"
    )
    old_email = models.EmailField("address left")
    new_email = models.EmailField("address moved to")
    changed_at = models.DateTimeField("changed at", default=timezone.now)
    # Its restore link is spent: followed, or an earlier change was undone since.
    spent_at = models.DateTimeField("restore link spent at", null=True, blank=True)

    class Meta:
        ordering = ["-changed_at"]

    def __str__(self) -> str:
        return f"{self.user}: {self.old_email} → {self.new_email}"
