"""Absolute links for emails: the worker has no request, so FRONTEND_URL says
where the site is.

A notification's links to the app carry `?n=<token>`, the signed id of its
delivery: following one marks that item of the reader's inbox read ("opened
from the email"; notifications/middleware.py). The token names a row, not a
person, and signs no one in: it counts only for its recipient, signed in.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

# The query parameter that carries the token.
READ_PARAMETER = "n"
READ_SIGNER = signing.Signer(salt="notifications.read")


def absolute_url(viewname: str, *args: object, **kwargs: object) -> str:
    """The link to a named URL, for an email: FRONTEND_URL plus the reversed
    path (remembered when it names no token: the same few paths are in every
    email of a batch)."""
    frontend: str = settings.FRONTEND_URL
    if kwargs:
        return frontend + reverse(viewname, args=args, kwargs=kwargs)
    return frontend + site_path(viewname, *args)


@functools.lru_cache(maxsize=1024)
def site_path(viewname: str, *args: object) -> str:
    return reverse(viewname, args=args)


def reading(url: str, delivery_id: int | None) -> str:
    """The link, marking this delivery read when followed; unchanged for a
    delivery never saved (a preview)."""
    if delivery_id is None:
        return url
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}{urlencode({READ_PARAMETER: read_token(delivery_id)})}"


def read_token(delivery_id: int) -> str:
    """Signed, never expiring: an old email's link still counts (the row may be
    gone by then: the retention, and then nothing happens)."""
    return READ_SIGNER.sign(str(delivery_id))


def read_token_delivery(token: str) -> int | None:
    """The delivery id of a genuine token, None for anything else."""
    try:
        value = READ_SIGNER.unsign(token)
    except signing.BadSignature:
        return None
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None
