"""Typing for views behind login_required: their request.user is a User."""

from __future__ import annotations

from django.http import HttpRequest

from users.models import User


class AuthenticatedRequest(HttpRequest):
    """What django-stubs recommends: narrow request.user for signed-in views."""

    user: User
