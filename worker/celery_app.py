"""The Celery app. Named celery_app.py so that it does not shadow the library."""

from __future__ import annotations

import os

import click
from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

# Job modules listed explicitly: our Django app named "tasks" makes autodiscovery
# ambiguous.
app = Celery("project", include=["worker.jobs"])
# Only Celery's own settings, never Django's whole configuration: workers show
# theirs to Flower and `celery inspect conf` (see worker/celery_config.py). Read
# when first needed, not at import.
app.config_from_object("worker.celery_config:CONFIG")


def started_command() -> str | None:
    """The celery sub-command this process runs (`worker`, `flower`), if any."""
    context = click.get_current_context(silent=True)
    return context.invoked_subcommand if context else None


def hand_flower_its_credentials() -> None:
    """Flower reads FLOWER_* from the environment only; our settings read the
    environment, then .env. Hand Flower what the settings read, so it asks for a
    password however it is started, and refuse to start it without one."""
    from django.conf import settings

    if not settings.FLOWER_BASIC_AUTH:
        raise SystemExit(
            "FLOWER_BASIC_AUTH is not set (environment or .env): "
            "Flower never runs without a password."
        )
    os.environ["FLOWER_BASIC_AUTH"] = settings.FLOWER_BASIC_AUTH


# `celery -A project flower` imports this module before Flower reads its options.
if started_command() == "flower":
    hand_flower_its_credentials()
