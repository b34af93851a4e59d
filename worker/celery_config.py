"""Celery's configuration: Django's CELERY_* settings under Celery's own names.

Only those. A worker hands its configuration to anyone who asks (`celery inspect
conf`, Flower's worker page, Flower's /api/workers): loading Django's settings
object whole, as `config_from_object("django.conf:settings", namespace="CELERY")`
does, made every Django setting part of it, FLOWER_BASIC_AUTH, the SMTP login and
CELERY_BROKER_URL's password among them. Celery masks broker_url in those replies.

Imported by Celery when it first needs its configuration, not at start-up.
"""

from __future__ import annotations

from typing import Any

from celery.app.defaults import SETTING_KEYS
from django.conf import settings

PREFIX = "CELERY_"


def celery_settings() -> dict[str, Any]:
    """{"task_acks_late": True, ...} for every CELERY_<name> Celery knows.

    Our own CELERY_* names (CELERY_VISIBILITY_TIMEOUT) are not Celery's and stay out.
    """
    names = (name for name in dir(settings) if name.startswith(PREFIX))
    pairs = ((name.removeprefix(PREFIX).lower(), name) for name in names)
    return {key: getattr(settings, name) for key, name in pairs if key in SETTING_KEYS}


CONFIG = celery_settings() | {
    # Read by Celery's Django fixup, which otherwise closes every database
    # connection before and after each job: a new PostgreSQL connection per
    # job cost more CPU than the job's own queries (bench/RESULTS.md). Django's
    # CONN_MAX_AGE and health checks look after a kept connection; the fixup
    # still closes them every 2 x this many jobs.
    "CELERY_DB_REUSE_MAX": 100,
}
