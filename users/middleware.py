"""Pages show times in the signed-in person's own time zone."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from users.models import User


class TimeZoneMiddleware:
    """After AuthenticationMiddleware: activates request.user's time zone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User) and user.time_zone:
            with timezone.override(user.zone):
                return self.get_response(request)
        return self.get_response(request)
