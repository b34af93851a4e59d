from __future__ import annotations

from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


@cache
def time_zone_names() -> frozenset[str]:
    """The time zone database's names, read once per process: zoneinfo walks
    tzdata's files at every call (25 ms here, on each sign-up and profile)."""
    return frozenset(available_timezones())


def validate_time_zone(name: str) -> None:
    if name and name not in time_zone_names():
        raise ValidationError(f"{name} is not a time zone.", code="invalid")


class Role(models.TextChoices):
    """Roles are Django groups, created by a data migration."""

    ADMIN = "Admin"
    MANAGER = "Manager"
    EMPLOYEE = "Employee"


class Theme(models.TextChoices):
    """How the pages look for this person: light, dark, or as their system says."""

    SYSTEM = "", "As my system"
    LIGHT = "light", "Light"
    DARK = "dark", "Dark"


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
    # When an Admin let this person be assigned tasks and mentioned (team page).
    # Empty for someone who signed up themselves until then; set at once for an
    # invited person and for accounts created active (createsuperuser, the admin).
    approved_at = models.DateTimeField(
        "approved at",
        null=True,
        blank=True,
        help_text="When an Admin approved the account; empty until then.",
    )
    # Light, dark, or (empty) whatever the person's system prefers.
    theme = models.CharField(
        "appearance", max_length=5, choices=Theme.choices, blank=True, default=""
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
            changed = {"activated_at"}
            if self.approved_at is None:
                self.approved_at = self.activated_at
                changed.add("approved_at")
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], *changed}
        super().save(*args, **kwargs)

    @property
    def was_activated(self) -> bool:
        return self.activated_at is not None

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None

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

    @property
    def role(self) -> str:
        """The strongest role this person holds, as the team page and the header
        say it ("" for none)."""
        if self.is_superuser:
            return Role.ADMIN
        held = {group.name for group in self.groups.all()}
        return next((role.value for role in Role if role in held), "")


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


class Invitation(models.Model):
    """An Admin asked someone to join the team (users.accounts.invite).

    The worker emails `email` a link (users.tokens.invitation_token) that
    creates the account, with `role`, once its holder chooses a password.
    Accepted or revoked, the link stops working; it also expires.
    """

    email = models.EmailField("email address")
    first_name = models.CharField("first name", max_length=150, blank=True)
    last_name = models.CharField("last name", max_length=150, blank=True)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.EMPLOYEE)
    invited_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField("invited at", default=timezone.now)
    # Each sending (the first and every "send again") dates the link it carries.
    sent_at = models.DateTimeField("last sent at", default=timezone.now)
    accepted_at = models.DateTimeField("accepted at", null=True, blank=True)
    account = models.OneToOneField(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invitation",
    )
    revoked_at = models.DateTimeField("revoked at", null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invitation of {self.email} as {self.role}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None
