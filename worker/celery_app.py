"""The Celery app. Named celery_app.py so that it does not shadow the library."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Listed explicitly: our Django app named "tasks" makes autodiscovery ambiguous.
app.conf.include = ["worker.jobs"]
