"""Absolute links for emails: the worker has no request, so FRONTEND_URL says
where the site is."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def absolute_url(viewname: str, *args: object, **kwargs: object) -> str:
    """The link to a named URL, for an email: FRONTEND_URL plus the reversed path."""
    frontend: str = settings.FRONTEND_URL
    return frontend + reverse(viewname, args=args, kwargs=kwargs)
