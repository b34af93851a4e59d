"""What the notifications app announces. worker/ listens and publishes the jobs.

notifications/ knows nothing of Celery: worker/ imports notifications, never the
other way round.
"""

from __future__ import annotations

from django.dispatch import Signal

# Deliveries were recorded (or queued again) and their transaction committed:
# sent with delivery_ids=[...], urgent=True for account emails, which go in a
# lane of their own, and countdown: the seconds until the first of them may go
# (a coalescing window; 0: now). The worker app connects the receiver that
# publishes them (worker/apps.py); were none connected, the sweep would.
deliveries_due = Signal()
