from __future__ import annotations

from django.apps import AppConfig


class WorkerConfig(AppConfig):
    """Installed so that the web process publishes what notifications records.

    The dependency runs one way: worker imports notifications, which announces
    due deliveries with a signal and knows nothing of Celery.
    """

    name = "worker"

    def ready(self) -> None:
        from notifications.signals import deliveries_due
        from worker.jobs import publish_due_deliveries

        deliveries_due.connect(
            publish_due_deliveries, dispatch_uid="worker.publish_due_deliveries"
        )
