"""What every page's header needs from the users app."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def sign_up(request: HttpRequest) -> dict[str, bool]:
    """Whether to offer "Sign up": not when the team joins by invitation only."""
    return {"sign_up_open": settings.SIGN_UP_OPEN}
