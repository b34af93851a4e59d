"""Deliveries in the Django admin, and the mail that came back (read only);
django-celery-results registers job results."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from notifications import operations
from notifications.models import (
    Bounce,
    Complaint,
    Delivery,
    InboundMessage,
    Suppression,
)


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = (
        "id",
        "kind",
        "recipient",
        "reason",
        "status",
        "attempts",
        "created_at",
        "sent_at",
        "relay",
        "read_via",
        "short_error",
    )
    list_filter = ("status", "kind", "reason", "relay", "read_via", "created_at")
    search_fields = (
        "recipient__username",
        "recipient__email",
        "event_key",
        "message_id",
        "provider_message_id",
        "job_id",
    )
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    actions = ("resend_failed", "cancel_queued")
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # deliveries are recorded by events, never typed in

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Every field is read-only: a Save button would save nothing, so "Close".
        no_save = dict.fromkeys(
            ("show_save", "show_save_and_continue", "show_save_and_add_another"), False
        )
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), **no_save}
        )

    @admin.display(description="last error")
    def short_error(self, delivery: Delivery) -> str:
        return delivery.last_error[:80]

    # Actions move deliveries: only for who may change them, not who may only view.
    @admin.action(
        description="Re-send the selected failed emails", permissions=["change"]
    )
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = operations.resend(queryset.values_list("pk", flat=True))
        skipped = queryset.count() - len(ids)
        self.message_user(request, f"{len(ids)} email(s) queued to be sent again.")
        if skipped:
            self.message_user(
                request,
                f"{skipped} had not failed and were left alone.",
                messages.WARNING,
            )

    @admin.action(
        description="Cancel the selected queued emails", permissions=["change"]
    )
    def cancel_queued(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        ids = operations.cancel(queryset.values_list("pk", flat=True))
        self.message_user(request, f"{len(ids)} queued email(s) cancelled.")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin[Suppression]):
    """Addresses refused as unknown; deleting one lifts the suppression."""

    list_display = ("address", "reason", "created_at")
    search_fields = ("address",)
    readonly_fields = ("address", "reason", "delivery", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # suppressions come from the provider's replies


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Records of mail that came back: read, never written by hand."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: object | None = None
    ) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(ReadOnlyAdmin):
    """Every message taken at an address of ours, and what became of it:
    refused replies with their reason among them."""

    list_display = ("received_at", "kind", "outcome", "sender", "user", "reason")
    list_filter = ("kind", "outcome", "received_at")
    search_fields = ("sender", "message_id", "user__username", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "received_at"


@admin.register(Bounce)
class BounceAdmin(ReadOnlyAdmin):
    list_display = ("bounced_at", "address", "kind", "reason", "delivery")
    list_filter = ("kind",)
    search_fields = ("address",)


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin):
    list_display = ("reported_at", "user", "source", "delivery", "lifted_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
