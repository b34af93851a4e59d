"""Admins manage accounts and change roles (groups) here."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from users.accounts import activate_account, reactivate_account
from users.models import AddressChange, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    list_display = (
        "username",
        "email",
        "first_name",
        "last_name",
        "roles",
        "is_active",
        "activated_at",
        "is_staff",
    )
    list_filter = ("groups", "is_active", "is_staff", "is_superuser")
    actions = ("activate_accounts",)
    readonly_fields = ("activated_at",)
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ())[:-1],
        ("Important dates", {"fields": ("last_login", "date_joined", "activated_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "email",
                    "first_name",
                    "last_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
        # Accounts created active here get no activation email.
        ("Status and role", {"fields": ("is_active", "groups")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "-"

    @admin.action(description="Activate selected accounts (new ones as Employees)")
    def activate_accounts(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Only an Admin switches a deactivated account back on, keeping its roles.
        activated = sum(
            activate_account(user) or reactivate_account(user) for user in queryset
        )
        self.message_user(
            request, f"Activated {activated} account(s).", messages.SUCCESS
        )


@admin.register(AddressChange)
class AddressChangeAdmin(admin.ModelAdmin[AddressChange]):
    """Confirmed moves of accounts to another address, to read only: which
    address an account had before, and whether it was taken back."""

    list_display = ("user", "old_email", "new_email", "changed_at", "spent_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "old_email", "new_email")
    date_hierarchy = "changed_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: AddressChange | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: AddressChange | None = None
    ) -> bool:
        return False
