"""Settings for the peers `make bench` measures the product against: the product's
settings, plus django-post-office and django-celery-email.

Bench-only (requirements-bench.txt, installed in .venv-bench): the product never
imports this module and its environment never holds these packages.
"""

from __future__ import annotations

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "post_office", "djcelery_email"]

# django-post-office: mail.send() queues a row; send_queued_mail sends them.
POST_OFFICE = {
    "BACKENDS": {"default": "django.core.mail.backends.smtp.EmailBackend"},
    "DEFAULT_PRIORITY": "medium",  # queued, not sent in the request
    "MESSAGE_ID_ENABLED": True,
}

# django-celery-email: the backend publishes chunks of 10 to Celery; a worker of
# its own (queue "peer") sends them over Django's SMTP backend.
CELERY_EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
CELERY_EMAIL_CHUNK_SIZE = 10
CELERY_EMAIL_TASK_CONFIG = {"queue": "peer"}
CELERY_IMPORTS = ["djcelery_email.tasks"]
