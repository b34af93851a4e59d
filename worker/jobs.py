"""Celery jobs. Arguments are ids only: no addresses, tokens or bodies."""

from __future__ import annotations
