from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Delivery(models.Model):
    """One email to one recipient: the outbox row the worker claims and sends."""

    class Kind(models.TextChoices):
        TASK_ASSIGNED = "task_assigned", "Task assigned"
        TASK_DELETED = "task_deleted", "Task deleted"
        ACTIVATION = "activation", "Account activation"
        PASSWORD_RESET = "password_reset", "Password reset"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="deliveries"
    )
    # One row per event and recipient: recording the same event twice is a no-op.
    event_key = models.CharField(max_length=200, unique=True)
    # Ids and the snapshot the email needs (never a token, never a body).
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The Celery job run that last claimed the row: written by the worker's claim,
    # so empty until a worker takes it. Matches django-celery-results' task_id.
    job_id = models.CharField(max_length=255, blank=True)
    # Set by the conditional update that claims the row for one job run.
    claim_token = models.CharField(max_length=36, blank=True, db_index=True)
    smtp_reply = models.CharField(max_length=500, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # When the delivery is due: the sweep re-dispatches queued rows a grace after it,
    # and so leaves alone those waiting for a retry countdown.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["status", "claimed_at"]),
            models.Index(fields=["recipient", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.recipient} ({self.status})"
