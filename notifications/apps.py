from __future__ import annotations

from django.apps import AppConfig
from django.conf import settings


class NotificationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"

    def ready(self) -> None:
        from notifications import signals

        # Off only for the benchmark's "notifications off" baseline.
        if settings.NOTIFICATIONS_ENABLED:
            signals.connect_receivers()
